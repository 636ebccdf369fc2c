#!/usr/bin/env bash
# Gate: ruff, yamllint, ansible-lint (production profile).
set -euo pipefail
rc=0
echo "--- ruff"; ruff check . || rc=1
ruff format --check --diff . >/dev/null 2>&1 || { echo "ruff format: files need formatting:"; ruff format --check . || true; rc=1; }
echo "--- yamllint"; yamllint -s . || rc=1
echo "--- ansible-lint"; ansible-lint --offline -q || rc=1
exit $rc
