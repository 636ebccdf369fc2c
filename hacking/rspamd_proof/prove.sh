#!/usr/bin/env bash
# rspamd as the DKIM signer (roles/arc, arc_dkim_signing), proven in throwaway systemd containers: a signer per
# distribution (the opendkim role's keys, OpenDKIM verify-only, rspamd signing) and BIND on rsp-ns for the keys.
# Usage: hacking/rspamd_proof/prove.sh [keep] [distros]   e.g. prove.sh "" "12 13"   (default: 12 13)
#        PROOF_STAGE=mail prove.sh keep "12 13": only the mail part, on containers a previous "keep" run left up.
# Low priority: nice 19 and one CPU per container (the machine is shared).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[ -x "$root/.venv/bin/ansible-playbook" ] && PATH="$root/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="${ANSIBLE_COLLECTIONS_PATH:-$root/.cache/collections}" ANSIBLE_NOCOLOR=1
export ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_DEPRECATION_WARNINGS=0
net=rsp-net
distros=${2:-12 13}
hosts="ns:12:53"
for d in $distros; do hosts="$hosts mx$d:$d:$d"; done
limit=$(for d in $distros; do printf 'mx%s,' "$d"; done)ns
play() { nice -n 19 ansible-playbook -i "$here/inventory.yml" --limit "$limit" "$@"; }
changed() { grep -E '^[a-z0-9]+ +: ok=' | sed -E 's/.*changed=([0-9]+).*/\1/' | paste -sd+ | bc; }

stage=${PROOF_STAGE:-all}
cleanup() {
    for h in ns mx12 mx13; do docker rm -f "rsp-$h" >/dev/null 2>&1 || true; done
    docker network rm "$net" >/dev/null 2>&1 || true
}
[ "${1:-}" = keep ] || trap cleanup EXIT
first=${distros%% *}
if [ "$stage" = all ]; then
cleanup
docker network create --subnet 172.30.44.0/24 "$net" >/dev/null
for h in $hosts; do
    IFS=: read -r name distro ip <<<"$h"
    docker run -d --name "rsp-$name" --hostname "$name.example.test" --cgroupns=host --cpus 1 \
        -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
        --stop-signal SIGRTMIN+3 --network "$net" --ip "172.30.44.$ip" \
        "mailauth/debian$distro:latest" /lib/systemd/systemd >/dev/null
done
sleep 3
# python3-cryptography and opendkim: the opendkim role's dkim_key needs both (the library, the user) already in
# check mode (step 1); the opendkim role does not skip it on a host without them, as the arc role does for rspamd.
echo "== packages for the lab (not the roles')"
for h in $hosts; do
    name=${h%%:*}
    case $name in
        ns) pkgs="bind9 python3" ;;
        *) pkgs="postfix python3 python3-dkim python3-dnspython python3-cryptography opendkim" ;;
    esac
    nice -n 19 docker exec "rsp-$name" bash -c "echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs >/dev/null" &
done
for job in $(jobs -p); do wait "$job"; done
docker exec rsp-ns bash -c 'cat > /etc/bind/named.conf.options <<EOT
options { directory "/var/cache/bind"; recursion no; allow-query { any; }; listen-on { any; }; listen-on-v6 { none; }; dnssec-validation no; };
EOT
systemctl restart named'
for h in $hosts; do docker cp "$here/proof.py" "rsp-${h%%:*}:/usr/local/bin/rsp-proof" >/dev/null; done

echo "== four steps: check, apply, check again, apply again"
for name in check apply check-again apply-again; do
    case $name in
        check) opts=(--check --diff) ;;
        check-again) opts=(--check) ;;
        *) opts=() ;;
    esac
    out=$(play "$here/rspamd.yml" "${opts[@]}" 2>&1) || { echo "$out" | tail -40; exit 1; }
    n=$(echo "$out" | changed)
    echo "$name: changed=$n"
    case $name in check-again|apply-again) [ "$n" = 0 ] || { echo "$out" | grep -B3 changed: ; exit 1; } ;; esac
done
echo "== no key material in the output (the copies are written on the host, never returned)"
out=$(play "$here/rspamd.yml" --limit "mx$first" -v 2>&1)
seed=$(docker exec "rsp-mx$first" cat "/var/lib/rspamd/dkim/ed$first.test/mx-ed.key")
if echo "$out" | grep -qF "$seed" || echo "$out" | grep -q "PRIVATE KEY"; then echo "key material printed"; exit 1; fi
echo "no key material in -v output; rspamd's copies:"
docker exec "rsp-mx$first" bash -c 'find /var/lib/rspamd/dkim -printf "  %M %u:%g %p\n" | sort -k3'

