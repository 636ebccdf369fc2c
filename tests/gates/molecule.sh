#!/usr/bin/env bash
# Gate: every Molecule scenario on debian12; the lab scenario on debian13 too.
# Set MOLECULE_SCENARIOS="lab" or MOLECULE_DISTROS="debian12" to narrow a run.
# The lab runs its distros one after the other (its containers have fixed names); every other
# scenario has its own names and network, and runs beside the lab, started first (the gate's
# time is the lab's).
set -uo pipefail
mkdir -p tests/output
scenarios=${MOLECULE_SCENARIOS:-$(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -n1 basename | sort)}
# Containers left by an earlier run from another checkout (Molecule keeps its state per
# checkout, so it would not know them) would clash by name: remove Molecule's leftovers.
docker ps -aq --filter label=owner=molecule | xargs -r docker rm -f >/dev/null

# One scenario on one distro; its verdict goes to tests/output/molecule-<s>-<d>.result.
# A third argument is the Ansible tags to skip (ANSIBLE_SKIP_TAGS).
run_one() {
  local s=$1 d=$2 skip=${3:-} log=tests/output/molecule-$1-$2.log start=$SECONDS
  local vars=(MOLECULE_DISTRO="$d")
  [ -n "$skip" ] && vars+=(ANSIBLE_SKIP_TAGS="$skip")
  if env "${vars[@]}" molecule test -s "$s" >"$log" 2>&1; then
    echo "molecule $s on $d: passed in $((SECONDS - start)) s (log $log)" >"${log%.log}.result"
  else
    { echo "molecule $s on $d: FAILED after $((SECONDS - start)) s; last lines of $log:"; tail -60 "$log"; } >"${log%.log}.result"
  fi
}

jobs=() lab_runs=()
for s in $scenarios; do
  distros=debian12
  [ "$s" = lab ] && distros="debian12 debian13"
  for d in ${MOLECULE_DISTROS:-$distros}; do
    case " $distros " in *" $d "*) ;; *) continue ;; esac
    rm -f "tests/output/molecule-$s-$d.result"
    jobs+=("$s-$d")
    if [ "$s" = lab ]; then lab_runs+=("$d"); else run_one "$s" "$d" & fi
  done
done
# The lab's verdicts are printed as they come, the others' once they all ended. The first lab
# distro runs every proof; the next ones skip those tagged lab_once (molecule/lab/verify.yml).
skip=
for d in "${lab_runs[@]}"; do
  run_one lab "$d" "$skip"
  cat "tests/output/molecule-lab-$d.result"
  skip=lab_once
done
wait
rc=0
for j in "${jobs[@]}"; do
  result=tests/output/molecule-$j.result
  case $j in lab-*) ;; *) cat "$result" ;; esac
  head -1 "$result" | grep -q ': passed in ' || rc=1
done
exit $rc
