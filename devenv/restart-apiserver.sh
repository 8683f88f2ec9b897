#!/usr/bin/env bash
# Stops the environment's kube-apiserver, waits DOWN seconds, and starts it again with
# the same arguments: for tests that sextant survives an API server restart.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
down=${1:-3}
pid=$(cat "$envdir/pids/kube-apiserver")
# KILL, as a crash or an OOM kill would: TERM waits up to 60 s for open watches.
kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
sleep "$down"
start kube-apiserver "$kubebin/kube-apiserver" $(cat "$envdir/kube-apiserver.args")
