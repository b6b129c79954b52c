package main

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/internal/demo"
)

// Issue 11 item 4, end to end: the stop file put in place while closebot
// is down is read before anything resumes. The closure that was waiting at
// a gate comes back paused, and closebot makes no Graph write at all, not
// even the gate's re-check deletions.
func TestE2EStopFileAtStartUpResumesNothing(t *testing.T) {
	ctx, clock, w := restartWorld(t, 3*time.Minute, 30, nil)
	start := func() (*product, func()) {
		t.Helper()
		return startClosebot(ctx, t, w, clock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	p, stop := start()
	h := demo.NewHumans(w, p.db, clock, func(string, ...any) {})
	waitFor := func(what string, ok func(*closure.Request) bool) *closure.Request {
		t.Helper()
		return waitRequest(t, w, 30*time.Second, what, func() (*closure.Request, error) { return p.db.Get(ctx, h.ID()) }, ok)
	}
	if _, err := h.Open(ctx, "Company dissolved"); err != nil {
		t.Fatal(err)
	}
	if err := w.Slack().WaitFor(10*time.Second, func() bool { _, ok, _ := p.db.Ref(ctx, h.ID(), "card"); return ok }); err != nil {
		t.Fatal("no card")
	}
	r := waitFor("card", func(*closure.Request) bool { return true })
	if err := h.Approve(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := w.Slack().WaitFor(10*time.Second, func() bool { acted, _ := h.SignIn(ctx); return acted }); err != nil {
		t.Fatal("no sign-in code for carol")
	}
	waitFor("abort window", func(r *closure.Request) bool { return r.State == closure.StateWaitingWindow })
	clock.FastForward(31 * time.Minute)
	r = waitFor("step 1 gate", func(r *closure.Request) bool {
		return r.Step == 1 && r.State == closure.StateGate && len(r.BlockingGates()) > 0
	})
	stop()

	// While closebot is down, the operator creates the stop file, and the
	// gate's users are freed: a resumed re-check would delete them at once.
	if err := os.WriteFile(filepath.Join(w.Dir(), "closebot.db.stop"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := w.Tenant().RemoveFromRestrictedUnits(strings.Split(r.BlockingGates()[0].Params["ids"], ",")...); err != nil {
		t.Fatal(err)
	}
	// Only the check at start-up can catch it: the next poll is an hour away.
	poll := stopPoll
	stopPoll = time.Hour
	t.Cleanup(func() { stopPoll = poll })
	graphFrom := len(w.Graph().Requests())
	p, _ = start()
	h.SetDB(p.db)
	waitFor("paused at start-up", func(r *closure.Request) bool { return r.State == closure.StatePaused })
	clock.FastForward(time.Hour) // re-checks would be due many times over
	time.Sleep(3 * time.Second)
	for _, q := range w.Graph().Requests()[graphFrom:] {
		if q.Kind == "graph" && q.Method != http.MethodGet {
			t.Errorf("Graph write while the stop file exists: %s %s", q.Method, q.Path)
		}
	}
}
