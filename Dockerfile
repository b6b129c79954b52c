# closebot: one static binary on a distroless base, running as non-root.
# Build: docker build -t closebot .   Run: see README.md ("Running it": one replica, volumes, runbook).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/closebot ./cmd/closebot

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/closebot /usr/local/bin/closebot
# The database and its lock live on a volume; the audit key and credentials are mounted secrets.
VOLUME ["/var/lib/closebot"]
WORKDIR /var/lib/closebot
USER nonroot:nonroot
# /healthz, /readyz and /metrics; publish it only to loopback or a private network.
EXPOSE 9090
# distroless has no shell or curl: closebot checks itself. SIGTERM stops it within 10 s.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/closebot", "healthcheck", "--url", "http://127.0.0.1:9090/healthz"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/closebot"]
CMD ["run", "--config", "/etc/closebot/closebot.yaml", "--listen", ":9090", "--json-logs"]
