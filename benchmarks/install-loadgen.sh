#!/bin/sh
# The intake's load generator for `make bench`: vegeta, installed once into .knooppunt/bench/bin
# with `go install` (Go's module proxy). Without Go, or when the install fails, make bench uses
# its own asyncio load generator in a separate process (benchmarks/loadgen.py) and says so.
set -u
BIN=.knooppunt/bench/bin
VERSION=v12.13.0
if [ -x "$BIN/vegeta" ] || command -v vegeta >/dev/null 2>&1; then
    exit 0
fi
if command -v go >/dev/null 2>&1; then
    echo "installing vegeta $VERSION into $BIN (go install, once; about a minute)"
    mkdir -p "$BIN"
    if GOBIN="$PWD/$BIN" timeout 600 go install "github.com/tsenart/vegeta/v12@$VERSION"; then
        echo "$VERSION (go install)" > "$BIN/vegeta.version"
        exit 0
    fi
    echo "go install of vegeta failed"
else
    echo "no Go toolchain (apt-get install golang-go) to install vegeta with"
fi
echo "make bench uses its own load generator (benchmarks/loadgen.py, a separate process)"
exit 0
