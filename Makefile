# sextant: `make demo` opens sextant on a local environment of real servers;
# `make test` runs every test against that environment. Both install what they need.
SHELL := /bin/bash
CACHE ?= $(HOME)/.cache/sextant
export SEXTANT_CACHE := $(CACHE)
APT_PACKAGES := etcd-server prometheus tmux git openssl curl pkg-config libssl-dev ca-certificates

.PHONY: help deps kube build build-testenv env-up env-down demo test bench bench-quick soak screenshots clean

help:
	@echo "make demo       set up everything and open sextant on the demo environment"
	@echo "make test       start the environment, run all tests, stop it"
	@echo "make bench      first frame, memory, idle cost: demo and 10,000 pods (bench-quick: demo only)"
	@echo "make soak       one hour of watch mode with a churning workload: RSS start and end"
	@echo "make env-up     start the local environment (make env-down stops it)"

# System packages, once per machine. kubectl and cargo come with the machine.
deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "[deps] installing $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@command -v kubectl >/dev/null || { echo "[deps] kubectl is required (it ships with this machine kind)"; exit 1; }
	@command -v cargo >/dev/null || { echo "[deps] cargo is required"; exit 1; }

# kube-apiserver, -controller-manager and -scheduler from Debian's source, cached in $(CACHE).
kube: deps
	@devenv/build-kube.sh

build: deps
	@echo "[build] sextant (release)"
	@cargo build --release --bin sextant

build-testenv: deps
	@echo "[build] test environment support (px-sim, node-agent) and sextant (debug, which syncs the demo)"
	@cargo build -p testenv --bins
	@cargo build --bin sextant

env-up: kube build-testenv
	@devenv/up.sh

env-down:
	@devenv/down.sh

demo: kube build build-testenv
	@devenv/up.sh
	@./target/release/sextant --config .demo/config.toml
	@echo "The environment keeps running: 'make env-down' stops it, 'make demo' reopens it."

test: kube build-testenv
	@devenv/test.sh

bench: kube build build-testenv
	@devenv/bench.sh
	@devenv/bench-scale.sh
	@devenv/bench-git.sh
	@cargo bench --bench chart
	@cargo bench --bench storage
	@devenv/bench-terminal.sh

soak: kube build build-testenv
	@devenv/soak.sh

bench-quick: kube build build-testenv
	@devenv/bench.sh

screenshots: kube build build-testenv
	@devenv/screenshots.sh

clean: env-down
	rm -rf .demo target
