package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/bot"
)

// scrape GETs path from the observer's handler.
func scrape(t *testing.T, srv *httptest.Server, path string) (int, string) {
	t.Helper()
	code, body, err := tryScrape(srv, path)
	require.NoError(t, err)
	return code, body
}

func tryScrape(srv *httptest.Server, path string) (int, string, error) {
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// waitStatus polls path until it answers code with a body containing want
// (a refused connection is a listener not open yet).
func waitStatus(t *testing.T, srv *httptest.Server, path string, code int, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var (
		got  int
		body string
	)
	for time.Now().Before(deadline) {
		var err error
		got, body, err = tryScrape(srv, path)
		if err == nil && got == code && strings.Contains(body, want) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: want %d %q, last got %d %q", path, code, want, got, body)
}

// Issue 15 item 3: /readyz is ready only while the socket is connected,
// Slack counts closebot's connection alone and the database is open. The
// real slack-go socket-mode client runs against the Slack emulator, which
// drops the socket (and answers apps.connections.open 429 for a while, so
// the gap is seen), then says hello with num_connections 2. The emulator's
// knobs and what they stand for are rows of bot/slacktest/FIDELITY.md:
// DropConnections (a network failure), InjectRateLimit (429 with
// Retry-After), ForceNumConnections (the hello's num_connections).
func TestReadyzFollowsTheSocketAndTheDatabase(t *testing.T) {
	ctx, clock, w := restartWorld(t, 2*time.Minute, 10, nil)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, stop, err := launch(ctx, w, clock, log, func(c *bot.Config) { c.Recheck = 200 * time.Millisecond })
	require.NoError(t, err)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = stop()
		}
	})
	srv := httptest.NewServer(p.obs.handler())
	t.Cleanup(srv.Close)

	waitStatus(t, srv, "/readyz", http.StatusOK, "ready")
	code, body := scrape(t, srv, "/healthz")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok\n", body)

	// The network drops the socket; Slack refuses the next three opens.
	w.Slack().InjectRateLimit("apps.connections.open", 3, 1)
	w.Slack().DropConnections()
	waitStatus(t, srv, "/readyz", http.StatusServiceUnavailable, "slack socket not connected")
	waitStatus(t, srv, "/readyz", http.StatusOK, "ready")
	_, metrics := scrape(t, srv, "/metrics")
	assert.Contains(t, metrics, `closebot_slack_rate_limited_total{method="apps.connections.open"} 3`, "the refused opens are counted")

	// Slack asks for a reconnect, whose hello counts two connections:
	// another closebot uses the app.
	w.Slack().ForceNumConnections(2)
	require.NoError(t, w.Slack().Disconnect("refresh_requested"))
	waitStatus(t, srv, "/readyz", http.StatusServiceUnavailable, "slack reports 2 connections, want 1")
	_, metrics = scrape(t, srv, "/metrics")
	assert.Contains(t, metrics, "closebot_slack_connections 2")
	// The other one is gone: closebot's next count says one.
	w.Slack().ForceNumConnections(0)
	waitStatus(t, srv, "/readyz", http.StatusOK, "ready")

	// Stopped: the socket and the database are closed.
	stopped = true
	require.NoError(t, stop())
	code, body = scrape(t, srv, "/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, "slack socket not connected")
	assert.Contains(t, body, "database")
}
