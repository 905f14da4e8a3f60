# Everything runs from a virtualenv in .venv, made from the python3 on PATH (3.11+).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test demo screenshots bench wheel-check clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("apertis-tui needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## run: set up and launch the app
run: $(STAMP)
	$(BIN)/apertis-tui $(ARGS)

## test: set up and run the whole test suite
test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

## demo: launch the app against the bundled fake server (no account needed)
demo: $(STAMP)
	$(BIN)/python tests/demo.py $(ARGS)

## screenshots: redraw the README's pictures in screenshots/ (the app against the fake server; same bytes every run)
screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py $(ARGS)

## bench: set up and print every benchmark figure beside its target (ARGS="--only startup,memory")
bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py $(ARGS)

clean:
	rm -rf $(VENV) build dist .pytest_cache
