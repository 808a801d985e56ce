# Voxledger: `make demo` to watch calls being recorded, `make test` to run the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
VOX    := $(BIN)/voxledger

.PHONY: install up down status run demo test test-unit lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

up: install
	$(VOX) up

down:
	@test -x $(VOX) && $(VOX) down || true

status: install
	$(VOX) status

run: up
	$(VOX) run

demo: up
	$(BIN)/python -m services.runner.demo

test: up
	$(BIN)/python -m pytest

test-unit: install
	$(BIN)/python -m pytest tests/unit

lint: install
	$(BIN)/ruff check services schemas tests
	$(BIN)/mypy

# On its own private stack under .voxledger-bench/ (never the shared one); QUICK=1 for < 2 min.
bench: install
	$(VOX) bench $(if $(QUICK),--quick,)

clean: down
	rm -rf .voxledger
