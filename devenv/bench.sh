#!/usr/bin/env bash
# Benchmark: time from launch to the first complete frame (every pane has its data or
# its error) and peak resident memory, against the demo environment. Median of RUNS.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$root"
runs=${RUNS:-7}
sextant_and_env
trap '[ $started_env = 1 ] && "$root/devenv/down.sh"' EXIT
first_frames "$runs" 120 40 "$bin" --config "$envdir/config.toml" --log-file /tmp/sextant-bench.log
max() { printf '%s\n' "$@" | sort -n | tail -n1; }
printf 'first complete frame: median %s ms (min %s, max %s)\n' "$(median "${ms[@]}")" "$(printf '%s\n' "${ms[@]}" | sort -n | head -n1)" "$(max "${ms[@]}")"
printf 'peak RSS: median %s MiB (max %s MiB)\n' "$(( $(median "${kib[@]}") / 1024 ))" "$(( $(max "${kib[@]}") / 1024 ))"
