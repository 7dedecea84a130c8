# Dockyard — quick start: `make run`, then `make test` (both as root, from the repository root).
SHELL := /bin/bash
PYTHON_REAL := $(shell python3 -c 'import sys; print(sys.executable)')
VENV := .venv
PY := $(VENV)/bin/python
APT_RUN := busybox-static libseccomp2 libcap2 iproute2 nftables libnftables1 tini catatonit zstd debootstrap
APT_TEST := runc podman containerd skopeo docker-registry umoci tmux hyperfine debootstrap nftables openssl docker.io strace gcc libc6-dev acl wrk curl

.PHONY: run test setup setup-test unit integration bench clean launchers

setup: $(VENV)/.installed
	@scripts/apt-ensure $(APT_RUN)

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON_REAL) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[test]' --config-settings editable_mode=compat
	@touch $@

setup: launchers
launchers: $(VENV)/.installed
	@scripts/install-launchers $(VENV)

setup-test: setup
	@scripts/apt-ensure $(APT_TEST)

run: setup
	@scripts/quickstart

test: setup-test
	@$(PY) -m pytest -q -ra tests

unit: setup
	@$(PY) -m pytest -q tests/unit

integration: setup-test
	@$(PY) -m pytest -q -ra tests/integration

bench: setup-test
	@$(PY) bench/run_bench.py

clean:
	rm -rf $(VENV) build *.egg-info
