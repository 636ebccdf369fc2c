#!/usr/bin/env bash
# What the mailauth roles write on a host, one line per item, sorted: for every file and
# directory its type, mode, owner, size and mtime, for every file its SHA-256, and the pids of
# Postfix's master and the milters (a restart shows). Two equal outputs: nothing changed.
set -euo pipefail
paths=()
for p in /etc/postfix /etc/opendkim /etc/opendkim.conf /etc/dkimpy-milter /etc/dkimkeys \
         /etc/default/opendkim /etc/default/dkimpy-milter /etc/aliases /etc/aliases.db /etc/mailname \
         /etc/dovecot/local.conf /etc/tmpfiles.d/dkimpy-milter.conf; do
  if [ -e "$p" ]; then paths+=("$p"); fi
done
find "${paths[@]}" -printf '%p %y %m %u:%g %s %T@\n' | sort
find "${paths[@]}" -type f -exec sha256sum {} + | sort -k 2
ps -e -o pid=,comm= | awk '$2 == "master" || $2 == "opendkim" || $2 == "dkimpy-milter" {print "pid", $2, $1}' | sort
