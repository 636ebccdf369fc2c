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

.PHONY: help venv docker images lint sanity unit integration build molecule molecule-lab test demo demo-down bench clean

help:
	@echo "make demo       build the lab and deliver a proof mail (see README)"
	@echo "make demo-down  tear the lab down"
	@echo "make test       every quality gate; non-zero if any fails"
	@echo "make lint | sanity | unit | integration | build | molecule | bench"

$(STAMP): tests/requirements.txt requirements.txt tests/gates/host-packages.sh
	@bash tests/gates/host-packages.sh
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -r tests/requirements.txt
	@touch $@

# The collection is exposed to Ansible at .cache/collections/ansible_collections/mailauth/core.
$(COLL_ROOT)/ansible_collections/mailauth/core:
	@mkdir -p $(COLL_ROOT)/ansible_collections/mailauth
	@ln -sfn $(CURDIR) $@

venv: $(STAMP) $(COLL_ROOT)/ansible_collections/mailauth/core

docker:
	@bash tests/images/ensure-docker.sh

images: docker
	@bash tests/images/build.sh debian12 debian13

lint: venv
	bash tests/gates/lint.sh

sanity: venv
	bash tests/gates/sanity.sh

unit: venv
	bash tests/gates/pytest.sh tests/unit

integration: venv
	bash tests/gates/pytest.sh tests/integration

build: venv
	bash tests/gates/build.sh

molecule: venv images
	bash tests/gates/molecule.sh

test: venv
	bash tests/gates/run-all.sh

demo: venv images
	bash tests/gates/demo.sh

demo-down: venv
	molecule destroy -s lab

bench: venv
	bash bench/run.sh

clean:
	rm -rf build tests/output .pytest_cache .ruff_cache
