#!/usr/bin/env bash
# Git pane benchmark: a generated 100,000-commit repository whose last commit is a
# 5 MB diff (cached in $SEXTANT_CACHE/bench, made once with git fast-import), then
# `cargo bench --bench git` (worker's first page, diff load and frames) and the first
# complete frame of the release binary on it. `bench-git.sh repo` only makes the repo.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$root"
repo=$cache/bench/git-100k
commits=${COMMITS:-100000}

make_repo() {
  [ -f "$repo.complete" ] && return
  say "generating $repo: $commits commits and a 5 MB diff (git fast-import)"
  rm -rf "$repo" "$repo.complete"
  mkdir -p "$repo"
  git -C "$repo" init -q -b main
  # One file of fifty changes per commit; every tenth file is a StatefulSet.
  awk -v n="$commits" 'BEGIN {
    t = 1600000000
    for (i = 1; i <= n; i++) {
      f = i % 50
      kind = (f % 10 == 0) ? "StatefulSet" : "Deployment"
      body = "apiVersion: apps/v1\nkind: " kind "\nmetadata:\n  name: app-" f "\nspec:\n  replicas: " (i % 7 + 1) "\n  template:\n    metadata:\n      annotations:\n        rev: \"" i "\"\n"
      msg = "app-" f ": revision " i "\n"
      printf "commit refs/heads/main\ncommitter Bench " (i % 13) " <bench@example.com> %d +0000\ndata %d\n%s", t + i * 60, length(msg), msg
      printf "M 100644 inline apps/app-%d.yaml\ndata %d\n%s\n", f, length(body), body
    }
    # The last commit adds a 5 MB ConfigMap: a 5 MB diff. Its lines have one length,
    # so the size is known before they are printed.
    head = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n"
    lines = int((5 * 1024 * 1024 - length(head)) / 56) + 1
    msg = "big: a 5 MB config map\n"
    printf "commit refs/heads/main\ncommitter Bench 0 <bench@example.com> %d +0000\ndata %d\n%s", t + (n + 1) * 60, length(msg), msg
    printf "M 100644 inline apps/big.yaml\ndata %d\n%s", length(head) + 56 * lines, head
    for (k = 0; k < lines; k++) {
      printf "  key-%07d: value-%07d-abcdefghijklmnopqrstuvwxyz\n", k, k
    }
    printf "\n"
  }' | git -C "$repo" fast-import --quiet
  git -C "$repo" checkout -q -f main
  touch "$repo.complete"
}

make_repo
[ "${1:-}" = repo ] && { echo "$repo"; exit 0; }

say "cargo bench --bench git"
SEXTANT_BENCH_REPO=$repo cargo bench -q --bench git

bin=${SEXTANT_BIN:-$root/target/release/sextant}
[ -x "$bin" ] || die "$bin is missing: run 'make build'"
first_frames "${RUNS:-7}" 200 50 "$bin" --repo "$repo" --kubeconfig /nonexistent
printf 'first complete frame, 100k-commit repository: median %s ms, peak RSS median %s MiB\n' \
  "$(median "${ms[@]}")" "$(( $(median "${kib[@]}") / 1024 ))"
