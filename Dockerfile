# closebot: one static binary on a distroless base, running as non-root.
# Build: docker build -t closebot .   Run: see README.md ("Running it").
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
ENTRYPOINT ["/usr/local/bin/closebot"]
CMD ["run", "--config", "/etc/closebot/closebot.yaml"]
