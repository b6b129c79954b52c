package main

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/internal/demo"
)

// Issue 11 item 1, end to end through both emulators: while step 1 waits
// at its restricted-unit gate, an administrator renames the kept admin, so
// the configured keep: names nobody. closebot, restarted, reads the plan
// again and sends the request back for approval; once the name is fixed,
// bob approves the re-read plan and the kept admin must prove a sign-in
// with MFA again before any user is deleted. The admin who proved is never
// deleted.
func TestE2EKeptAdminRenamedAtAGate(t *testing.T) {
	ctx, clock, w := restartWorld(t, 3*time.Minute, 30, nil)
	start := func() (*product, func()) {
		t.Helper()
		return startClosebot(ctx, t, w, clock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	kept := w.Tenant().KeptAdmin()
	p, stop := start()
	h := demo.NewHumans(w, p.db, clock, func(string, ...any) {})
	get := func() *closure.Request {
		t.Helper()
		r, err := p.db.Get(ctx, h.ID())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	waitFor := func(what string, ok func(*closure.Request) bool) *closure.Request {
		t.Helper()
		var r *closure.Request
		if err := w.Slack().WaitFor(30*time.Second, func() bool { r = get(); return ok(r) }); err != nil {
			t.Fatalf("%s: state %s step %d (%s) gates %+v", what, r.State, r.Step, r.FailReason, r.Gates)
		}
		return r
	}
	proofs := func() int {
		evs, err := p.db.Events(ctx, h.ID())
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, ev := range evs {
			if ev.Action == "proof.passed" {
				n++
			}
		}
		return n
	}

	// alice asks, bob approves, carol proves; step 1 stops at the
	// restricted administrative unit's gate.
	if _, err := h.Open(ctx, "Company dissolved"); err != nil {
		t.Fatal(err)
	}
	if err := w.Slack().WaitFor(10*time.Second, func() bool { _, ok, _ := p.db.Ref(ctx, h.ID(), "card"); return ok }); err != nil {
		t.Fatal("no card")
	}
	if err := h.Approve(ctx, get()); err != nil {
		t.Fatal(err)
	}
	if err := w.Slack().WaitFor(10*time.Second, func() bool { acted, _ := h.SignIn(ctx); return acted }); err != nil {
		t.Fatal("no sign-in code for carol")
	}
	waitFor("abort window", func(r *closure.Request) bool { return r.State == closure.StateWaitingWindow })
	clock.FastForward(31 * time.Minute)
	r := waitFor("step 1 gate", func(r *closure.Request) bool {
		return r.Step == 1 && r.State == closure.StateGate && len(r.BlockingGates()) > 0
	})
	gate := r.BlockingGates()[0]
	if gate.Kind != closure.GateRestrictedAdminUnit {
		t.Fatalf("step 1 waits at %s", gate.Kind)
	}
	proved := proofs()
	stop()

	// The kept admin is renamed; closebot restarts and reads the plan again.
	renamed := "renamed-admin@" + w.Tenant().Domain
	if err := w.Tenant().RenameUser(kept.ID, renamed); err != nil {
		t.Fatal(err)
	}
	graphFrom := len(w.Graph().Requests())
	p, _ = start()
	h.SetDB(p.db)
	r = waitFor("re-pended", func(r *closure.Request) bool { return r.State == closure.StatePending })
	if !strings.Contains(strings.Join(r.DriftLines, "\n"), kept.UPN) {
		t.Errorf("the drift does not name the kept admin: %v", r.DriftLines)
	}
	if r.ProvenKeep != "" {
		t.Errorf("the old proof still counts: %s", r.ProvenKeep)
	}

	// The name is fixed; bob approves the re-read plan.
	if err := w.Tenant().RenameUser(kept.ID, kept.UPN); err != nil {
		t.Fatal(err)
	}
	if err := h.Approve(ctx, get()); err != nil {
		t.Fatal(err)
	}
	waitFor("a new proof of life", func(r *closure.Request) bool { return r.State == closure.StateProving })
	time.Sleep(300 * time.Millisecond) // closebot would have deleted by now had it resumed
	for _, q := range w.Graph().Requests()[graphFrom:] {
		if q.Kind == "graph" && q.Method == http.MethodDelete {
			t.Errorf("deleted before the new proof: %s %s", q.Method, q.Path)
		}
	}
	if err := w.Slack().WaitFor(10*time.Second, func() bool { acted, _ := h.SignIn(ctx); return acted }); err != nil {
		t.Fatal("no new sign-in code for carol")
	}
	// A new approval with a new proof has its abort window again.
	waitFor("abort window after the new proof", func(r *closure.Request) bool { return r.State == closure.StateWaitingWindow })
	clock.FastForward(31 * time.Minute)
	r = waitFor("back at step 1's gate", func(r *closure.Request) bool {
		return r.Step == 1 && r.State == closure.StateGate && len(r.BlockingGates()) > 0
	})
	gate = r.BlockingGates()[0]
	if got := proofs(); got != proved+1 {
		t.Errorf("proofs passed: %d, want %d", got, proved+1)
	}

	// carol clears the gate; step 1 deletes the rest, never the kept admin.
	if err := w.Tenant().RemoveFromRestrictedUnits(strings.Split(gate.Params["ids"], ",")...); err != nil {
		t.Fatal(err)
	}
	if err := h.Recheck(ctx, gate.ID); err != nil {
		t.Fatal(err)
	}
	waitFor("step 1 done", func(r *closure.Request) bool { return r.Step >= 2 })
	if u, ok := w.Tenant().User(kept.ID); !ok || u.Deleted {
		t.Errorf("the kept admin who proved was deleted")
	}
	for _, q := range w.Graph().Requests() {
		if q.Method == http.MethodDelete && strings.Contains(strings.ToLower(q.Path), strings.ToLower(kept.ID)) {
			t.Errorf("closebot tried to delete the kept admin: %s", q.Path)
		}
	}
}
