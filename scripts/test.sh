#!/usr/bin/env bash
# The repository's test command. It installs what the tests need when it is
# missing, then checks formatting, vets, and runs every test with the race
# detector. Extra arguments go to "go test":
#
#   bash scripts/test.sh                      # everything
#   bash scripts/test.sh -run TestServe -v    # a subset, verbosely
#
# Under CI=true a test whose external program is still missing fails instead
# of skipping (see internal/testenv).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Debian packages the tests need, as "program:package": the package is
# installed when the program is not on PATH.
APT_NEEDS=(
	gcc:gcc # the race detector needs cgo
	prometheus-alertmanager:prometheus-alertmanager # alert: pushes to a real Alertmanager
	chromium:chromium # dashboard: drives the web page in a headless browser
	prometheus:prometheus # dashboard: a real Prometheus scrapes /metrics
	node:nodejs # cmd/pbatunnel: runs a third-party MCP server behind the proxy
	npm:npm     # installs that server (NPM_NEEDS)
)

# npm packages the tests need, as "name@version", installed under .cache/npm
# (git-ignored) when that version is not there. The tests find them there.
NPM_DIR=.cache/npm
NPM_NEEDS=(
	@modelcontextprotocol/server-memory@2026.8.31 # cmd/pbatunnel: the MCP reference server behind the proxy
	@modelcontextprotocol/sdk@1.32.2              # cmd/pbatunnel: the official TypeScript client, through the bridge
	@modelcontextprotocol/server-everything@2026.8.31 # cmd/pbatunnel: every part of the protocol, through the bridges
	supergateway@4.0.0                            # bench/bridges: the bridges pbatunnel's are measured beside
	mcp-proxy@6.7.19
	mcp-remote@0.15.1
)

# install_apt_needs installs, in one apt-get run, the package of every
# program in APT_NEEDS that is not on PATH.
install_apt_needs() {
	local missing=() pair
	for pair in ${APT_NEEDS[@]+"${APT_NEEDS[@]}"}; do
		if ! command -v "${pair%%:*}" >/dev/null 2>&1; then
			missing+=("${pair#*:}")
		fi
	done
	if ((${#missing[@]} == 0)); then
		return 0
	fi
	if ! command -v apt-get >/dev/null 2>&1; then
		echo "test.sh: need ${missing[*]} but apt-get is not available; install them by hand" >&2
		return 0
	fi
	local sudo=()
	if [[ $(id -u) != 0 ]]; then
		sudo=(sudo)
	fi
	echo "test.sh: installing ${missing[*]}" >&2
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends "${missing[@]}"
}

# install_npm_needs installs, in one npm run, every package of NPM_NEEDS
# whose version is not under NPM_DIR.
install_npm_needs() {
	local missing=() spec name version manifest
	for spec in ${NPM_NEEDS[@]+"${NPM_NEEDS[@]}"}; do
		name=${spec%@*}
		version=${spec##*@}
		manifest=$NPM_DIR/node_modules/$name/package.json
		if ! grep -q "\"version\": \"$version\"" "$manifest" 2>/dev/null; then
			missing+=("$spec")
		fi
	done
	if ((${#missing[@]} == 0)); then
		return 0
	fi
	if ! command -v npm >/dev/null 2>&1; then
		echo "test.sh: need ${missing[*]} but npm is not available; the tests that use them will skip (fail under CI=true)" >&2
		return 0
	fi
	echo "test.sh: installing ${missing[*]} into $NPM_DIR" >&2
	mkdir -p "$NPM_DIR"
	npm install --prefix "$NPM_DIR" --no-audit --no-fund --loglevel=error "${missing[@]}"
}

if ! command -v go >/dev/null 2>&1; then
	echo "test.sh: go not found on PATH; install Go $(sed -n 's/^go //p' go.mod) or newer" >&2
	exit 1
fi

# install_go_tools builds the programs the tests start that come from the
# Go module proxy, each from its own module under tools/ so that its
# dependencies stay out of the project's: Jaeger (OpenTelemetry traces).
# go build is incremental: after the first build this is a relink at most.
install_go_tools() {
	mkdir -p .cache/bin
	if [[ ! -x .cache/bin/jaeger || tools/jaeger/go.mod -nt .cache/bin/jaeger ]]; then
		echo "test.sh: building jaeger into .cache/bin (the first build takes minutes)" >&2
		go build -modfile=tools/jaeger/go.mod -o .cache/bin/jaeger github.com/jaegertracing/jaeger/cmd/jaeger
	fi
	export PATH="$PWD/.cache/bin:$PATH"
}

install_apt_needs
install_npm_needs
install_go_tools

echo "--- gofmt" >&2
unformatted=$(gofmt -l .)
if [[ -n $unformatted ]]; then
	echo "test.sh: these files need gofmt -w:" >&2
	echo "$unformatted" >&2
	exit 1
fi

echo "--- go vet" >&2
go vet ./...

echo "--- go test" >&2
go test -race -count=1 ./... "$@"
