#!/usr/bin/env bash
# Gate: every Molecule scenario on debian12; the lab scenario on debian13 too.
# Set MOLECULE_SCENARIOS="lab" or MOLECULE_DISTROS="debian12" to narrow a run.
set -uo pipefail
mkdir -p tests/output
scenarios=${MOLECULE_SCENARIOS:-$(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -n1 basename | sort)}
# Containers left by an earlier run from another checkout (Molecule keeps its state per
# checkout, so it would not know them) would clash by name: remove Molecule's leftovers.
docker ps -aq --filter label=owner=molecule | xargs -r docker rm -f >/dev/null
rc=0
for s in $scenarios; do
  distros=debian12
  [ "$s" = lab ] && distros="debian12 debian13"
  for d in ${MOLECULE_DISTROS:-$distros}; do
    case " $distros " in *" $d "*) ;; *) continue ;; esac
    log=tests/output/molecule-$s-$d.log
    start=$SECONDS
    if MOLECULE_DISTRO=$d molecule test -s "$s" >"$log" 2>&1; then
      echo "molecule $s on $d: passed in $((SECONDS - start)) s (log $log)"
    else
      echo "molecule $s on $d: FAILED after $((SECONDS - start)) s; last lines of $log:"
      tail -60 "$log"
      rc=1
    fi
  done
done
exit $rc
