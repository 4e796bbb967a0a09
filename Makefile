# One command to try it, one to test it. Both set up .venv/ first (idempotent).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DATA ?= data/demo
# llama-cpp-python compiles from source. Portable CPU code (AVX2, FMA): a "native" build can use
# instructions the CPU lists but the virtual machine does not allow (seen: Illegal instruction).
# The multimodal library is not built: the chat models here read text only.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAVA_BUILD=OFF

.PHONY: demo test test-fast chromium ocr postgresql redis lint bench-retrieval bench-ingest bench-answer bench-sme bench-ocr clean

# Debian packages, installed when missing (apt's lists refreshed only if the first try fails).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_INSTALL = DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends
define debian
	@dpkg -s $(1) >/dev/null 2>&1 || { $(APT_INSTALL) $(1) \
	  || { $(SUDO) apt-get update && $(APT_INSTALL) $(1); }; }
endef

# The browser tests drive Debian's Chromium (Playwright's own browser download is not used).
chromium:
	$(call debian,chromium)

# Scans and photos are read by Tesseract, with English, Malay and Chinese data; the fonts draw
# the test pages and bench/ocr.py's.
OCR_PACKAGES := tesseract-ocr tesseract-ocr-eng tesseract-ocr-msa tesseract-ocr-chi-sim \
	tesseract-ocr-chi-tra fonts-dejavu-core fonts-wqy-microhei
ocr:
	$(call debian,$(OCR_PACKAGES))

# The application database's tests run a PostgreSQL server of their own (tests/postgres.py).
postgresql:
	$(call debian,postgresql)

# Shared short-lived state (rate limits, live conversations, answer slots) is tested on a Redis
# server of the tests' own (tests/redis_server.py).
redis:
	$(call debian,redis-server)

$(VENV)/.installed-%: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install --quiet -e ".[$*]"
	rm -f $(VENV)/.installed-* && touch $@

## demo: set up, then serve the demo shop's bot on the embedded model at http://127.0.0.1:7860/
demo: $(VENV)/.installed-dev
	$(BIN)/chatbot --data-dir $(DEMO_DATA) demo

## test: set up, then lint, type-check and run the test suite
test: $(VENV)/.installed-dev chromium ocr postgresql redis
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 --dist loadfile

## test-fast: the contract tier only (in one process, a few minutes), what to run while working
test-fast: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n 2 -m contract

## bench-*: measurements against the LangChain tutorial pipeline (see bench/README.md)
bench-retrieval: $(VENV)/.installed-dev,bench
	$(BIN)/python -m bench.retrieval

bench-ingest: $(VENV)/.installed-dev,bench
	$(BIN)/python -m bench.ingest

bench-answer: $(VENV)/.installed-dev
	$(BIN)/python -m bench.answer

# Answers on businesses nobody tuned for: sme-dev with the default chain (the README's answer
# figure), then the learned gate with each business scored by the gate fitted on the other two.
bench-sme: $(VENV)/.installed-dev ocr
	$(BIN)/python -m bench.sme
	$(BIN)/python -m bench.sme --lobo

bench-ocr: $(VENV)/.installed-dev,bench ocr
	$(BIN)/python -m bench.ocr

clean:
	rm -rf $(VENV) data/demo
