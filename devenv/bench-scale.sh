#!/usr/bin/env bash
# Scale benchmark (issue 3): PODS pods across NAMESPACES namespaces with deployments and
# a few hundred PVCs in the local environment; then sextant -A is measured:
# first complete frame and peak RSS (median of RUNS), and CPU and terminal bytes
# while nothing changes for IDLE seconds.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$root"
pods=${PODS:-10000} namespaces=${NAMESPACES:-100} runs=${RUNS:-3} idle=${IDLE:-60}
bin=${SEXTANT_BIN:-$root/target/release/sextant}
[ -x "$bin" ] || die "$bin is missing: run 'make build'"
"$root/devenv/up.sh"
trap '"$root/devenv/down.sh"' EXIT
say "creating $pods pods in $namespaces namespaces"
"$root/target/debug/scale" --kubeconfig "$envdir/kubeconfig" --pods "$pods" --namespaces "$namespaces"
args="--config $envdir/config.toml -A"

say "first complete frame and peak RSS, $runs runs, 160x50 pseudo-terminal"
ms=(); kib=()
for i in $(seq "$runs"); do
  out=$(script -qec "stty cols 160 rows 50; $bin $args --log-file /tmp/sextant-scale.log --exit-after-first-frame" /dev/null | tr -d '\r' | grep -ao 'first_complete_frame_ms=[0-9-]* peak_rss_kib=[0-9]*' || true)
  [ -n "$out" ] || die "run $i printed no timing"
  m=${out#first_complete_frame_ms=}; m=${m%% *}; k=${out##*peak_rss_kib=}
  ms+=("$m"); kib+=("$k")
  printf '  run %d: %s ms, %s KiB\n' "$i" "$m" "$k"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
first=$(median "${ms[@]}"); rss=$(median "${kib[@]}")

say "idle: $idle s with nothing changing"
capture=$(mktemp)
script -qfc "stty cols 160 rows 50; $bin $args --log-file /tmp/sextant-idle.log" "$capture" >/dev/null 2>&1 &
sleep 15
pid=$(pgrep -f -- "--log-file /tmp/sextant-idle.log" | head -n1)
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
t0=$(ticks); b0=$(stat -c %s "$capture")
sleep "$idle"
t1=$(ticks); b1=$(stat -c %s "$capture")
kill "$pid" 2>/dev/null || true
hz=$(getconf CLK_TCK)
cpu=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v s="$idle" 'BEGIN {printf "%.2f", 100 * t / hz / s}')
rm -f "$capture"
printf 'pods: %s in %s namespaces\n' "$pods" "$namespaces"
printf 'first complete frame: median %s ms\n' "$first"
printf 'peak RSS: median %s MiB\n' "$((rss / 1024))"
printf 'idle %ss: %s%% of a core, %s bytes written to the terminal\n' "$idle" "$cpu" "$((b1 - b0))"
