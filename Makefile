# One command to try it, one to test it. Both set up .venv/ first (idempotent).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DATA ?= data/demo

.PHONY: demo test lint bench-retrieval bench-ingest clean

$(VENV)/.installed-%: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$*]"
	rm -f $(VENV)/.installed-* && touch $@

## demo: set up, build the demo shop's knowledge base, and ask it a few questions
demo: $(VENV)/.installed-dev
	$(BIN)/chatbot --data-dir $(DEMO_DATA) ingest --bot demo-shop examples/demo-shop
	@printf '%s\n' \
	  "Do you repair cracked phone screens and how long does it take?" \
	  "Berapa lama tempoh waranti untuk pembaikan?" \
	  "你们星期天营业吗？" \
	  | $(BIN)/chatbot --data-dir $(DEMO_DATA) search --bot demo-shop --k 2

## test: set up, then lint, type-check and run the test suite
test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

## bench-*: measurements against the LangChain tutorial pipeline (see bench/README.md)
bench-retrieval: $(VENV)/.installed-dev,bench
	$(BIN)/python -m bench.retrieval

bench-ingest: $(VENV)/.installed-dev,bench
	$(BIN)/python -m bench.ingest

clean:
	rm -rf $(VENV) data/demo
