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

first_frames "$runs" 160 50 "$bin" $args --log-file /tmp/sextant-scale.log
first=$(median "${ms[@]}"); rss=$(median "${kib[@]}")

say "latency: a pod turning not-ready (a failing probe, played by the node agent) to its row on screen"
sock=sextant-latency
tmux -L $sock kill-server 2>/dev/null || true
tmux -L $sock new-session -d -s lat -x 160 -y 50 "$bin $args --log-file /tmp/sextant-latency.log"
screen() { tmux -L $sock capture-pane -p -t lat; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
lat=()
for i in 1 2 3 4 5; do
  ns=scale-$(printf %03d $((i * 7 % namespaces)))
  names=$(kubectl --kubeconfig "$envdir/kubeconfig" -n "$ns" get pods -o name)
  pod=$(sed -n "${i}p" <<<"$names"); pod=${pod#pod/}
  tmux -L $sock send-keys -t lat Escape; sleep 0.3
  tmux -L $sock send-keys -t lat / "$pod" Enter
  until screen | grep -q "$ns/$pod .* 1/1 "; do sleep 0.1; done
  kubectl --kubeconfig "$envdir/kubeconfig" -n "$ns" annotate pod "$pod" testenv.sextant.dev/ready=false >/dev/null
  t0=$(now_ms)
  until screen | grep -q "$ns/$pod .* 0/1 "; do sleep 0.01; done
  lat+=($(( $(now_ms) - t0 )))
  printf '  %s/%s: %s ms\n' "$ns" "$pod" "${lat[-1]}"
done
tmux -L $sock kill-server
latency=$(median "${lat[@]}")

say "idle: $idle s with nothing changing"
capture=$(mktemp)
script -qfc "stty cols 160 rows 50; $bin $args --log-file /tmp/sextant-idle.log" "$capture" >/dev/null 2>&1 &
sleep 15
pid=$(pgrep -n -f -- "--log-file /tmp/sextant-idle.log")
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
printf 'pod not-ready to row on screen: median %s ms (after kubectl returns; includes the node agent)\n' "$latency"
printf 'idle %ss: %s%% of a core, %s bytes written to the terminal\n' "$idle" "$cpu" "$((b1 - b0))"
