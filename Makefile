# One command runner; CI (.ci/run) reuses these recipes.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
ARTIFACTS ?= artifacts
# Built artifacts are cached outside the clone, keyed by source bytes and build parameters.
CACHE ?= $(HOME)/.cache/polyglot-geometry
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1

.PHONY: setup run-setup artifacts encoder-spaces run test test-fast lint openapi bench deploy-check image compose-smoke clean

# The virtual environment with one extra of pyproject.toml installed (editable).
define install
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[$(1)]'
endef

# Everything: the service, the build, and the tools the tests, lint and benches use.
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(call install,dev)
	touch $@ $(VENV)/.installed-run

# What serving and building the packaged artifacts need (the `build` extra), without the test and
# lint tools: a first `make run` installs ~0.6 GB less (a new venv of 1.3 GB instead of 1.9 GB).
run-setup: $(VENV)/.installed-run

$(VENV)/.installed-run: pyproject.toml
	$(call install,build)
	touch $@

artifacts: run-setup
	sh deploy/build-artifacts.sh $(PY) $(ARTIFACTS) $(CACHE)

# The encoder spaces (space=encoder: 25,000 words a lexicon language, encoded by the model's own
# encoder) of the two packaged models that ship their encoder. `make run` builds them behind serving,
# after the artifacts, and the service picks each up when it lands; this target builds them in the
# foreground (e5 ~80 min on 2 cores, USE ~18 min: docs/benchmarks.md). ENCODER_WORDS=N encodes N
# words a language instead.
ENCODER_WORDS ?=
encoder-spaces: artifacts
	$(PY) -m loaders encoder-space $(ARTIFACTS)/use-multilingual-v3 $(if $(ENCODER_WORDS),--per-language $(ENCODER_WORDS))
	$(PY) -m loaders encoder-space $(ARTIFACTS)/multilingual-e5-small $(if $(ENCODER_WORDS),--per-language $(ENCODER_WORDS))

# Serves each packaged model as soon as its artifact is built (smallest first), building the rest behind.
run: run-setup
	$(PY) -m service --host $(HOST) --port $(PORT) --workers $(WORKERS) --artifacts $(ARTIFACTS) \
		--build-missing $(CACHE)

test: setup artifacts
	$(PY) -m pytest -q

# The edit-test loop: pure unit tests on tiny matrices (no artifacts, no servers), under a minute.
test-fast: setup
	$(PY) -m pytest -q -m "not real and not e2e and not build" tests/unit

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports  # the layer rules of docs/architecture.md (pyproject.toml: tool.importlinter)

openapi: setup
	$(PY) -m service.openapi > openapi/openapi.json

# The API image from the artifacts built above (seconds when they are; deploy/image.sh).
image: artifacts
	sh deploy/image.sh $(ARTIFACTS)

# docker compose up for real: build, up, check what a user relies on, down (deploy/compose-smoke.sh).
compose-smoke: artifacts
	sh deploy/compose-smoke.sh $(ARTIFACTS)

# Deployment files, checked without a Docker engine (see deploy/check.sh).
deploy-check: setup
	sh deploy/check.sh $(PY)

# Every script behind docs/benchmarks.md that starts what it needs (long: about an hour on 2 cores).
# bench/http_latency.py and bench/fuzz.sh measure a service you started (`make run`) and are run by hand.
bench: setup artifacts
	$(PY) bench/request_path.py --seconds 15
	$(PY) bench/abuse.py --requests 300
	$(PY) bench/analyses.py
	$(PY) bench/neighbors.py $(ARTIFACTS)/multilingual-e5-small 300
	$(PY) bench/neighbors.py $(ARTIFACTS)/use-multilingual-v3 300
	$(PY) bench/separability.py $(ARTIFACTS)/multilingual-e5-small
	$(PY) bench/separability.py $(ARTIFACTS)/use-multilingual-v3
	$(PY) bench/neighbors.py $(ARTIFACTS)/llama2-vocab-wordllama 300
	$(PY) bench/separability.py $(ARTIFACTS)/llama2-vocab-wordllama
	$(PY) bench/cldr_dictionary.py ru es fr de
	$(PY) bench/cldr_dictionary.py --reverse ru es de
	$(PY) bench/cldr_dictionary.py --pools ru es de fr
	$(PY) bench/text_queries.py multilingual-e5-small
	$(PY) bench/text_queries.py llama2-vocab-wordllama
	$(PY) bench/vocabulary_health.py
	$(PY) bench/lexicon.py en ru de
	$(PY) bench/freedict.py --sizes
	$(PY) bench/bli.py --models e5,use,llama --spaces input,encoder
	$(PY) bench/lookups.py e5 use
	$(PY) bench/languages.py
	$(PY) bench/load.py --seconds 60 --connections 50
	$(PY) bench/growth.py
	$(PY) bench/loop_latency.py --seconds 8
	$(PY) bench/fairness.py --seconds 20
	$(PY) bench/work_budget.py
	$(PY) bench/idle_memory.py --rounds 10

clean:
	rm -rf $(VENV) $(ARTIFACTS) .pytest_cache .mypy_cache .ruff_cache
