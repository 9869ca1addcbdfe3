# syntax=docker/dockerfile:1
#
# pbatunnel serve as one static binary on a distroless base: no shell, no
# package manager, a non-root user. Build and run from the repository root:
#
#   docker build -t pbatunnel .
#   docker run -e PBATUNNEL_AUTH_TOKEN="$(openssl rand -hex 32)" \
#     -p 127.0.0.1:8080:8080 -v pbatunnel-data:/data pbatunnel
#
# Inside the container it listens on 0.0.0.0:8080, beyond loopback, so it
# refuses to start without PBATUNNEL_AUTH_TOKEN (every route but /livez,
# /readyz and /api/health then wants "Authorization: Bearer <token>"). It
# answers Host names other than loopback ones only when told them:
# PBATUNNEL_ALLOWED_HOST=pbatunnel for a Prometheus that scrapes
# pbatunnel:8080. deploy/compose.yaml does both. docs/SCALING.md has more.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# CGO_ENABLED=0: net and os/user use their pure Go code and the SQLite
# driver is pure Go, so the binary is static and runs on a base without a
# C library (cmd/pbatunnel/static_test.go builds it the same way).
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/pbatunnel ./cmd/pbatunnel \
	&& mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/pbatunnel /pbatunnel
# The data directory belongs to the user the process runs as, so that a
# fresh named volume, which Docker fills from the image, is writable.
COPY --from=build --chown=65532:65532 /out/data /data
# nonroot in the base image's /etc/passwd.
USER 65532:65532
ENV PBATUNNEL_ADDR=0.0.0.0:8080 \
	PBATUNNEL_DATA_DIR=/data \
	PBATUNNEL_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
# The image has no curl or wget: the binary probes itself. Change the port
# here too if PBATUNNEL_ADDR changes it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
	CMD ["/pbatunnel", "probe", "--timeout", "4s", "http://127.0.0.1:8080/livez"]
ENTRYPOINT ["/pbatunnel"]
CMD ["serve"]
