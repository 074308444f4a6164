# Set-up and the two main entry points. Every target reuses .venv; `make venv` is idempotent
# (re-installs only when pyproject.toml changed).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Exact pins: torchvision works only with the torch it was built for, and the CUDA build of
# 2.14.1 runs on CPUs too; pip (not uv/poetry) honours pip's configuration and its wheel cache.
TORCH_PINS := torch==2.14.1 torchvision==0.29.1
PYTEST_ARGS ?=

# quickstart: one torch thread per run and all five runs at once, whatever the core count: the
# time budget counts each run's own CPU time, so runs sharing a core still get the same compute,
# and no core idles at the end (five equal runs two at a time on 2 cores take three run lengths)
QUICKSTART_PARALLEL ?= 5

.PHONY: venv quickstart test clean-venv digits-cnn-audit

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check $(TORCH_PINS)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]' $(TORCH_PINS)
	touch $(STAMP)

# The main job: five attention variants on the bundled digits (CPU, offline), then the report.
quickstart: venv
	$(BIN)/ladabench run suites/quickstart.yaml --max-parallel $(QUICKSTART_PARALLEL) --threads 1
	$(BIN)/ladabench report suites/quickstart.yaml -o reports/quickstart.html

# Retrain the digit classifier from its recipe and compare it with the shipped weights
# (docs/digits_cnn.md); the shipped file is never replaced by this.
digits-cnn-audit: venv
	$(BIN)/python -m ladabench.metrics.digits_cnn_train --out results/digits_cnn_retrained.npz

test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)
