#!/usr/bin/env bash
# The SRS and forwarding proof of the srs role's README, in throwaway containers: for each Debian
# release (12, 13) a sender snd<N>, a forwarder fwd<N> (the srs role and a forward) and a receiver
# rcv<N>, on the docker network srs-net (172.30.41.0/24), run with playbooks/site.yml itself
# (mailauth_srs: true on the forwarder; DKIM and DNS publishing off: no nameserver here, Postfix's
# SMTP client finds the next hop in /etc/hosts).
#
#   tests/containers/srs/run.sh [12] [13]     (needs docker, the mailauth/debian<N> images, the venv)
#   KEEP=1 keeps the containers; they and the network are removed otherwise.
#
# Asserts: bad input refused before any change; check, apply, check (changed=0), apply (changed=0);
# forwarded mail reaches the receiver with Return-Path SRS0=...@fwd<N>.test; mail delivered on the
# forwarder keeps its sender; a bounce from the receiver to the SRS address reaches the sender.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
releases=("${@:-12 13}")
read -r -a releases <<<"${releases[*]}"
work=$(mktemp -d)
export ANSIBLE_COLLECTIONS_PATH="$root/.cache/collections" ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0
export ANSIBLE_LOCAL_TEMP="$work/tmp" ANSIBLE_HOST_KEY_CHECKING=0

fail() { echo "FAIL: $*" >&2; exit 1; }

cleanup() {
  if [ "${KEEP:-0}" != 1 ]; then
    for n in "${releases[@]}"; do
      for h in snd fwd rcv; do docker rm -f "srs-$h$n" >/dev/null 2>&1 || true; done
    done
    if [ -z "$(docker network inspect srs-net -f '{{range .Containers}}x{{end}}' 2>/dev/null)" ]; then
      docker network rm srs-net >/dev/null 2>&1 || true
    fi
  fi
  rm -rf "$work"
}
trap cleanup EXIT

docker network inspect srs-net >/dev/null 2>&1 || docker network create --subnet 172.30.41.0/24 srs-net >/dev/null

start() {  # start <release>: three containers with each other's names in /etc/hosts
  local n=$1 h i hosts=()
  for h in snd fwd rcv; do
    case $h in snd) i=1 ;; fwd) i=2 ;; rcv) i=3 ;; esac
    hosts+=(--add-host "$h$n.test:172.30.41.$((n * 10 + i))" --add-host "mail.$h$n.test:172.30.41.$((n * 10 + i))")
  done
  for h in snd fwd rcv; do
    case $h in snd) i=1 ;; fwd) i=2 ;; rcv) i=3 ;; esac
    docker inspect "srs-$h$n" >/dev/null 2>&1 && continue
    docker run -d --name "srs-$h$n" --hostname "mail.$h$n.test" --ip "172.30.41.$((n * 10 + i))" \
      --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
      --stop-signal SIGRTMIN+3 --network srs-net "${hosts[@]}" "mailauth/debian$n:latest" /lib/systemd/systemd >/dev/null
  done
  # As the lab's prepare step: package lists, so that check mode on a new host can plan the installs.
  for h in snd fwd rcv; do docker exec "srs-$h$n" apt-get update -qq >/dev/null; done
  docker exec "srs-snd$n" useradd -M alice 2>/dev/null || true
  docker exec "srs-fwd$n" useradd -M carol 2>/dev/null || true
  docker exec "srs-rcv$n" useradd -M bob 2>/dev/null || true
}

inventory() {  # inventory <release> <extra yaml for fwd>
  local n=$1
  cat <<YAML
mailservers:
  vars:
    ansible_connection: community.docker.docker
    ansible_python_interpreter: /usr/bin/python3
    mailauth_dkim_enabled: false
    mailauth_dns_publish: false
    postfix_maillog_file: /var/log/mail.log
    postfix_main_cf_extra: {smtp_dns_support_level: disabled}
    mailauth_domains:
      - {name: snd$n.test, mail_hosts: [snd$n]}
      - name: fwd$n.test
        mail_hosts: [fwd$n]
        forwards: {bob: bob@rcv$n.test, lost: nosuchuser@rcv$n.test}
      - {name: rcv$n.test, mail_hosts: [rcv$n]}
  hosts:
    snd$n: {ansible_host: srs-snd$n}
    fwd$n:
      ansible_host: srs-fwd$n
      mailauth_srs: true
$2
    rcv$n:
      ansible_host: srs-rcv$n
      # Accept any local part, so that the receiver itself bounces mail for an unknown user.
      postfix_main_cf_extra: {smtp_dns_support_level: disabled, local_recipient_maps: ""}
YAML
}

play() {  # play <inventory> <log> [ansible-playbook options]: prints changed=<sum>
  local inv=$1 log=$2
  shift 2
  ansible-playbook -i "$inv" "$root/playbooks/site.yml" "$@" >"$log" 2>&1 || { grep -B3 -A3 "^fatal:" "$log" | head -60 >&2; return 1; }
  awk '/changed=/ { for (i = 1; i <= NF; i++) if ($i ~ /^changed=/) { split($i, a, "="); s += a[2] } } END { print s + 0 }' "$log"
}

