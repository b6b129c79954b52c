package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/graphtest"
	"github.com/closebot/closebot/internal/demo"
)

// Issue 15 items 3 and 4, end to end. closebot is stopped as SIGTERM stops
// `closebot run` (its context ends) while step 1 deletes users: it returns
// within stopGrace with the socket and the database closed, every user the
// emulator deleted has its intent in the audit chain, and the next start
// resumes and completes the closure. /metrics of that start then shows the
// closure's series: requests by state, steps by outcome, Graph calls by
// status, Slack calls by method and ack latency.
func TestE2EGracefulStopMidStepThenRestartCompletes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	clock := demo.NewClock(time.Now().UTC(), 60)
	t.Cleanup(clock.Close)
	// 150 users at 10 ms a Graph answer: step 1 takes seconds, long enough
	// to stop it in the middle.
	w, err := demo.StartWorld(demo.Options{Users: 150, Scale: 60, Clock: clock, Latency: 10 * time.Millisecond,
		Spec: func(s *graphtest.TenantSpec) { s.RestrictedAUMembers = 0 }})
	require.NoError(t, err)
	t.Cleanup(w.Close)
	t.Cleanup(func() { noBlockKitRefusals(t, w) })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	p, stop := startClosebot(ctx, t, w, clock, log)
	h := demo.NewHumans(w, p.db, clock, func(string, ...any) {})
	waitFor := func(what string, ok func(*closure.Request) bool) *closure.Request {
		t.Helper()
		return waitRequest(t, w, 60*time.Second, what, func() (*closure.Request, error) { return p.db.Get(ctx, h.ID()) }, ok)
	}
	_, err = h.Open(ctx, "Company dissolved")
	require.NoError(t, err)
	require.NoError(t, w.Slack().WaitFor(10*time.Second, func() bool { _, ok, _ := p.db.Ref(ctx, h.ID(), "card"); return ok }))
	require.NoError(t, h.Approve(ctx, waitFor("card", func(*closure.Request) bool { return true })))
	require.NoError(t, w.Slack().WaitFor(10*time.Second, func() bool { acted, _ := h.SignIn(ctx); return acted }))
	waitFor("abort window", func(r *closure.Request) bool { return r.State == closure.StateWaitingWindow })
	clock.FastForward(31 * time.Minute)
	waitFor("step 1 under way", func(r *closure.Request) bool {
		st := r.StepAt(closure.StepDeleteUsers)
		return st != nil && st.Done >= 10
	})

	began := time.Now()
	stop()
	took := time.Since(began)
	t.Logf("stopped mid-step in %s", took)
	assert.Less(t, took, stopGrace, "a stop takes at most stopGrace")
	// closebot closed its socket before it returned; the emulator notices
	// when its read fails.
	assert.NoError(t, w.Slack().WaitFor(5*time.Second, func() bool { return w.Slack().Connections() == 0 }), "the socket is closed")

	// The state is recorded: every user Graph deleted was announced by an
	// intent event before the call; the step was not finished.
	intents := map[string]bool{}
	p2, _ := startClosebot(ctx, t, w, clock, log) // the database lock is free
	evs, err := p2.db.Events(ctx, h.ID())
	require.NoError(t, err)
	for _, ev := range evs {
		if ev.Action == closure.EvIntentDelUser {
			intents[strings.ToLower(ev.Detail["id"])] = true
		}
	}
	deleted := 0
	for _, wr := range w.Graph().Writes() {
		if wr.Method == http.MethodDelete && strings.HasPrefix(wr.Path, "/users/") {
			deleted++
			assert.True(t, intents[strings.ToLower(path.Base(wr.Path))], "deleted without a recorded intent: %s", wr.Path)
		}
	}
	assert.Positive(t, deleted)
	assert.Less(t, deleted, 149, "stopped before step 1 was done")

	// The next start resumes and completes the closure.
	h.SetDB(p2.db)
	p = p2
	playCtx, stopPlay := context.WithTimeout(ctx, 2*time.Minute)
	defer stopPlay()
	require.NoError(t, h.Play(playCtx))
	r := waitFor("closed", func(r *closure.Request) bool { return r.State == closure.StateClosed })
	assert.Equal(t, closure.StateClosed, r.State)
	left := 0
	for _, u := range w.Tenant().Users() {
		if !strings.EqualFold(u.UPN, w.Tenant().KeptAdmin().UPN) {
			left++
		}
	}
	assert.Zero(t, left, "users left besides the kept admin")

	// The metrics of the start that completed it.
	srv := httptest.NewServer(p2.obs.handler())
	t.Cleanup(srv.Close)
	_, metrics := scrape(t, srv, "/metrics")
	for _, want := range []string{
		`closebot_requests{state="closed"} 1`,
		`closebot_step_duration_seconds_count{outcome="done",step="1"} 1`,
		`closebot_step_duration_seconds_count{outcome="done",step="5"} 1`,
		`closebot_graph_requests_total{method="DELETE",status="204",target="graph",throttle_scope=""}`,
		`closebot_graph_requests_total{method="GET",status="200",target="graph",throttle_scope=""}`,
		`closebot_graph_requests_total{method="POST",status="200",target="login",throttle_scope=""}`,
		`closebot_slack_calls_total{method="chat.update",status="200"}`,
		`closebot_slack_calls_total{method="apps.connections.open",status="200"} 1`,
		`closebot_ack_latency_seconds_count{type="interactive"}`,
		`closebot_slack_socket_connected 1`,
		`closebot_slack_connections 1`,
	} {
		assert.Contains(t, metrics, want)
	}
}
