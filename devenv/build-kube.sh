#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager and kube-scheduler from Debian's
# `kubernetes` source package, once per machine, into the cache outside the repo.
set -euo pipefail
cache=${SEXTANT_CACHE:-$HOME/.cache/sextant}
out=$cache/kube/bin
bins="kube-apiserver kube-controller-manager kube-scheduler"
have=1
for b in $bins; do [ -x "$out/$b" ] || have=0; done
[ $have = 1 ] && exit 0

say() { printf '\033[1m[kube]\033[0m %s\n' "$*"; }

# A deb-src entry derived from the machine's own Debian sources, so no mirror is named here.
srclist=/etc/apt/sources.list.d/sextant-deb-src.sources
if [ ! -f "$srclist" ]; then
  say "adding deb-src entries derived from the machine's apt sources"
  tmp=$(mktemp)
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && [ "$f" != "$srclist" ] || continue
    grep -qi 'debian' "$f" || continue
    sed -e 's/^Types:.*/Types: deb-src/' "$f" >>"$tmp"; echo >>"$tmp"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    grep -E '^deb [^ ]*debian' "$f" | sed 's/^deb /deb-src /' >>"${tmp}.list" || true
  done
  [ -s "$tmp" ] && install -m 644 "$tmp" "$srclist"
  [ -s "${tmp}.list" ] && install -m 644 "${tmp}.list" /etc/apt/sources.list.d/sextant-deb-src.list
  rm -f "$tmp" "${tmp}.list"
  apt-get update -qq
fi

say "installing build tools (golang-go, rsync, dpkg-dev)"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go rsync dpkg-dev golang-github-modern-go-reflect2-dev >/dev/null

mkdir -p "$cache/src"
cd "$cache/src"
srcdir=$(find . -maxdepth 1 -type d -name 'kubernetes-*' | head -n1)
if [ -z "$srcdir" ]; then
  say "fetching Debian's kubernetes source package"
  apt-get source -qq kubernetes >/dev/null 2>&1 || apt-get source kubernetes
  srcdir=$(find . -maxdepth 1 -type d -name 'kubernetes-*' | head -n1)
fi
srcdir=$(cd "$srcdir" && pwd)

# The vendored reflect2 v1.0.1 crashes under Go >= 1.18 (map iteration in json-iterator,
# hit when the API server decodes custom resources); v1.0.2 from Debian fixes it.
r2=$srcdir/vendor/github.com/modern-go/reflect2
if ! grep -q 'modern-go/reflect2 v1.0.2' "$srcdir/vendor/modules.txt"; then
  say "replacing the vendored reflect2 v1.0.1 with Debian's v1.0.2"
  rm -f "$r2"/*.go
  cp /usr/share/gocode/src/github.com/modern-go/reflect2/*.go "$r2/"
  rm -f "$r2"/*_test.go
  find "$srcdir" -name go.mod -not -path "*/vendor/*" -exec sed -i 's|github.com/modern-go/reflect2 v1.0.1|github.com/modern-go/reflect2 v1.0.2|g' {} +
  sed -i 's|github.com/modern-go/reflect2 v1.0.1|github.com/modern-go/reflect2 v1.0.2|g' "$srcdir/vendor/modules.txt"
  sed -i 's|github.com/modern-go/reflect2 v1.0.1 h1:.*||; s|github.com/modern-go/reflect2 v1.0.1/go.mod h1:.*||' "$srcdir/go.sum"
  rm -rf "$cache/kube/bin"
fi

mkdir -p "$cache/.go/src/k8s.io"
ln -sfn "$srcdir" "$cache/.go/src/k8s.io/kubernetes"
say "building $bins (about 13 minutes on 2 cores, once per machine)"
cd "$cache/.go/src/k8s.io/kubernetes"
GOPATH="$cache/.go" CGO_ENABLED=0 GO111MODULE=${GO111MODULE:-} \
  make WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler"
mkdir -p "$out"
for b in $bins; do
  p=$(find _output -type f -name "$b" -perm -u+x | head -n1)
  install -m 755 "$p" "$out/$b"
done
say "built into $out"
