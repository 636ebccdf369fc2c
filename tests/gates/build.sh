#!/usr/bin/env bash
# Gate: build the collection tarball, install it in a scratch path, run ansible-doc on every plugin,
# and render the reference site (tests/gates/docs.sh) from the installed tarball.
set -euo pipefail
mkdir -p build
rm -f build/mailauth-core-*.tar.gz
ansible-galaxy collection build --force --output-path build >/dev/null
tarball=$(ls build/mailauth-core-*.tar.gz)
echo "built $tarball ($(du -h "$tarball" | cut -f1))"
scratch=$(mktemp -d /tmp/mailauth-install.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
# Only the scratch path: the working tree's own copy must not satisfy the install.
export ANSIBLE_COLLECTIONS_PATH="$scratch"
ansible-galaxy collection install --offline --force -p "$scratch" "$tarball" >/dev/null 2>&1
installed="$scratch/ansible_collections/mailauth/core"
[ -f "$installed/MANIFEST.json" ] || { echo "the tarball did not install into $scratch" >&2; exit 1; }
n=0
for kind in module filter; do
  dir=plugins/${kind}s; [ "$kind" = filter ] && dir=plugins/filter
  [ -d "$installed/$dir" ] || continue
  if [ "$kind" = module ]; then
    names=$(find "$installed/$dir" -maxdepth 1 -name '*.py' ! -name '__init__.py' -printf '%f\n' | sed 's/\.py$//' | sort)
  else
    names=$(ansible-doc -t filter -l mailauth.core 2>/dev/null | awk '{print $1}' | sed 's/^mailauth\.core\.//' | sort)
  fi
  for name in $names; do
    ansible-doc -t "$kind" "mailauth.core.$name" >/dev/null
    n=$((n + 1))
  done
done
for role in "$installed"/roles/*/; do
  ansible-doc -t role "mailauth.core.$(basename "$role")" >/dev/null
  n=$((n + 1))
done
expected=$(( $(find plugins/modules -maxdepth 1 -name '*.py' ! -name '__init__.py' | wc -l) \
  + $(find plugins/filter -maxdepth 1 -name '*.yml' | wc -l) + $(find roles -mindepth 1 -maxdepth 1 -type d | wc -l) ))
echo "ansible-doc rendered $n plugins and roles from the installed tarball (the tree has $expected)"
[ "$n" -eq "$expected" ] || { echo "some plugins or roles are missing from the tarball" >&2; exit 1; }
# The reference site from what the tarball installed: a page for every module, filter and role,
# no Sphinx warning.
bash tests/gates/docs.sh build/docs
