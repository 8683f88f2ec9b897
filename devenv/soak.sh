#!/usr/bin/env bash
# Soak (issue 7): sextant --watch -A for SOAK seconds (default one hour) while a
# Deployment's pods are replaced every 5 s; RSS is sampled every minute and the start
# (after the first minute) and end values are reported with the maximum.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/churn.sh"
cd "$root"
soak=${SOAK:-3600}
sextant_and_env
trap 'churn_stop; [ $started_env = 1 ] && "$root/devenv/down.sh"' EXIT
churn_start 5
log=/tmp/sextant-soak.log
capture=$(mktemp)
script -qfc "stty cols 160 rows 45; $bin --config $envdir/config.toml --watch -A --log-file $log" "$capture" >/dev/null 2>&1 &
sleep 60
pid=$(pgrep -n -f -- "--log-file $log")
[ "$(cat /proc/$pid/comm)" = sextant ] || die "found $(cat /proc/$pid/comm) instead of sextant"
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
start=$(rss); peak=$start; b0=$(stat -c %s "$capture")
say "soak: $soak s, RSS at start $((start / 1024)) MiB"
for ((t = 60; t < soak; t += 60)); do
  sleep 60
  kill -0 "$pid" 2>/dev/null || die "sextant exited during the soak (see $log)"
  r=$(rss); [ "$r" -gt "$peak" ] && peak=$r
  printf '  %5s s  RSS %s MiB\n' "$t" "$((r / 1024))"
done
end=$(rss); b1=$(stat -c %s "$capture")
kill "$pid" 2>/dev/null || true
rm -f "$capture"
printf 'soak %s s in watch mode with churn: RSS start %s MiB, end %s MiB, max %s MiB; %s bytes/min to the terminal\n' \
  "$soak" "$((start / 1024))" "$((end / 1024))" "$((peak / 1024))" "$(( (b1 - b0) * 60 / (soak - 60) ))"
