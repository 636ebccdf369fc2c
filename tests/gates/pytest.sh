#!/usr/bin/env bash
# Gate: pytest over one test folder. A folder that collects no test fails the gate.
set -uo pipefail
PYTHONPATH="$PWD/.cache/collections${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONPATH
python -m pytest -q -p no:cacheprovider "$@"
rc=$?
if [ $rc -eq 5 ]; then echo "pytest: no test collected in $*" >&2; fi
exit $rc
