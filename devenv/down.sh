#!/usr/bin/env bash
# Stops every process of the local environment and frees its ports.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
[ -d "$envdir/pids" ] || exit 0
# Reverse start order, so nothing restarts what was just stopped.
for name in node-agent prometheus kube-scheduler kube-controller-manager kube-apiserver px-sim etcd; do
  f=$envdir/pids/$name
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$f"
done
say "environment stopped"
