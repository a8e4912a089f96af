# syntax=docker/dockerfile:1
# factorybridge as a container image: the static release binary
# (scripts/release.sh, CGO_ENABLED=0) on distroless/static, which holds CA
# certificates and time zones and nothing else: no shell, no curl, so the
# health check is the binary's own "health" command. It runs as the
# image's non-root user; the buffer and the OPC UA PKI live in the /data
# volume. The configuration is mounted at /etc/factorybridge/config.toml
# with data_dir = "/data" and [http] listen = "0.0.0.0:9880".
#
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg COMMIT=$(git rev-parse HEAD) -t factorybridge .
#
# Tested without a container engine: deploy/deploy_test.go checks this
# file's parts and builds the same static binary.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
# gopcua is a patched copy in the repository (go.mod replace): it must be
# there before the modules are downloaded.
COPY third_party/gopcua ./third_party/gopcua
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN VERSION="$VERSION" COMMIT="$COMMIT" OUT=/out/factorybridge scripts/release.sh \
	&& mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/factorybridge /usr/local/bin/factorybridge
# An empty /data owned by the user, so that a new volume starts writable.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
VOLUME ["/data"]
EXPOSE 9880
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
	CMD ["/usr/local/bin/factorybridge", "health", "-config", "/etc/factorybridge/config.toml"]
ENTRYPOINT ["/usr/local/bin/factorybridge"]
CMD ["run", "-config", "/etc/factorybridge/config.toml", "-log-format", "json"]
