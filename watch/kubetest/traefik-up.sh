#!/usr/bin/env bash
# traefik-up.sh [CACHE_DIR]
#
# Builds the real Traefik (the oracle of `make conformance`) from the Go
# module proxy and prints the path of the binary on stdout; its CRDs
# (docs/.../kubernetes-crd-definition-v1.yml of the same source) are put
# beside it as crds.yml. Traefik's go.mod has replace directives, so
# `go install ...@version` is refused; the module's source is copied to a
# writable place and built there, once: cached under CACHE_DIR (default
# ~/.cache/traefik-oracle).
#
# Environment: TRAEFIK_VERSION (default v3.7.9).
set -euo pipefail
log() { printf '[traefik-up] %s\n' "$*" >&2; }

CACHE_DIR=${1:-${HOME}/.cache/traefik-oracle}
VERSION=${TRAEFIK_VERSION:-v3.7.9}
BIN=$CACHE_DIR/$VERSION/traefik
CRDS=$CACHE_DIR/$VERSION/crds.yml
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then PATH=/usr/local/go/bin:$PATH; fi
source_dir() { (cd /tmp && GOFLAGS=-modcacherw go mod download -json "github.com/traefik/traefik/v3@$VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'); }
if [ -x "$BIN" ] && [ ! -f "$CRDS" ]; then
  cp "$(source_dir)/docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml" "$CRDS"
fi
if [ -x "$BIN" ]; then echo "$BIN"; exit 0; fi
mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/.build.lock"
command -v flock >/dev/null 2>&1 && flock 9
if [ -x "$BIN" ]; then echo "$BIN"; exit 0; fi
src=$(source_dir)
[ -d "$src" ] || { log "go mod download gave no source directory"; exit 1; }
work=$CACHE_DIR/$VERSION/src
rm -rf "$work"; mkdir -p "$work"
cp -r "$src"/. "$work"/
chmod -R u+w "$work"
cd "$work"
# The module zip leaves out the nested module github.com/traefik/traefik/dynamic/ext
# (go.mod replaces it with ./pkg/config/dynamic/ext): Traefik's open-source build
# embeds two empty extension structs from it, so an empty stub is that module.
if [ ! -f pkg/config/dynamic/ext/go.mod ]; then
  mkdir -p pkg/config/dynamic/ext
  printf 'module github.com/traefik/traefik/dynamic/ext\n\ngo 1.24.0\n' > pkg/config/dynamic/ext/go.mod
  printf 'package ext\n\n// HTTP extends dynamic.HTTP (empty in the open-source build).\ntype HTTP struct{}\n\n// Router extends dynamic.Router (empty in the open-source build).\ntype Router struct{}\n' > pkg/config/dynamic/ext/ext.go
fi
log "building traefik $VERSION in $work (several minutes the first time)"
# The web UI is not needed: the dashboard's embed directory gets a stub.
mkdir -p webui/static && [ -n "$(ls -A webui/static 2>/dev/null)" ] || echo '<!doctype html>' > webui/static/index.html
GOFLAGS=-buildvcs=false CGO_ENABLED=0 go build -trimpath -o "$BIN.tmp" ./cmd/traefik
cp docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml "$CRDS"
mv "$BIN.tmp" "$BIN"
rm -rf "$work"
echo "$BIN"
