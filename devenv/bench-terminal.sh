#!/usr/bin/env bash
# Terminal cost (issue 7): bytes sextant writes to its terminal per minute, idle (the
# demo namespace) and while a Deployment's pods are replaced every 5 s (all namespaces),
# interactively and in watch mode;
# and its CPU over the same minutes. The terminal is a pty (script) of 160x45.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/churn.sh"
cd "$root"
secs=${SECS:-60}
sextant_and_env
churn_pid=
trap 'churn_stop; [ $started_env = 1 ] && "$root/devenv/down.sh"' EXIT
hz=$(getconf CLK_TCK)

# measure LABEL EXTRA-ARGS: bytes and CPU over $secs seconds, after 15 s to settle.
measure() {
  local log capture
  log="/tmp/sextant-term-$(printf %s "$1" | tr -c 'a-zA-Z0-9' -).log"
  capture=$(mktemp)
  script -qfc "stty cols 160 rows 45; $bin --config $envdir/config.toml $2 --log-file $log" "$capture" >/dev/null 2>&1 &
  sleep 15
  local pid
  pid=$(pgrep -n -f -- "--log-file $log")
  [ "$(cat /proc/$pid/comm)" = sextant ] || die "found $(cat /proc/$pid/comm) instead of sextant"
  local t0 b0 t1 b1
  t0=$(awk '{print $14 + $15}' "/proc/$pid/stat"); b0=$(stat -c %s "$capture")
  sleep "$secs"
  t1=$(awk '{print $14 + $15}' "/proc/$pid/stat"); b1=$(stat -c %s "$capture")
  kill "$pid" 2>/dev/null || true
  sleep 1
  rm -f "$capture"
  printf '%-28s %8s bytes/min  %s%% of a core\n' "$1" "$(( (b1 - b0) * 60 / secs ))" \
    "$(awk -v t=$((t1 - t0)) -v hz="$hz" -v s="$secs" 'BEGIN {printf "%.2f", 100 * t / hz / s}')"
}

out=()
out+=("$(measure "interactive, idle" "")")
out+=("$(measure "watch mode, idle" "--watch")")
churn_start 5
sleep 10
# All namespaces, so the churn is in view.
out+=("$(measure "interactive -A, churning" "-A")")
out+=("$(measure "watch mode -A, churning" "--watch -A")")
churn_stop
printf '%s\n' "${out[@]}"