echo "== bad input refused before any change"
before=$(docker exec "rsp-mx$first" bash -c 'find /etc/rspamd /var/lib/rspamd/dkim -type f -exec md5sum {} + | sort | md5sum')
for bad in '{"arc_dkim_keys": [{"domain": "bad..test", "selector": "s1", "key_type": "rsa"}]}' \
           '{"arc_dkim_keys": [{"domain": "ok.test", "selector": "bad sel", "key_type": "rsa"}]}' \
           '{"arc_dkim_keys": [{"domain": "ok.test", "selector": "s1", "key_type": "dsa"}]}' \
           '{"arc_dkim_keys": [{"domain": "ok.test", "selector": "s1", "key_type": "rsa", "subdomains": true}]}' \
           '{"arc_dkim_sign_networks": ["mx.example.test"]}' '{"arc_dkim_sign_networks": ["0.0.0.0/0"]}' \
           '{"arc_dkim_key_dir": "/var/lib/rspamd/dkim\"x"}' '{"arc_dkim_signing": "yes please"}'; do
    if out=$(play "$here/rspamd.yml" --limit "mx$first" -e "$bad" 2>&1); then echo "accepted: $bad"; exit 1; fi
    echo "refused $bad: $(echo "$out" | grep -o -E '(Invalid ARC input|Validation of arguments failed)[^"]*' | head -1 | cut -c1-220)"
done
after=$(docker exec "rsp-mx$first" bash -c 'find /etc/rspamd /var/lib/rspamd/dkim -type f -exec md5sum {} + | sort | md5sum')
if [ "$before" = "$after" ]; then echo "rspamd's files and keys unchanged"; else echo "files changed"; exit 1; fi

fi
echo "== lab: DNS, Postfix"
for h in $hosts; do docker exec "rsp-${h%%:*}" bash -c 'echo "nameserver 172.30.44.53" > /etc/resolv.conf'; done
play "$here/lab.yml" >/dev/null
sleep 2

fail=0
tag=$(date +%H%M%S)
for d in $distros; do
    echo "== Debian $d ($(docker exec "rsp-mx$d" rspamd --version | head -1))"
    s() { docker exec "rsp-mx$d" python3 /usr/local/bin/rsp-proof send "$@"; }
    c() { docker exec "rsp-mx$d" python3 /usr/local/bin/rsp-proof check "$@" || fail=1; }
    s --domain "rsa$d.test" --subject "rsa-$d-$tag"
    s --domain "ed$d.test" --subject "ed-$d-$tag"
    s --domain "dual$d.test" --subject "dual-$d-$tag"
    docker exec rsp-ns python3 /usr/local/bin/rsp-proof send --domain "dual$d.test" --subject "outside-$d-$tag" \
        --server "172.30.44.$d"
    c --subject "rsa-$d-$tag" --expect "rsa$d.test/mx-rsa/rsa-sha256:pass"
    c --subject "ed-$d-$tag" --expect "ed$d.test/mx-ed/ed25519-sha256:pass"
    c --subject "dual-$d-$tag" --expect "dual$d.test/mx-rsa/rsa-sha256:pass" --expect "dual$d.test/mx-ed/ed25519-sha256:pass"
    c --subject "outside-$d-$tag"
done

new=mx-rsa-$tag
echo "== key change on every signer: rsa<N>.test moves to the selector $new; rspamd reloads, its main PID stays"
declare -A pid1
for d in $distros; do pid1[$d]=$(docker exec "rsp-mx$d" systemctl show -p MainPID --value rspamd); done
out=$(play "$here/lab.yml" -e "proof_rsa_selector=$new" 2>&1) || { echo "$out" | tail -30; exit 1; }
echo "$out" | grep -A2 -E 'RUNNING HANDLER \[mailauth.core.arc : (Reload|Restart)' | grep -E 'HANDLER|changed:|skipping:' \
    | sed 's/^/  /; s/ \**$//'
sleep 2
for d in $distros; do
    echo "== Debian $d after the key change"
    s() { docker exec "rsp-mx$d" python3 /usr/local/bin/rsp-proof send "$@"; }
    c() { docker exec "rsp-mx$d" python3 /usr/local/bin/rsp-proof check "$@" || fail=1; }
    pid2=$(docker exec "rsp-mx$d" systemctl show -p MainPID --value rspamd)
    echo "  rspamd main PID before ${pid1[$d]}, after $pid2: $([ "${pid1[$d]}" = "$pid2" ] && echo same || echo CHANGED)"
    [ "${pid1[$d]}" = "$pid2" ] || fail=1
    docker exec "rsp-mx$d" bash -c "ls /var/lib/rspamd/dkim/rsa$d.test/ | sed 's/^/  copy: /'"
    s --domain "rsa$d.test" --subject "rsa-new-$d-$tag"
    c --subject "rsa-new-$d-$tag" --expect "rsa$d.test/$new/rsa-sha256:pass"
    echo "-- rspamd processes (pid, RSS KiB, CPU time)"
    docker exec "rsp-mx$d" ps -C rspamd -o pid=,rss=,cputime=,args= | sed "s/^/  /"
done
exit $fail
