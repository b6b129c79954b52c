package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/internal/demo"
)

// lockedBuffer is a bytes.Buffer safe for the writer and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// `closebot run --listen --json-logs` as the image runs it, on the emulated
// world's configuration and environment: /readyz answers ready once the
// socket is up, a stop (the context SIGTERM ends) returns nil within the
// grace and closes the listener, and the JSON log holds no token.
func TestRunListenServesAndStops(t *testing.T) {
	w, err := demo.StartWorld(demo.Options{Users: 5, Scale: 1})
	require.NoError(t, err)
	t.Cleanup(w.Close)
	for _, kv := range w.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	cfgPath := filepath.Join(w.Dir(), "closebot.yaml")
	_, err = w.LoadConfig(filepath.Join(w.Dir(), "closebot.db")) // writes closebot.yaml
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"run", "--config", cfgPath, "--listen", addr, "--json-logs"}, &stdout, &stderr)
	}()
	srv := &httptest.Server{URL: "http://" + addr}
	waitStatus(t, srv, "/readyz", http.StatusOK, "ready")
	_, metrics := scrape(t, srv, "/metrics")
	assert.Contains(t, metrics, "closebot_slack_socket_connected 1")
	assert.Contains(t, metrics, `closebot_slack_calls_total{method="apps.connections.open",status="200"} 1`)

	cancel()
	select {
	case code := <-done:
		assert.Equal(t, 0, code, stderr.String())
	case <-time.After(stopGrace + 5*time.Second):
		t.Fatal("closebot run did not return after its grace")
	}
	_, err = http.Get("http://" + addr + "/healthz")
	assert.Error(t, err, "the listener is closed")
	logs := stderr.String()
	assert.Contains(t, logs, `"msg":"stopping"`)
	assert.Contains(t, logs, `"msg":"stopped"`)
	for _, kv := range w.Env() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasSuffix(k, "TOKEN") || strings.HasSuffix(k, "SECRET") {
			assert.NotContains(t, logs, v, k)
		}
	}
	assert.Contains(t, stdout.String(), "serving team "+demo.Team)
}
