package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/bot/outbound"
	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/internal/demo"
)

// postsDown fails chat.postMessage at the transport while it is on (the
// network path to Slack's Web API for new posts is down); everything else
// reaches the Slack emulator.
type postsDown struct {
	next http.RoundTripper
	on   atomic.Bool
}

func (d *postsDown) RoundTrip(r *http.Request) (*http.Response, error) {
	if d.on.Load() && strings.HasSuffix(r.URL.Path, "/chat.postMessage") {
		return nil, errors.New("network down")
	}
	return d.next.RoundTrip(r)
}

// A gate opened while its Slack message could not be sent, then a stop:
// the gate is on disk, its message was only in the outbox. The next start
// posts it (thread and the kept admin's DM), so the person who must act
// sees the gate's instructions and buttons.
func TestE2EGateMessageAStopLeftUnsentIsPostedAtStart(t *testing.T) {
	ctx, clock, w := restartWorld(t, 3*time.Minute, 20, nil)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, stop := startClosebot(ctx, t, w, clock, log)
	h := demo.NewHumans(w, p.db, clock, func(string, ...any) {})
	waitFor := func(what string, ok func(*closure.Request) bool) *closure.Request {
		t.Helper()
		return waitRequest(t, w, 30*time.Second, what, func() (*closure.Request, error) { return p.db.Get(ctx, h.ID()) }, ok)
	}
	_, err := h.Open(ctx, "Company dissolved")
	require.NoError(t, err)
	require.NoError(t, w.Slack().WaitFor(10*time.Second, func() bool { _, ok, _ := p.db.Ref(ctx, h.ID(), "card"); return ok }))
	require.NoError(t, h.Approve(ctx, waitFor("card", func(*closure.Request) bool { return true })))
	require.NoError(t, w.Slack().WaitFor(10*time.Second, func() bool { acted, _ := h.SignIn(ctx); return acted }))
	waitFor("abort window", func(r *closure.Request) bool { return r.State == closure.StateWaitingWindow })
	stop()

	// Posts fail while the steps start and their gates open.
	cfg, err := w.LoadConfig(filepath.Join(w.Dir(), "closebot.db"))
	require.NoError(t, err)
	down := &postsDown{next: http.DefaultTransport}
	down.on.Store(true)
	p, err = assemble(ctx, cfg, wiring{Transport: w.Graph().Client().Transport, Clock: clock, After: clock.After, Log: log,
		SlackHTTP: &http.Client{Transport: down, Timeout: 30 * time.Second}})
	require.NoError(t, err)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.run(runCtx) }()
	require.NoError(t, w.Slack().WaitConnections(1, 10*time.Second))
	clock.FastForward(31 * time.Minute)
	var gate closure.Gate
	waitFor("a gate open", func(r *closure.Request) bool {
		for _, g := range r.Gates {
			if g.IsOpen() {
				gate = g
				return true
			}
		}
		return false
	})
	_, posted, err := p.db.Ref(ctx, h.ID(), "gate."+gate.ID)
	require.NoError(t, err)
	require.False(t, posted, "the gate's message was sent despite the failing posts")
	cancel()
	require.NoError(t, <-done)

	// The next start, with Slack reachable, posts the gate's messages.
	p, _ = startClosebot(ctx, t, w, clock, log)
	require.NoError(t, w.Slack().WaitFor(20*time.Second, func() bool {
		_, thread, _ := p.db.Ref(ctx, h.ID(), "gate."+gate.ID)
		_, dm, _ := p.db.Ref(ctx, h.ID(), outbound.GateDMRef(gate.ID))
		return thread && dm
	}), "gate %s was not posted after the restart", gate.ID)
	ref, _, err := p.db.Ref(ctx, h.ID(), outbound.GateDMRef(gate.ID))
	require.NoError(t, err)
	m, ok := w.Slack().Message(ref.Channel, ref.TS)
	require.True(t, ok)
	require.Contains(t, string(m.Blocks), `"action_id":"`, "the DM carries the gate's buttons")
}
