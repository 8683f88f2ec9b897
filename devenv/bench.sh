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
first_frames "$runs" 120 40 "$bin" --config "$envdir/config.toml" --log-file /tmp/sextant-bench.log
max() { printf '%s\n' "$@" | sort -n | tail -n1; }
printf 'first complete frame: median %s ms (min %s, max %s)\n' "$(median "${ms[@]}")" "$(printf '%s\n' "${ms[@]}" | sort -n | head -n1)" "$(max "${ms[@]}")"
printf 'peak RSS: median %s MiB (max %s MiB)\n' "$(( $(median "${kib[@]}") / 1024 ))" "$(( $(max "${kib[@]}") / 1024 ))"
