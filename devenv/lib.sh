# Shared settings for the local environment. Sourced, not run.
# Everything listens on 127.0.0.1, on ports away from the standard ones.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${SEXTANT_CACHE:-$HOME/.cache/sextant}
envdir=${SEXTANT_ENV_DIR:-$root/.demo}
kubebin=$cache/kube/bin

etcd_port=23790
etcd_peer_port=23800
api_port=16443
kcm_port=20257
sched_port=20259
px_port=19021          # OpenStorage SDK REST gateway
px_metrics_port=19001  # Portworx /metrics, as on a node's port 9001
prom_port=19090

say() { printf '\033[1m[env]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[env]\033[0m %s\n' "$*" >&2; exit 1; }

# wait_for DESCRIPTION SECONDS COMMAND...: retry COMMAND until it succeeds.
wait_for() {
  local what=$1 secs=$2; shift 2
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || { say "timed out waiting for $what"; return 1; }
    sleep 0.5
  done
}

# start NAME COMMAND...: run COMMAND in the background, logging to logs/NAME.log.
start() {
  local name=$1; shift
  mkdir -p "$envdir/logs" "$envdir/pids"
  setsid "$@" >"$envdir/logs/$name.log" 2>&1 < /dev/null &
  echo $! >"$envdir/pids/$name"
}

# sextant_and_env: the binary to measure ($bin, release unless SEXTANT_BIN says) and the
# environment, started unless it runs; $started_env says whether to stop it after.
sextant_and_env() {
  bin=${SEXTANT_BIN:-$root/target/release/sextant}
  [ -x "$bin" ] || die "$bin is missing: run 'make build'"
  started_env=0
  if ! curl -sf "http://127.0.0.1:$prom_port/-/ready" >/dev/null 2>&1; then
    "$root/devenv/up.sh"
    started_env=1
  fi
}

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# first_frames RUNS COLS ROWS SEXTANT-ARGS...: runs sextant RUNS times in a COLSxROWS
# pseudo-terminal until its first complete frame; fills the arrays ms and kib.
first_frames() {
  local runs=$1 cols=$2 rows=$3; shift 3
  command -v script >/dev/null || die "script (util-linux) is needed for a pseudo-terminal"
  say "first complete frame and peak RSS, $runs runs, ${cols}x${rows} pseudo-terminal"
  ms=(); kib=()
  local i out m k
  for i in $(seq "$runs"); do
    out=$(script -qec "stty cols $cols rows $rows; $* --exit-after-first-frame" /dev/null | tr -d '\r' | grep -ao 'first_complete_frame_ms=[0-9-]* peak_rss_kib=[0-9]*' || true)
    [ -n "$out" ] || die "run $i printed no timing"
    m=${out#first_complete_frame_ms=}; m=${m%% *}; k=${out##*peak_rss_kib=}
    ms+=("$m"); kib+=("$k")
    printf '  run %d: %s ms, %s KiB\n' "$i" "$m" "$k"
  done
}
