# Voxledger: `make demo` to watch calls being recorded, `make test` to run the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
VOX    := $(BIN)/voxledger

.PHONY: install up down status run demo test test-unit lint bench clean chromium

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

# Modules are spread over TEST_WORKERS processes, one module per worker at a time (a module's
# private stack and fixtures stay on one worker); TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= 3

test: up chromium
	$(BIN)/python -m pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile) --durations=25

# The reviewer console's browser tests drive Debian's chromium (Playwright never downloads one):
# installed here when missing and running as root; otherwise a failure that says how.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "error: the console's browser tests need Debian's chromium at /usr/bin/chromium:" \
	         "run 'sudo apt-get install -y chromium' (make test does it when run as root)" >&2; \
	    exit 1; \
	  fi; }

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
