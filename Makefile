# facegate: `make serve` runs the service with demo data; `make test` runs the whole suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOME_DIR ?= $(CURDIR)/.home
STAMP := $(VENV)/.installed

.PHONY: install serve demo test lint bench clean

$(STAMP): pyproject.toml
	bash scripts/ensure-system.sh
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,he,ray,load]'
	$(BIN)/python -m facegate.web.build  # web pages: scripts from npm (pinned), catalogues
	bash scripts/ensure-openfhe.sh .venv-openfhe  # threshold encrypted verification
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/facegate serve --home $(HOME_DIR) --demo

demo: $(STAMP)
	$(BIN)/facegate demo --home $(HOME_DIR)

test: $(STAMP)
	bash scripts/ensure-system.sh
	bash scripts/ensure-openfhe.sh .venv-openfhe
	bash scripts/ensure-services.sh
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: $(STAMP)
	for b in bench/*.py; do $(BIN)/python $$b --quick; done

clean:
	rm -rf $(VENV) .venv-openfhe $(HOME_DIR) .pytest_cache .mypy_cache .ruff_cache
