#!/usr/bin/env bash
# Builds the ivr container image from a static binary built here first, with
# deploy/Containerfile (FROM scratch: nothing is pulled, so it works offline).
#
#   bash scripts/image.sh            # image localhost/ivr:latest
#   bash scripts/image.sh ivr:1.2.0  # another tag
#
# Uses podman, or docker when podman is missing (IVR_IMAGE_BUILDER=docker
# chooses). Prints the tag on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-localhost/ivr:latest}
builder=${IVR_IMAGE_BUILDER:-}
if [ -z "$builder" ]; then
  if command -v podman >/dev/null 2>&1; then builder=podman; else builder=docker; fi
fi
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/data"
# Static (no cgo), no local paths, the git revision when this is a checkout.
CGO_ENABLED=0 go build -trimpath -buildvcs=auto -ldflags='-s -w' -o "$ctx/ivr" ./cmd/ivr
format=()
if [ "$builder" = podman ]; then format=(--format docker); fi # keeps HEALTHCHECK
"$builder" build -q "${format[@]}" -f deploy/Containerfile -t "$tag" "$ctx" >/dev/null
echo "$tag"
