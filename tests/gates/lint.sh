#!/usr/bin/env bash
# Gate: ruff, yamllint, ansible-lint (production profile), antsibull-docs (plugin and role docs).
set -euo pipefail
rc=0
echo "--- ruff"; ruff check . || rc=1
ruff format --check --diff . >/dev/null 2>&1 || { echo "ruff format: files need formatting:"; ruff format --check . || true; rc=1; }
echo "--- yamllint"; yamllint -s . || rc=1
# A project-local ANSIBLE_HOME: ansible-lint also searches ~/.ansible/collections, where a stale
# copy of this collection (left by another tool) would shadow the working tree.
echo "--- ansible-lint"; ANSIBLE_HOME="$PWD/.cache/ansible-home" ansible-lint --offline -q || rc=1
# The docs of every module, filter and role as the Ansible docsite renders them: schema, markup,
# and every reference (M(), O(), RV(), ...) to this collection or to ansible.builtin resolves.
echo "--- antsibull-docs lint-collection-docs"
antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs dependent \
  --disallow-unknown-collection-refs . || rc=1
exit $rc
