#!/usr/bin/env bash
# Gate: ansible-test sanity, run in a temporary ansible_collections/mailauth/core tree
# holding the files git knows about (tracked, or untracked and not ignored).
set -euo pipefail
tmp=$(mktemp -d /tmp/mailauth-sanity.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
dest="$tmp/ansible_collections/mailauth/core"
mkdir -p "$dest"
git ls-files -co --exclude-standard -z | while IFS= read -r -d '' f; do
  [ -e "$f" ] || continue
  mkdir -p "$dest/$(dirname "$f")"
  cp -p "$f" "$dest/$f"
done
# ansible-test bootstraps pip in its per-test virtualenvs with a script it downloads
# from a host outside the package registries. Seed its cache with an equivalent
# that uses the standard library's ensurepip, then pip installs from the registry.
pip_version=$(python3 - <<'PY'
import re, ansible_test, pathlib
src = (pathlib.Path(ansible_test.__file__).parent / "_internal/python_requirements.py").read_text()
print(re.search(r"pip='([0-9.]+)'", src).group(1))
PY
)
shim="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if [ ! -s "$shim" ]; then
  mkdir -p "$(dirname "$shim")"
  cp tests/gates/get_pip_shim.py "$shim"
fi
cd "$dest"
# ansible-test wants a git repository to list the files of a collection.
git init -q && git add -A && git -c user.email=ci@mailauth.invalid -c user.name=ci commit -qm sanity
python_version=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
ansible-test sanity --python "$python_version" --color no \
  --local 2>&1 | sed "s|$dest/||g"
