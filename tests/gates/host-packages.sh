#!/usr/bin/env bash
# Debian packages the gates need on the controller: real servers for the integration
# tests (BIND, PowerDNS, unbound, chromium for the check report's screenshot), dig, shellcheck for
# ansible-test, debootstrap for the images.
set -euo pipefail
pkgs=(iproute2 bind9 bind9-utils bind9-dnsutils pdns-server pdns-backend-sqlite3 sqlite3 unbound shellcheck debootstrap chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "host-packages: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# The servers are started by the tests themselves; keep the packages from starting them.
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
