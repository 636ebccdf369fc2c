#!/usr/bin/env bash
# The ARC role's proof in throwaway systemd containers (roles/arc/README.md, "Proof"): Debian 12 and 13,
# a forwarder that seals and a receiver that validates for each, BIND on arc-ns for the keys.
# Usage: hacking/arc_proof/prove.sh [keep]   (keep: leave the containers and the network afterwards)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[ -x "$root/.venv/bin/ansible-playbook" ] && PATH="$root/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$root/.cache/collections" ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0
export ANSIBLE_DEPRECATION_WARNINGS=0
net=arc-net
hosts="ns:12:53 fwd12:12:12 rcv12:12:22 fwd13:13:13 rcv13:13:23"
play() { ansible-playbook -i "$here/inventory.yml" "$@"; }
changed() { grep -E '^[a-z0-9]+ +: ok=' | sed -E 's/.*changed=([0-9]+).*/\1/' | paste -sd+ | bc; }

cleanup() {
    for h in $hosts; do docker rm -f "arc-${h%%:*}" >/dev/null 2>&1 || true; done
    docker network rm "$net" >/dev/null 2>&1 || true
}
[ "${1:-}" = keep ] || trap cleanup EXIT
cleanup
docker network create --subnet 172.30.42.0/24 "$net" >/dev/null
for h in $hosts; do
    IFS=: read -r name distro ip <<<"$h"
    docker run -d --name "arc-$name" --hostname "$name.example.test" --cgroupns=host \
        -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
        --stop-signal SIGRTMIN+3 --network "$net" --ip "172.30.42.$ip" \
        "mailauth/debian$distro:latest" /lib/systemd/systemd >/dev/null
done
sleep 3
echo "== packages for the lab (not the role's)"
for h in $hosts; do
    name=${h%%:*}
    case $name in
        ns) pkgs="bind9 python3" ;;
        *) pkgs="postfix python3 python3-dkim python3-dnspython" ;;
    esac
    docker exec "arc-$name" bash -c "echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs >/dev/null" &
done
for job in $(jobs -p); do wait "$job"; done
# BIND answers the lab's zone only (no recursion: no query leaves the lab network).
docker exec arc-ns bash -c 'cat > /etc/bind/named.conf.options <<EOT
options { directory "/var/cache/bind"; recursion no; allow-query { any; }; listen-on { any; }; listen-on-v6 { none; }; dnssec-validation no; };
EOT
systemctl restart named'
for h in $hosts; do docker cp "$here/proof.py" "arc-${h%%:*}:/usr/local/bin/arc-proof" >/dev/null; done

echo "== four steps: check, apply, check again, apply again"
for name in check apply check-again apply-again; do
    case $name in
        check) opts=(--check --diff) ;;
        check-again) opts=(--check) ;;
        *) opts=() ;;
    esac
    out=$(play "$here/arc.yml" "${opts[@]}" 2>&1) || { echo "$out" | tail -40; exit 1; }
    n=$(echo "$out" | changed)
    echo "$name: changed=$n"
    case $name in check-again|apply-again) [ "$n" = 0 ] || { echo "$out" | grep -B3 changed: ; exit 1; } ;; esac
done

echo "== bad input refused before any change"
before=$(docker exec arc-rcv12 bash -c 'find /etc/rspamd -type f -exec md5sum {} + | sort | md5sum')
for bad in '{"arc_selector": "bad.sel"}' '{"arc_domain": "no_such..domain"}' '{"arc_socket": "local:relative"}' \
           '{"arc_nameservers": ["10.0.0.0/8"]}' '{"arc_key_size": 512}' \
           '{"arc_trusted_forwarders": ["ok.test", "bad\\"q.test"]}' '{"arc_authserv_id": "other.example.test"}'; do
    if out=$(play "$here/arc.yml" --limit rcv12 -e "$bad" 2>&1); then echo "accepted: $bad"; exit 1; fi
    echo "refused $bad: $(echo "$out" | grep -o -E '(Invalid ARC input|Validation of arguments failed)[^"]*' | head -1)"
done
after=$(docker exec arc-rcv12 bash -c 'find /etc/rspamd -type f -exec md5sum {} + | sort | md5sum')
[ "$before" = "$after" ] && echo "rspamd's files unchanged"

echo "== lab: sender keys, DNS, Postfix"
# From here on the hosts resolve with arc-ns only (apt, which needs Docker's resolver, is done).
for h in $hosts; do docker exec "arc-${h%%:*}" bash -c 'echo "nameserver 172.30.42.53" > /etc/resolv.conf'; done
play "$here/lab.yml" >/dev/null
sleep 2

# The symbols the role lets run (one list, in _arc.py), and the check of rspamd's log against them: the
# symbols of every scanned message are among those (rspamd's settings rule applied; its own "apply settings"
# line is at info level, shown when the log has it).
read -r -a allowed <<<"$(PYTHONPATH="$root/.cache/collections" python3 -c \
    'from ansible_collections.mailauth.core.plugins.module_utils import _arc; print(" ".join(_arc.SYMBOLS))')"
symbols_check='
import re, sys
allowed = set(sys.argv[1:])
log = open("/var/log/rspamd/rspamd.log", errors="replace").read()
applied = re.findall(r"apply settings according to rule (\S+)", log)
scans = re.findall(r"\(default: [^\[]*\[[^\]]*\] \[(.*?)\]\), len: ", log)
seen = {name for scan in scans for name in re.findall(r"(?:^|,)([A-Z][A-Z0-9_]*)\(", scan)}
print("%d scans, settings applied %d times (%s), symbols %s" % (len(scans), len(applied), " ".join(sorted(set(applied))), " ".join(sorted(seen))))
if not scans or seen - allowed:
    print("NOT ARC-only: symbols outside the settings: %s" % " ".join(sorted(seen - allowed)))
    sys.exit(1)
'
fail=0
for d in 12 13; do
    echo "== Debian $d"
    key=/etc/dkimkeys/sender.fwd$d.test/s1.private
    f() { docker exec "arc-fwd$d" python3 /usr/local/bin/arc-proof send --domain "sender.fwd$d.test" --rcpt-domain "rcv$d.test" --key "$key" "$@"; }
    c() { docker exec "arc-rcv$d" python3 /usr/local/bin/arc-proof check "$@" || fail=1; }
    f --subject "plain-$d"
    f --subject "footer-$d" --footer
    c --subject "plain-$d" --dkim pass --cv pass --arc pass
    c --subject "footer-$d" --dkim fail --cv pass --arc pass
    docker exec "arc-rcv$d" python3 /usr/local/bin/arc-proof tamper --subject "plain-$d" --new-subject "tampered-$d"
    c --subject "tampered-$d" --cv fail --arc fail
    echo "-- rspamd ran the ARC-only settings on every message, and no symbol outside them"
    for h in fwd$d rcv$d; do
        docker exec "arc-$h" python3 -c "$symbols_check" "${allowed[@]}" | sed "s/^/  $h /"
        [ "${PIPESTATUS[0]}" = 0 ] || fail=1
    done
    echo "-- rspamd processes (RSS KiB, CPU seconds) on fwd$d and rcv$d"
    for h in fwd$d rcv$d; do
        docker exec "arc-$h" ps -C rspamd -o rss=,cputime=,args= | sed "s/^/  $h /"
    done
done
exit $fail