wait_for() {  # wait_for <container> <file> <pattern>
  local i
  for i in $(seq 60); do
    docker exec "$1" grep -q -- "$3" "$2" 2>/dev/null && return 0
    sleep 1
  done
  return 1
}

for n in "${releases[@]}"; do
  echo "=== Debian $n"
  start "$n"
  mkdir -p "$work/tmp"
  inventory "$n" "      srs_domain: 'bad domain..test'
      srs_exclude_domains: [fwd$n.test, '-x-.test']" >"$work/bad.yml"
  inventory "$n" "" >"$work/inv.yml"

  if play "$work/bad.yml" "$work/bad.log" --limit "fwd$n" >/dev/null 2>&1; then fail "bad input accepted"; fi
  if ! grep -q "srs_domain" "$work/bad.log" || ! grep -q "srs_exclude_domains\[1\]" "$work/bad.log"; then
    fail "bad input: no message naming the variables"
  fi
  grep -o "Invalid SRS input: [^\"]*" "$work/bad.log" | head -1
  docker exec "srs-fwd$n" test ! -e /etc/postfix/main.cf || fail "bad input: main.cf written"
  docker exec "srs-fwd$n" dpkg -s postsrsd >/dev/null 2>&1 && fail "bad input: postsrsd installed"
  echo "bad input refused before any change: ok"

  c=$(play "$work/inv.yml" "$work/check1.log" --check --diff) || fail "check mode failed"
  echo "1. check: changed=$c"
  c=$(play "$work/inv.yml" "$work/apply1.log") || fail "apply failed"
  echo "2. apply: changed=$c"
  c=$(play "$work/inv.yml" "$work/check2.log" --check --diff) || fail "second check failed"
  echo "3. check: changed=$c"
  [ "$c" = 0 ] || { grep -B2 "^changed" "$work/check2.log" >&2; fail "second check changed $c"; }
  c=$(play "$work/inv.yml" "$work/apply2.log") || fail "second apply failed"
  echo "4. apply: changed=$c"
  [ "$c" = 0 ] || fail "second apply changed $c"
  secret=$(docker exec "srs-fwd$n" head -1 /etc/postsrsd.secret)
  [ -n "$secret" ] || fail "no secret on the forwarder"
  if grep -qF -- "$secret" "$work"/*.log; then fail "the secret was printed"; fi
  echo "secret never printed: ok"

  tag="srs-proof-$n-$(date +%s)"
  docker exec "srs-snd$n" sh -c "printf 'From: alice@snd$n.test\nTo: bob@fwd$n.test\nSubject: $tag forwarded\n\nhello\n' | sendmail -f alice@snd$n.test bob@fwd$n.test"
  docker exec "srs-snd$n" sh -c "printf 'From: alice@snd$n.test\nTo: carol@fwd$n.test\nSubject: $tag local\n\nhello\n' | sendmail -f alice@snd$n.test carol@fwd$n.test"
  docker exec "srs-snd$n" sh -c "printf 'From: alice@snd$n.test\nTo: lost@fwd$n.test\nSubject: $tag bounce\n\nhello\n' | sendmail -f alice@snd$n.test lost@fwd$n.test"

  wait_for "srs-rcv$n" /var/mail/bob "$tag forwarded" || fail "forwarded mail did not reach bob@rcv$n.test"
  rp=$(docker exec "srs-rcv$n" grep -B30 "$tag forwarded" /var/mail/bob | grep '^Return-Path:' | tail -1)
  echo "forwarded, at the receiver: $rp"
  [[ $rp =~ ^Return-Path:\ \<SRS0=[^=]+=[^=]+=snd$n\.test=alice@fwd$n\.test\>$ ]] || fail "forwarded mail not rewritten: $rp"

  wait_for "srs-fwd$n" /var/mail/carol "$tag local" || fail "local mail did not reach carol@fwd$n.test"
  rp=$(docker exec "srs-fwd$n" grep -B30 "$tag local" /var/mail/carol | grep '^Return-Path:' | tail -1)
  echo "delivered on the forwarder: $rp"
  [ "$rp" = "Return-Path: <alice@snd$n.test>" ] || fail "local mail rewritten: $rp"

  wait_for "srs-snd$n" /var/mail/alice "$tag bounce" || fail "the bounce did not reach alice@snd$n.test"
  docker exec "srs-rcv$n" grep -q "to=<SRS0=.*@fwd$n.test>.*status=sent" /var/log/mail.log || fail "the receiver sent no bounce to the SRS address"
  echo "bounce: the receiver's bounce to $(docker exec "srs-rcv$n" grep -o "to=<SRS0=[^>]*@fwd$n.test>" /var/log/mail.log | tail -1) reached alice@snd$n.test:"
  docker exec "srs-snd$n" grep -m1 -A0 "^Subject: Undelivered Mail" /var/mail/alice || fail "no bounce report in alice's mailbox"
  echo "=== Debian $n: ok"
done
