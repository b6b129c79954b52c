package main

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/bot"
	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/graphtest"
	"github.com/closebot/closebot/internal/demo"
)

// restartWorld is an emulated world for tests that stop and start closebot
// on the same database: both emulators, a demo clock at 60×, and the Block
// Kit check on everything closebot sent.
func restartWorld(t *testing.T, timeout time.Duration, users int, spec func(*graphtest.TenantSpec)) (context.Context, *demo.Clock, *demo.World) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	clock := demo.NewClock(time.Now().UTC(), 60)
	t.Cleanup(clock.Close)
	w, err := demo.StartWorld(demo.Options{Users: users, Scale: 60, Clock: clock, Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	t.Cleanup(func() { noBlockKitRefusals(t, w) })
	return ctx, clock, w
}

// startClosebot runs closebot on w until the returned stop is called (or
// the test ends); a stop that fails fails the test.
func startClosebot(ctx context.Context, t *testing.T, w *demo.World, clock *demo.Clock, log *slog.Logger) (*product, func()) {
	t.Helper()
	p, stop, err := launch(ctx, w, clock, log, func(c *bot.Config) { c.Sweep = 50 * time.Millisecond })
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = stop()
		}
	})
	return p, func() {
		stopped = true
		if err := stop(); err != nil {
			t.Errorf("closebot stopped with %v", err)
		}
	}
}

// waitRequest waits up to d for the request get reads to satisfy ok (a read
// error is "not yet") and returns it; on timeout it fails the test, naming
// what it waited for and the request as last read. get is called anew on
// each poll, so a test that restarts closebot keeps reading the current
// database.
func waitRequest(t *testing.T, w *demo.World, d time.Duration, what string, get func() (*closure.Request, error), ok func(*closure.Request) bool) *closure.Request {
	t.Helper()
	var r *closure.Request
	err := w.Slack().WaitFor(d, func() bool {
		var err error
		r, err = get()
		return err == nil && ok(r)
	})
	require.NoError(t, err, "%s: %+v", what, r)
	return r
}
