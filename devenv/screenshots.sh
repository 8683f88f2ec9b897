#!/usr/bin/env bash
# Regenerates screenshots/ from a real run: sextant in tmux against the demo environment,
# keys sent, each screen captured with its colours and rendered to PNG.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$root"
/usr/bin/python3 -c 'import PIL' 2>/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pil fonts-dejavu-core >/dev/null
sextant_and_env
sock=sextant-shots
cols=160 rows=44
cleanup() { tmux -L $sock kill-server 2>/dev/null || true; [ $started_env = 1 ] && "$root/devenv/down.sh"; true; }
trap cleanup EXIT
mkdir -p screenshots
shot() { # NAME
  sleep 1.5
  tmux -L $sock capture-pane -e -p -t shots >"/tmp/sextant-$1.ansi"
  /usr/bin/python3 "$root/devenv/ansi2png.py" "/tmp/sextant-$1.ansi" "screenshots/$1.png" $cols $rows
  say "screenshots/$1.png"
}
keys() { tmux -L $sock send-keys -t shots "$@"; }
# A snapshot of carts-db, so the storage details and the restore preview have one.
"$bin" --config "$envdir/config.toml" snapshot shop/sts/carts-db --wait >/dev/null
tmux -L $sock kill-server 2>/dev/null || true
tmux -L $sock new-session -d -s shots -x $cols -y $rows \
  "COLORTERM=truecolor $bin --config $envdir/config.toml --log-file /tmp/sextant-shots.log"
tmux -L $sock set -g default-terminal tmux-256color >/dev/null
sleep 4
keys j Enter j Enter
shot overview
keys '?'; shot help; keys Escape
keys z; shot cluster; keys z
keys Tab z; shot git; keys z BTab
keys k R; shot confirm-restart; keys n
keys Tab Tab z; shot metrics; keys z
keys Tab z; shot storage
keys Enter; shot storage-details
keys r; shot restore-preview; keys Escape; sleep 0.3
keys Escape; sleep 0.3; keys z
# A key right behind Esc would read as Alt+key: pause after each Esc.
keys Tab Tab z j Enter; shot git-diff; keys Escape; sleep 0.3; keys z
keys s; shot sync-preview; keys Escape; sleep 0.3
keys q
# Watch mode, as a wall display shows it.
tmux -L $sock kill-server 2>/dev/null || true
tmux -L $sock new-session -d -s shots -x $cols -y $rows \
  "COLORTERM=truecolor $bin --config $envdir/config.toml --watch --log-file /tmp/sextant-shots.log"
sleep 4
shot watch
keys q
