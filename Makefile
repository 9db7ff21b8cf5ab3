# Two commands a new user needs: `make demo` and `make test`.  Each creates .venv and installs
# the project into it first (only Python >= 3.11 and make are assumed): the demo only what it
# runs on, the tests the test extras as well (`make demo` then `make test` adds them).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_STAMP := $(VENV)/.demo-stamp
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check
VENV_READY := $(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "ictindex needs Python >= 3.11"' \
	&& { test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); }

.PHONY: demo test bench clean

$(DEMO_STAMP): pyproject.toml
	$(VENV_READY)
	$(PIP) -e .
	touch $(DEMO_STAMP)

# The test install holds everything the demo's does: it stands for both.
$(STAMP): pyproject.toml
	$(VENV_READY)
	$(PIP) -e '.[test]'
	touch $(STAMP) $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/ictindex demo

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/ictindex bench --units 11000 --format table

clean:
	rm -rf $(VENV) build *.egg-info
