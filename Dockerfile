# polyglot-geometry: the API with the packaged real models built into artifacts at image build time.
# Stage 1 installs the project into a virtual environment and builds the artifacts (the same script
# `make artifacts` and CI run); stage 2 copies both onto a slim base and runs as a non-root user.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY geometry ./geometry
COPY loaders ./loaders
COPY service ./service
COPY deploy/build-artifacts.sh ./deploy/build-artifacts.sh
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install . \
    && sh deploy/build-artifacts.sh /opt/venv/bin/python /app/artifacts

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    POLYGLOT_ARTIFACTS=/app/artifacts \
    POLYGLOT_WORKERS=2
RUN useradd --system --uid 10001 --home-dir /app polyglot
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=polyglot:polyglot /app/artifacts /app/artifacts
COPY deploy/build-artifacts.sh /app/deploy/build-artifacts.sh
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2).status == 200 else 1)"]
CMD ["sh", "-c", "exec python -m service --host 0.0.0.0 --port 8000 --workers ${POLYGLOT_WORKERS}"]
