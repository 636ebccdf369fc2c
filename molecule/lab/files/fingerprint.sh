#!/usr/bin/env bash
# What the mailauth roles write on a host, one line per item, sorted: for every file and
# directory its type, mode, owner, size and mtime, for every file its SHA-256, and the pids of
# Postfix's master, the milters, unbound and postsrsd (a restart shows). Two equal outputs: nothing changed.
set -euo pipefail
paths=()
for p in /etc/postfix /etc/opendkim /etc/opendkim.conf /etc/dkimpy-milter /etc/dkimkeys \
         /etc/default/opendkim /etc/default/dkimpy-milter /etc/aliases /etc/aliases.db /etc/mailname \
         /etc/dovecot /etc/tmpfiles.d/dkimpy-milter.conf \
         /etc/unbound /etc/resolv.conf /etc/mailauth /usr/local/lib/mailauth /etc/opendmarc.conf /etc/opendmarc \
         /etc/default/opendmarc /etc/systemd/system/mailauth-junk-expunge.service \
         /etc/systemd/system/mailauth-junk-expunge.timer /usr/local/sbin/mailauth-junk-expunge \
         /etc/default/postsrsd /etc/postsrsd.secret /etc/rspamd /var/lib/dkim/arc /var/lib/rspamd/dkim; do
  if [ -e "$p" ]; then paths+=("$p"); fi
done
find "${paths[@]}" -printf '%p %y %m %u:%g %s %T@\n' | sort
find "${paths[@]}" -type f -exec sha256sum {} + | sort -k 2
ps -e -o pid=,comm= | awk '$2 == "master" || $2 == "opendkim" || $2 == "dkimpy-milter" || $2 == "opendmarc" || $2 == "unbound" || $2 == "postsrsd" {print "pid", $2, $1}' | sort
# rspamd: its main process only (a reload replaces the workers, not it).
ps -e -o pid=,ppid=,comm= | awk '$3 == "rspamd" && $2 == 1 {print "pid", $3, $1}'
