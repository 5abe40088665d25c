# Thin wrappers: each target is one command; `make help` (or plain `make`) lists them. The environment (.venv) is built from
# requirements.lock on first use and rebuilt only when the lock or pyproject.toml changes.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.mlcourse-installed
PORT   ?= 8888
# extra JupyterLab flags, e.g. LAB_ARGS=--no-browser; root (containers) needs --allow-root
LAB_ARGS ?=
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

# plain `make` lists the commands (it used to build the environment and stop there)
.DEFAULT_GOAL := help
.PHONY: help lab test test-fast lint format release student-edition grade bench data doctor lock clean mutants stability times claims

$(STAMP): requirements.lock pyproject.toml scripts/bootstrap.sh
	@VENV=$(VENV) bash scripts/bootstrap.sh
	@touch $@

help:  ## list these commands
	@awk -F ':.*## ' '/^[a-z][a-z-]*:.*## /{printf "  make %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# the server's root is the course folder (a file given on the command line would make its
# folder the root, hiding datasets/); 00_start_here opens first
lab: $(STAMP)  ## open the course in JupyterLab
	JUPYTER_CONFIG_PATH="$(CURDIR)/etc/jupyter$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
		$(VENV)/bin/jupyter lab --port=$(PORT) $(ROOT_FLAG) --ServerApp.root_dir="$(CURDIR)" \
		--LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb $(LAB_ARGS)

test: $(STAMP)  ## the whole test suite (what CI runs)
	$(PY) -m pytest -n 2 --dist loadgroup

test-fast: $(STAMP)  ## unit tests only, no notebooks, kernels or browser
	$(PY) -m pytest -m "not slow and not browser" -n 2

lint: $(STAMP)  ## ruff: lint and format check
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: $(STAMP)  ## ruff: fix what it can and format
	$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

release: $(STAMP)  ## regenerate notebooks/ from solutions/ (FORCE=1 overwrites edited learner notebooks)
	$(PY) -m mlcourse release $(if $(FORCE),--force)

student-edition: $(STAMP)  ## classroom edition without solutions: make student-edition DIR=../class [RECORDED=1]
	$(PY) -m mlcourse release --student-edition $(or $(DIR),student-edition) $(if $(RECORDED),--recorded-choices)

grade: $(STAMP)  ## make grade SUBMISSIONS=subs.zip NOTEBOOK=01 (or EXERCISES=hw1/hw1_checks.py) SEED_FILE=~/.mlcourse-seed [ROSTER=roster.csv ASSIGNMENT='Notebook 01 (4711)' MAX_GRADE=10 LMS=auto OUT=grades/01] (or export MLCOURSE_GRADING_SEED)
	$(if $(filter command line,$(origin SEED)),$(error SEED= puts the secret seed in the process list and the shell history; use SEED_FILE=path (a file holding it, mode 0600) or export MLCOURSE_GRADING_SEED))
	@$(VENV)/bin/mlcourse grade $(SUBMISSIONS) $(if $(EXERCISES),--exercises $(EXERCISES),--notebook $(NOTEBOOK)) $(if $(SEED_FILE),--seed-file $(SEED_FILE)) $(if $(ROSTER),--roster $(ROSTER)) $(if $(ASSIGNMENT),--assignment '$(subst ','\'',$(ASSIGNMENT))') $(if $(MAX_GRADE),--max-grade $(MAX_GRADE)) --lms $(or $(LMS),auto) --out $(or $(OUT),grades/$(or $(NOTEBOOK),$(basename $(notdir $(EXERCISES)))))

data: $(STAMP)  ## regenerate datasets/ byte-for-byte
	$(PY) -m mlcourse telemetry generate

doctor: $(STAMP)  ## check this installation (paste its output into a bug report)
	$(PY) -m mlcourse doctor

bench: $(STAMP)  ## print the benchmark figures
	$(PY) -m benchmarks

stability: $(STAMP)  ## verdicts on ten seeds and ten data variants, model answers on all ten
	MLCOURSE_STABILITY_SEEDS=10 MLCOURSE_STABILITY_VARIANTS=10 MLCOURSE_STABILITY_MODEL_VARIANTS=10 \
		$(PY) -m pytest -n 2 --dist loadgroup tests/test_stability.py

mutants: $(STAMP)  ## mutation-test the checkers: a table per exercise, then the mutation score
	$(PY) -m mlcourse.mutants

claims: $(STAMP)  ## the claims ledger: every lesson claim on the shipped data and ten simulated worlds
	$(PY) -m pytest tests/claims --claim-worlds 10 -p no:cacheprovider -q

times: $(STAMP)  ## minutes per notebook by the time model (docs/authoring.md): at most 60 each
	$(PY) -m mlcourse.authoring times

# rfc3987-syntax (and lark, only it needs it) is left out: jsonschema imports it, if present,
# for its "iri" format check, which nothing here uses, and building its grammars took about
# 1.5 s in every process that imports nbformat or Jupyter's server (each grader, CLI command
# and `make lab`); jsonschema works without it
lock:  ## re-resolve requirements.lock after editing pyproject.toml
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --extra distributed --universal --python-version 3.11 \
		--no-emit-package rfc3987-syntax --no-emit-package lark -o requirements.lock

clean:  ## remove the environment and the test cache (the next command rebuilds the environment)
	rm -rf $(VENV) .pytest_cache
