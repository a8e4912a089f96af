#!/usr/bin/env bash
# Builds the release binary of factorybridge: static (CGO_ENABLED=0: no C
# library and no ELF interpreter, so it runs on any Linux of its
# architecture and in a distroless image), with trimmed paths, and with its
# version and commit stamped through -ldflags (VCS stamping is off on the
# build machines, and an image build has no .git). "factorybridge version"
# prints them, with the Go and gopcua versions.
#
# Environment: VERSION (default: git describe, else "dev"), COMMIT (default:
# git rev-parse HEAD, else "unknown"), OUT (default dist/factorybridge-GOOS-GOARCH),
# GOOS and GOARCH (default: this machine's) to cross-build.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
COMMIT=${COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
GOOS=${GOOS:-$(go env GOOS)}
GOARCH=${GOARCH:-$(go env GOARCH)}
OUT=${OUT:-dist/factorybridge-$GOOS-$GOARCH}

CGO_ENABLED=0 GOOS=$GOOS GOARCH=$GOARCH go build -trimpath -buildvcs=false \
	-ldflags "-s -w -X main.version=$VERSION -X main.commit=$COMMIT" \
	-o "$OUT" ./cmd/factorybridge
echo "$OUT: factorybridge $VERSION ($COMMIT) for $GOOS/$GOARCH"
