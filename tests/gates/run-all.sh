#!/usr/bin/env bash
# `make test`: run every gate, print a summary, fail if any gate failed.
set -uo pipefail
mkdir -p tests/output
gates=(lint sanity unit integration build molecule)
declare -A result seconds
overall=0
for g in "${gates[@]}"; do
  echo "=== gate: $g"
  start=$SECONDS
  if make --no-print-directory "$g"; then result[$g]=pass; else result[$g]=FAIL; overall=1; fi
  seconds[$g]=$((SECONDS - start))
done
echo
echo "=== summary"
for g in "${gates[@]}"; do
  printf '%-12s %-5s %5d s\n' "$g" "${result[$g]}" "${seconds[$g]}"
done
passed=0; failed=0
for g in "${gates[@]}"; do [ "${result[$g]}" = pass ] && passed=$((passed + 1)) || failed=$((failed + 1)); done
echo "gates: $passed passed, $failed failed"
exit $overall
