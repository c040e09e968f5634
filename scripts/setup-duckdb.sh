#!/usr/bin/env bash
# Fetch the official prebuilt DuckDB shared library (1.5.6, parquet + json built in)
# into .duckdb/lib. It ships inside an npm package, so only the npm registry is needed.
# Idempotent: does nothing when the library is already there.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
version="1.5.6-r.1"
dest="$repo/.duckdb/lib"
if [ -f "$dest/libduckdb.so" ] && [ -f "$dest/.version" ] && [ "$(cat "$dest/.version")" = "$version" ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "setup-duckdb: npm is needed to fetch libduckdb.so (or build with --features coco-store/bundled)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "@duckdb/node-bindings-linux-x64@$version" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work"
mkdir -p "$dest"
cp "$work/package/libduckdb.so" "$dest/libduckdb.so"
echo "$version" > "$dest/.version"
echo "setup-duckdb: libduckdb.so $version installed in .duckdb/lib"
