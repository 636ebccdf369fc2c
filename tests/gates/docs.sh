#!/usr/bin/env bash
# `make docs`: the collection's reference site, rendered the way Ansible collections publish
# theirs: `antsibull-docs sphinx-init` writes the Sphinx project, `antsibull-docs collection`
# the RST of every module, filter and role, and Sphinx builds it with warnings as errors.
# The collection is read from ANSIBLE_COLLECTIONS_PATH (the build gate points it at the
# installed tarball). Output: build/docs/build/html/index.html (or $1).
# Offline: intersphinx is switched off (it would fetch inventories from docs.python.org and
# docs.ansible.com), so a reference into Ansible's own docs stays plain text; a reference
# that stays inside mailauth.core must resolve, or the build fails.
set -euo pipefail
dest=${1:-build/docs}
rm -rf "$dest"
mkdir -p "$dest"
chmod 700 "$dest" # antsibull-docs writes only into a directory no one else can write to
dest=$(cd "$dest" && pwd)
antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir "$dest" \
  --project mailauth.core --copyright 'mailauth.core maintainers' \
  --title 'mailauth.core reference' --html-short-title 'mailauth.core' mailauth.core >/dev/null
cat >>"$dest/conf.py" <<'PY'

# Added by tests/gates/docs.sh: build offline.
extensions = [e for e in extensions if e != "sphinx.ext.intersphinx"]  # noqa: F821
intersphinx_mapping = {}
# Labels of Ansible's own docsite (ansible.builtin plugins, common return values, the
# configuration settings) resolve only through intersphinx; any other label must resolve.
nitpick_ignore_regex = [
    ("ref", r"ansible_collections\.ansible\.builtin\.[a-z0-9_]+_(module|filter|test|lookup)"),
    ("ref", r"common_return_values|ansible_configuration_settings"),
]
PY
mkdir -p "$dest/rst"
chmod og-w "$dest/rst"
antsibull-docs --config-file "$dest/antsibull-docs.cfg" collection --cleanup everything \
  --fail-on-error --use-current --dest-dir "$dest/rst" mailauth.core >/dev/null
log="$dest/sphinx.log"
if ! sphinx-build -M html "$dest/rst" "$dest/build" -q -c "$dest" -W --keep-going >"$log" 2>&1; then
  echo "docs: Sphinx reported warnings or errors:" >&2
  cat "$log" >&2
  exit 1
fi
[ ! -s "$log" ] || { echo "docs: Sphinx printed:" >&2; cat "$log" >&2; exit 1; }
# Every module, filter and role of the tree has a page.
html="$dest/build/html/collections/mailauth/core"
missing=()
n=0
for f in plugins/modules/*.py; do
  name=$(basename "$f" .py)
  [ "$name" = __init__ ] && continue
  n=$((n + 1))
  [ -s "$html/${name}_module.html" ] || missing+=("module $name")
done
for f in plugins/filter/*.yml; do
  n=$((n + 1))
  [ -s "$html/$(basename "$f" .yml)_filter.html" ] || missing+=("filter $(basename "$f" .yml)")
done
for d in roles/*/; do
  n=$((n + 1))
  [ -s "$html/$(basename "$d")_role.html" ] || missing+=("role $(basename "$d")")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "docs: no page for: ${missing[*]}" >&2
  exit 1
fi
echo "docs: $n pages (every module, filter and role), no Sphinx warning: $dest/build/html/index.html"
