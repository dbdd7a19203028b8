# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install bench clean toolchain

$(STAMP): pyproject.toml setup.py $(wildcard proto/*.proto)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Initialise a local development platform on first use, then run it in the foreground.
run: $(STAMP)
	@$(BIN)/gaiwan init --if-missing
	@$(BIN)/gaiwan enclave-info refresh
	$(BIN)/gaiwan up

# The WebAssembly executor's tests build their C sources with clang and wasm-ld (Debian's
# clang and lld); install them when missing.
toolchain:
	@command -v clang >/dev/null && command -v wasm-ld >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq clang lld)

test: $(STAMP) toolchain
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) src/gaiwan/rpc/pb build src/*.egg-info
