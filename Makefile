# Two commands do all the set-up on a fresh machine:
#   make run    create .venv if missing, install, build the index on first run, start the chat UI
#   make test   create .venv if missing, install (with test extras, browser, local LLM), run all tests
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PORT ?= 8501
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test setup setup-dev browser ingest lint unit integration e2e eval eval-everyday eval-scifact-qa eval-scifact quality-table train-reader bench clean

$(PY):
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# setup.py maps corpus/ and prompts/ into assistant._data, so setuptools makes the editable
# install a meta path finder and says so in an "Editable installation" note (InformationOnly);
# pip relays a local project's build warnings even under -q. The note is information only.
EDITABLE := PYTHONWARNINGS="ignore:Editable installation" $(PIP) install -q -e

# torch first, pinned to the CPU wheel: a bare `torch` requirement would pull a CUDA build.
$(STAMP): $(PY) pyproject.toml
	$(PIP) install -q torch==2.13.0
	$(EDITABLE) .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(EDITABLE) '.[dev,llm,scale]'
	touch $(DEV_STAMP)

setup: $(STAMP)

setup-dev: $(DEV_STAMP) browser

browser:
	@bash scripts/install_browser.sh

ingest: setup
	$(VENV)/bin/assistant ingest

run: setup
	$(VENV)/bin/assistant ingest
	$(VENV)/bin/streamlit run streamlit_app.py --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

# ruff (lint and format) on everything; mypy (with the pydantic plugin) on the library.
LINTED := assistant tests eval scripts streamlit_app.py setup.py
lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/mypy assistant

# README's test figures come from this run (scripts/readme_figures.py); TEST_START is taken
# when make starts, so the total includes install and lint.
TEST_START := $(shell date +%s)
test: setup-dev lint
	$(PY) -m pytest -q --junitxml=test-output/junit.xml
	$(PY) scripts/readme_figures.py --junit test-output/junit.xml --since $(TEST_START)

unit: $(DEV_STAMP)
	$(PY) -m pytest -q -m unit

integration: $(DEV_STAMP)
	$(PY) -m pytest -q -m integration

e2e: setup-dev
	$(PY) -m pytest -q -m e2e

eval: setup
	$(VENV)/bin/assistant eval

# The 99 everyday-words questions (dev and test), held to their own targets (targets.py).
eval-everyday: setup
	$(VENV)/bin/assistant eval --qa eval/everyday_qa.jsonl

# The 40 SciFact questions over all 5,183 abstracts with an empty lexicon (second-domain check).
# The first run indexes the abstracts under .cache/eval-corpora/ (long on busy cores); reruns reuse it.
eval-scifact-qa: setup
	$(VENV)/bin/assistant eval --qa eval/scifact_qa.jsonl --corpus ../shared/datasets/scifact/corpus.jsonl

eval-scifact: setup
	$(VENV)/bin/assistant eval --beir ../shared/datasets/scifact

# The issue 22 table from the kept results (eval/results/{gold-split,everyday-split,scifact-qa}).
quality-table: setup
	$(PY) eval/quality_table.py

# Retrain the reader's scorers on the dev splits; writes assistant/answering/reader_model.json.
train-reader: setup
	$(PY) -m assistant.evaluation.train_reader

# Search and ingestion at 1k/100k/1M chunks, then Milvus Lite vs FAISS at 100k and Ray vs one
# process (each prints JSON; see bench/README.md). About 8 minutes on 2 cores.
bench: setup-dev
	$(VENV)/bin/assistant bench
	$(PY) scripts/bench_scale.py milvus --n 100000 > bench/milvus.json
	$(PY) scripts/bench_scale.py ray --repeat 4 > bench/ray.json

clean:
	rm -rf index/gen-* index/CURRENT .cache eval/reports bench/out build
