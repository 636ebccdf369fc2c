#!/usr/bin/env bash
# `make demo`: start the lab, run playbooks/site.yml against it, print the proof.
set -euo pipefail
export MOLECULE_DISTRO=${MOLECULE_DISTRO:-debian12}
start=$SECONDS
log=tests/output/demo.log
mkdir -p tests/output
echo "demo: lab on $MOLECULE_DISTRO (log: $log)"
if ! molecule converge -s lab >"$log" 2>&1; then
  echo "demo: converge failed; last lines of $log:"; tail -40 "$log"; exit 1
fi
echo "demo: converged in $((SECONDS - start)) s; proving delivery"
rm -f tests/output/lab-result.txt
if ! molecule verify -s lab >>"$log" 2>&1; then
  echo "demo: verify failed; last lines of $log:"; tail -40 "$log"; exit 1
fi
echo
echo "=== lab result"
cat tests/output/lab-result.txt
echo
echo "demo: done in $((SECONDS - start)) s. Tear the lab down with: make demo-down"
