#!/usr/bin/env bash
# Starts the environment, runs every test against it, and stops it even when a test fails.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$root"
trap '"$root/devenv/down.sh"' EXIT
say "building tests"
cargo test --workspace --no-run --quiet 2>&1 | tail -n 5
"$root/devenv/up.sh"
. "$envdir/env.sh"
say "running tests"
cargo test --workspace -- --test-threads=4
