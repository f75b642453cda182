# polyglot-geometry: the API serving the packaged real models.
#   make image        builds it from prebuilt artifacts (the ones `make artifacts` made: seconds of
#                     copying); without them in deploy/artifacts/ the image builds them (~10 min).
# Stages: `runtime-venv` installs what serving imports (no build-only package, no compiler);
# `artifacts` takes the prebuilt artifacts or builds them with the build extra; the final stage is
# the runtime venv, the artifacts and the code, run as a non-root user.

# The base: python:3.11-slim, or a stand-in of its own name where no registry answers
# (deploy/base-images.sh sets PYTHON_IMAGE; compose passes it as this argument).
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE} AS runtime-venv
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# the dependencies first, from pyproject.toml alone: a code change does not reinstall them
COPY pyproject.toml ./
RUN python -m venv /opt/venv \
    && python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; print('\n'.join(p['dependencies'] + p['optional-dependencies']['server']))" > requirements.txt \
    && /opt/venv/bin/pip install -r requirements.txt
COPY README.md ./
COPY geometry ./geometry
COPY loaders ./loaders
COPY service ./service
COPY polyglot_client ./polyglot_client
RUN /opt/venv/bin/pip install --no-deps . && rm -rf /app/build /app/*.egg-info

FROM runtime-venv AS runtime-lean
# what serving never runs: the packages' own test suites, and pip itself (~70 MB)
RUN find /opt/venv/lib -depth -type d -name tests -path "*/site-packages/*" -exec rm -rf {} + \
    && /opt/venv/bin/python -m pip uninstall -q -y pip setuptools

FROM runtime-venv AS artifacts
COPY deploy/build-artifacts.sh ./deploy/build-artifacts.sh
# make image links the artifacts `make artifacts` built into deploy/artifacts/ (else: only its README).
# Copied to where they are served from: moving them there would copy them again, into a layer of
# its own (~2 GB more of every build's layers). The service reads only the folders here.
COPY deploy/artifacts/ /app/artifacts/
RUN if [ -f /app/artifacts/multilingual-e5-small/manifest.json ] \
        && [ -f /app/artifacts/use-multilingual-v3/manifest.json ] \
        && [ -f /app/artifacts/llama2-vocab-wordllama/manifest.json ]; then \
        for m in /app/artifacts/*/; do /opt/venv/bin/python -m loaders verify "$m"; done; \
    else \
        /opt/venv/bin/pip install ".[build]" \
        && sh deploy/build-artifacts.sh /opt/venv/bin/python /app/artifacts; \
    fi

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    POLYGLOT_ARTIFACTS=/app/artifacts \
    POLYGLOT_JOBS_DB=/tmp/polyglot/jobs.sqlite \
    POLYGLOT_WORKERS=2
RUN useradd --system --uid 10001 --home-dir /app polyglot
WORKDIR /app
COPY --from=runtime-lean /opt/venv /opt/venv
COPY --from=artifacts --chown=polyglot:polyglot /app/artifacts /app/artifacts
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=2).status == 200 else 1)"]
CMD ["sh", "-c", "exec python -m service --host 0.0.0.0 --port 8000 --workers ${POLYGLOT_WORKERS}"]
