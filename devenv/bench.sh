#!/usr/bin/env bash
# Benchmark: time from launch to the first complete frame (every pane has its data or
# its error) and peak resident memory, against the demo environment. Median of RUNS.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$root"
runs=${RUNS:-7}
bin=${SEXTANT_BIN:-$root/target/release/sextant}
[ -x "$bin" ] || die "$bin is missing: run 'make build'"
started_env=0
if ! curl -sf "http://127.0.0.1:$prom_port/-/ready" >/dev/null 2>&1; then
  "$root/devenv/up.sh"
  started_env=1
fi
trap '[ $started_env = 1 ] && "$root/devenv/down.sh"' EXIT
command -v script >/dev/null || die "script (util-linux) is needed for a pseudo-terminal"

say "first complete frame and peak RSS, $runs runs, 120x40 pseudo-terminal"
ms=(); kib=()
for i in $(seq "$runs"); do
  out=$(script -qec "stty cols 120 rows 40; $bin --config $envdir/config.toml --log-file /tmp/sextant-bench.log --exit-after-first-frame" /dev/null | tr -d '\r' | grep -ao 'first_complete_frame_ms=[0-9-]* peak_rss_kib=[0-9]*' || true)
  [ -n "$out" ] || die "run $i printed no timing"
  m=${out#first_complete_frame_ms=}; m=${m%% *}; k=${out##*peak_rss_kib=}
  ms+=("$m"); kib+=("$k")
  printf '  run %d: %s ms, %s KiB\n' "$i" "$m" "$k"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
max() { printf '%s\n' "$@" | sort -n | tail -n1; }
printf 'first complete frame: median %s ms (min %s, max %s)\n' "$(median "${ms[@]}")" "$(printf '%s\n' "${ms[@]}" | sort -n | head -n1)" "$(max "${ms[@]}")"
printf 'peak RSS: median %s MiB (max %s MiB)\n' "$(( $(median "${kib[@]}") / 1024 ))" "$(( $(max "${kib[@]}") / 1024 ))"
