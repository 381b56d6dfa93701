# xlt: two commands do all set-up on a fresh machine.
#   make demo   runs params/demo.yaml on the offline default and writes reports/demo/index.html
#   make test   runs the test suite (make lint: style, import layers, types)
# Both create or reuse the virtual environment in .venv (make setup does only that).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.xlt-installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup model demo test test-fast lint lab lock clean-runs

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name xlt --display-name "Python (xlt)" >/dev/null
	touch $@

model: setup
	$(BIN)/xlt model prepare

demo: model
	$(BIN)/xlt run params/demo.yaml

test: model
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow and not slurm and not browser"

# Style, the import-layer contract (pyproject.toml [tool.importlinter]), types ([tool.mypy]) and,
# where ../shared is beside the checkout (as in CI), its import-cycle finder.
lint: setup
	$(BIN)/ruff check xlt_lib tests benchmarks notebooks
	$(BIN)/ruff format --check xlt_lib tests benchmarks
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	if test -f ../shared/tools/import_cycles.py; then $(BIN)/python ../shared/tools/import_cycles.py xlt_lib; fi

# JupyterLab from .venv on the checkout, file browser on notebooks/, kernel "xlt" by default
# (the command line lives in xlt_lib/lab.py, shared with the browser tests). Extra flags: make lab LAB_ARGS="--port=8890"
lab: model
	$(BIN)/python -m xlt_lib.lab $(LAB_ARGS)

# Re-resolve the dependency ranges of pyproject.toml and re-pin constraints.txt.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install -q --upgrade pip
	.venv-lock/bin/python -m pip install -q -e '.[dev]'
	{ sed -n '1,3p' constraints.txt; .venv-lock/bin/pip freeze --exclude-editable | sed 's/+cpu//'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt && rm -rf .venv-lock

clean-runs:
	rm -rf runs reports/*/
