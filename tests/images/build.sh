#!/usr/bin/env bash
# Build the local base images mailauth/debian12 (bookworm) and mailauth/debian13 (trixie)
# with debootstrap and `docker import`. No container registry is involved.
#
# Cached: an image is rebuilt only when this script changes (its hash is stored in
# the image label mailauth.build) or when FORCE=1.
#
# Mirror: $MAILAUTH_DEBIAN_MIRROR, or else the first Debian URI of the host's own apt sources.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build_id=$(sha256sum "$here/build.sh" | cut -c1-16)

mirror_from_host() {
  local uri=""
  if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
    # deb822: take the URIs of the first stanza whose suites are not the security ones
    uri=$(awk 'BEGIN{RS=""} /Types:[^\n]*deb/ && !/Suites:[^\n]*-security/ {
            if (match($0, /URIs:[ \t]*[^ \t\n]+/)) { s=substr($0, RSTART, RLENGTH); sub(/URIs:[ \t]*/, "", s); print s; exit } }' \
            /etc/apt/sources.list.d/*.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1=="deb" && $0 !~ /security/ { for (i=2;i<=NF;i++) if ($i ~ /^(https?|ftp|file):/) { print $i; exit } }' /etc/apt/sources.list)
  fi
  printf '%s' "$uri"
}

mirror=${MAILAUTH_DEBIAN_MIRROR:-$(mirror_from_host)}
if [ -z "$mirror" ]; then
  echo "build.sh: no Debian mirror found in the host's apt sources; set MAILAUTH_DEBIAN_MIRROR" >&2
  exit 2
fi

need() { command -v "$1" >/dev/null 2>&1; }
if ! need debootstrap; then
  echo "build.sh: installing debootstrap" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
fi

# Packages every lab host needs so that Ansible can manage it, and systemd as PID 1 (the
# containers boot like a real host: units, enabled services, reloads, a restart brings them back).
include=systemd,systemd-sysv,dbus,python3,python3-apt,sudo,ca-certificates,iproute2,procps,netbase,less

build_one() {
  local tag=$1 suite=$2
  local image="mailauth/$tag:latest"
  local have
  have=$(docker image inspect "$image" --format '{{ index .Config.Labels "mailauth.build" }}' 2>/dev/null || true)
  if [ "$have" = "$build_id" ] && [ "${FORCE:-0}" != 1 ]; then
    echo "image $image is up to date ($build_id)"
    return 0
  fi
  local root
  root=$(mktemp -d /var/tmp/mailauth-rootfs.XXXXXX)
  trap 'rm -rf "$root"' RETURN
  echo "building $image from $suite (mirror from host apt sources or MAILAUTH_DEBIAN_MIRROR)"
  local start=$SECONDS
  debootstrap --variant=minbase --include="$include" "$suite" "$root" "$mirror" >"$root.log" 2>&1 || {
    tail -20 "$root.log" >&2; rm -f "$root.log"; return 1; }
  rm -f "$root.log"
  # The container's apt uses the same mirror as the host.
  printf 'deb %s %s main\n' "$mirror" "$suite" >"$root/etc/apt/sources.list"
  # No policy-rc.d: as on a real host, package scripts start their services (systemd is PID 1).
  # Booted unprivileged with --cgroupns=host, /sys/fs/cgroup read-write and tmpfs on /run,
  # /run/lock and /tmp, both images reach `running` with no unit masked (systemd 252 and 257).
  # Keep the image small.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/*
  # No package lists in the image: date the lists directory to the epoch so that
  # apt's cache_valid_time logic (Ansible) fetches them on first use.
  rm -f "$root"/var/lib/apt/periodic/update-success-stamp
  touch -d @0 "$root"/var/lib/apt/lists
  tar -C "$root" -c . | docker import \
    --change "LABEL mailauth.build=$build_id" \
    --change "LABEL mailauth.suite=$suite" \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV container=docker' \
    --change 'CMD ["/lib/systemd/systemd"]' \
    - "$image" >/dev/null
  echo "built $image in $((SECONDS - start)) s"
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(debian12 debian13)
for t in "${targets[@]}"; do
  case "$t" in
    debian12) build_one debian12 bookworm ;;
    debian13) build_one debian13 trixie ;;
    *) echo "build.sh: unknown image $t (debian12 or debian13)" >&2; exit 2 ;;
  esac
done
