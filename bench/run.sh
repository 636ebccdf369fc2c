#!/usr/bin/env bash
# `make bench`: run every benchmark in bench/ (bench/*.py with the venv's Python, bench/*.sh with
# bash), one after the other, and print their figures.
# A benchmark prints figures; it never asserts timings. Non-zero if any benchmark failed to run.
# `bench/run.sh NAME` runs only bench/NAME.py or bench/NAME.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top" || exit 1
export PYTHONPATH="$top/.cache/collections${PYTHONPATH:+:$PYTHONPATH}"
python=${PYTHON:-python3}
[ -x "$top/.venv/bin/python" ] && python="$top/.venv/bin/python"
only=${1:-}
rc=0
ran=0
for script in "$here"/*.py "$here"/*.sh; do
  [ -e "$script" ] || continue
  [ "$(basename "$script")" = "run.sh" ] && continue
  # bench/_*.py: helpers the benchmarks import, not benchmarks.
  case "$(basename "$script")" in _*) continue ;; esac
  name=$(basename "$script"); name=${name%.*}
  [ -n "$only" ] && [ "$name" != "$only" ] && continue
  echo "=== bench: $(basename "$script")"
  case "$script" in
    *.py) "$python" "$script" ;;
    *.sh) bash "$script" ;;
  esac
  status=$?
  ran=$((ran + 1))
  if [ $status -ne 0 ]; then
    echo "bench: $(basename "$script") failed with status $status" >&2
    rc=1
  fi
  echo
done
if [ $ran -eq 0 ]; then
  echo "bench: no benchmark found in $here" >&2
  exit 1
fi
exit $rc
