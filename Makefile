# mailauth.core — developer entry points. The README's two commands are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        ?= .venv
PY          := $(VENV)/bin/python
BIN         := $(abspath $(VENV))/bin
STAMP       := $(VENV)/.installed
COLL_ROOT   := $(abspath .cache/collections)
export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLL_ROOT)
export ANSIBLE_FORCE_COLOR ?= 0
export PY_COLORS ?= 0
export MOLECULE_DISTRO ?= debian12

.PHONY: help venv host-packages docker images lint sanity unit integration build docs molecule molecule-lab test demo demo-down bench clean

help:
	@echo "make demo       build the lab and deliver a proof mail (see README)"
	@echo "make demo-down  tear the lab down"
	@echo "make test       every quality gate; non-zero if any fails"
	@echo "make lint | sanity | unit | integration | build | docs | molecule | bench"
	@echo "make unit, lint, build and docs need only Python (no root, no apt): make unit VENV=/path"

# The virtualenv needs only Python and PyPI: no root, no apt.
$(STAMP): tests/requirements.txt requirements.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -r tests/requirements.txt
	@touch $@

# The collection is exposed to Ansible at .cache/collections/ansible_collections/mailauth/core.
$(COLL_ROOT)/ansible_collections/mailauth/core:
	@mkdir -p $(COLL_ROOT)/ansible_collections/mailauth
	@ln -sfn $(CURDIR) $@

venv: $(STAMP) $(COLL_ROOT)/ansible_collections/mailauth/core

# Debian packages (root, apt) for the gates that start real servers or build images: BIND,
# PowerDNS, dig, debootstrap, and shellcheck for ansible-test's shellcheck sanity test.
host-packages:
	@bash tests/gates/host-packages.sh

docker:
	@bash tests/images/ensure-docker.sh

images: docker host-packages
	@bash tests/images/build.sh debian12 debian13

lint: venv
	bash tests/gates/lint.sh

sanity: venv host-packages
	bash tests/gates/sanity.sh

unit: venv
	bash tests/gates/pytest.sh tests/unit

# The integration tests wait on servers as much as they compute: three pytest-xdist workers keep
# two cores busy (each worker starts its own servers on free ports).
INTEGRATION_WORKERS ?= 3
integration: venv host-packages
	bash tests/gates/pytest.sh -n $(INTEGRATION_WORKERS) tests/integration

build: venv
	bash tests/gates/build.sh

docs: venv
	bash tests/gates/docs.sh

molecule: venv host-packages images
	bash tests/gates/molecule.sh

test: venv host-packages
	bash tests/gates/run-all.sh

demo: venv host-packages images
	bash tests/gates/demo.sh

demo-down: venv
	molecule destroy -s lab

bench: venv host-packages
	bash bench/run.sh

clean:
	rm -rf build tests/output .pytest_cache .ruff_cache
