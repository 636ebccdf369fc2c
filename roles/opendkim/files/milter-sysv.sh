#!/bin/sh
# Stop or restart a milter started by its Debian init script on a host without systemd
# (containers). Written by the mailauth.core.opendkim role.
#
# usage: milter-sysv.sh stop|restart SERVICE PIDFILE COMM
#
# Why not `service SERVICE restart`: the init scripts find the daemon with
# `start-stop-daemon --exec`, which reads /proc/PID/exe. Without CAP_SYS_PTRACE (Docker's
# default) root cannot read it for a process of another user, so `stop` finds nothing, the new
# instance cannot bind the socket, and the old one keeps running with the old configuration.
# This script trusts the pid file instead, checks that the process is the expected daemon
# (/proc/PID/comm), and waits until it is gone or a zombie (a container whose PID 1 does not
# reap children keeps zombies, which hold no socket).
set -eu
action=$1 service=$2 pidfile=$3 comm=$4

state() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1; }

stop() {
  [ -s "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  case "$pid" in '' | *[!0-9]*) rm -f "$pidfile"; return 0 ;; esac
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != "$comm" ]; then
    rm -f "$pidfile"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  i=0
  while [ $i -lt 100 ]; do
    s=$(state "$pid")
    if [ -z "$s" ] || [ "$s" = Z ]; then
      rm -f "$pidfile"
      return 0
    fi
    i=$((i + 1))
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

case "$action" in
  stop) stop ;;
  restart) stop; service "$service" start ;;
  *) echo "usage: $0 stop|restart SERVICE PIDFILE COMM" >&2; exit 2 ;;
esac
