# The two commands of the README: `make run` (the default matrix) and
# `make test` (the test suite). Both install what they need first, only when
# it is missing, so they work on a fresh Debian 12 machine and are cheap after.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

# Debian packages the harness uses at run time (builds, guests, checks).
APT_PACKAGES := \
	qemu-system-x86 busybox-static linux-source-6.12 \
	gcc make flex bison bc libelf-dev libssl-dev cpio kmod ccache \
	xz-utils git rsync file binutils dwarves \
	dropbear-bin openssh-client sparse \
	python3 python3-venv python3-pip \
	chromium

HARNESS := $(VENV)/bin/harness
ARGS ?=
TEST_ARGS ?=

.PHONY: run test deps apt-deps venv lint clean-venv

run: deps
	$(HARNESS) run $(ARGS)

test: deps
	$(VENV)/bin/python -m pytest -ra $(TEST_ARGS)

deps: apt-deps venv

# Install only the packages dpkg does not already know as installed; run
# `apt-get update` once, only when something has to be installed.
apt-deps:
	@missing=$$(for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# The venv is rebuilt when pyproject.toml changes (the stamp is older).
venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e '.[test]'
	@touch $@

clean-venv:
	rm -rf $(VENV)
