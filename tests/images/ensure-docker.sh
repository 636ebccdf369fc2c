#!/usr/bin/env bash
# Make sure a Docker engine answers. Installs docker.io and starts dockerd in the
# background when `docker info` fails (there is no init system to start it for us).
set -euo pipefail
if docker info >/dev/null 2>&1; then
  exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo "ensure-docker: installing docker.io" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q docker.io >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  echo "ensure-docker: starting dockerd (log in /var/log/mailauth-dockerd.log)" >&2
  nohup dockerd >/var/log/mailauth-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && exit 0
    sleep 1
  done
  echo "ensure-docker: dockerd did not come up; see /var/log/mailauth-dockerd.log" >&2
  exit 1
fi
