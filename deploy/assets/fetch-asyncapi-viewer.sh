#!/bin/sh
# The AsyncAPI viewer the hub serves at /asyncapi (@asyncapi/react-component's standalone bundle
# and its stylesheet), fetched once from the npm registry by `make install` into the hub's
# package data, so /asyncapi works on a network without internet. PyPI has no package with it.
# Usage: fetch-asyncapi-viewer.sh VERSION SHA256 TARGET_DIR
set -eu
version=$1 sha256=$2 target=$3
command -v npm >/dev/null || { echo "npm is needed once to fetch the AsyncAPI viewer for /asyncapi (apt-get install npm)"; exit 1; }
echo "Fetching the AsyncAPI viewer (@asyncapi/react-component $version) from the npm registry for /asyncapi"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "@asyncapi/react-component@$version" >/dev/null)
tarball="$work/asyncapi-react-component-$version.tgz"
echo "$sha256  $tarball" | sha256sum -c --quiet || { echo "the AsyncAPI viewer's tarball does not have the pinned SHA-256; not using it"; exit 1; }
tar -xzf "$tarball" -C "$work" package/browser/standalone/index.js package/styles/default.min.css package/LICENSE
rm -rf "$target" && mkdir -p "$target"
cp "$work/package/browser/standalone/index.js" "$target/asyncapi.js"
cp "$work/package/styles/default.min.css" "$target/asyncapi.css"
cp "$work/package/LICENSE" "$target/LICENSE"
echo "$version" > "$target/VERSION"
