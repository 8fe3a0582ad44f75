# 12355 hotline. Everything a fresh machine needs (Python 3.11+ and make) is installed by these targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench lint fmt install clean softphone

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

# The agents' panel softphone: JsSIP from the npm registry, bundled for the browser (not committed).
# Without npm the panel runs without a softphone (the desk phone answers). No package's install script
# runs: esbuild's binary comes from its platform package, its postinstall only checks it.
SOFTPHONE := callcenter/web/static/vendor/jssip.min.js
softphone:
	@if command -v npm >/dev/null 2>&1; then \
	  npm install --ignore-scripts --no-save --no-audit --no-fund --prefix build/softphone jssip@3.13.8 esbuild@0.25.10 && \
	  mkdir -p $(dir $(SOFTPHONE)) && \
	  build/softphone/node_modules/.bin/esbuild build/softphone/node_modules/jssip/lib/JsSIP.js --bundle \
	    --format=iife --global-name=JsSIP --minify --outfile=$(SOFTPHONE) \
	  || echo "the softphone could not be built: the agents' panel runs without it"; \
	else echo "npm is missing: the agents' panel runs without the softphone"; fi

demo: $(STAMP) softphone
	$(BIN)/hotline demo

# The suite includes the lint: a change that is not ruff- and mypy-clean does not land.
test: $(STAMP) lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var build *.egg-info
