package main

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/closebot/closebot/bot"
	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/graphtest"
	"github.com/closebot/closebot/closure/msgraph"
	"github.com/closebot/closebot/internal/demo"
)

// TestE2EJustInTimeWriteAccess (issue 15 item 6), through the real Slack
// and Graph clients against both emulators: the tenant is write_access
// just_in_time, so closebot's app only reads at rest (the emulator's app
// roles are the read-only ones, no directory role). After the abort window
// closebot makes no write: it opens a gate for carol naming every write
// permission and the role, with the admin-center path and the Graph
// PowerShell lines, and waits there as time passes. carol grants late, in
// two goes; closebot says the role is still missing, then verifies the
// grant from a token issued now before its first write. After step 5's last
// write it asks for the removal, checks it, and only then opens the tenant
// deletion's gate; the closure completes.
func TestE2EJustInTimeWriteAccess(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	clock := demo.NewClock(time.Now().UTC(), 60)
	t.Cleanup(clock.Close)
	grants := msgraph.WriteGrants()
	w, err := demo.StartWorld(demo.Options{Users: 20, Scale: 60, Clock: clock, WriteGrants: grants,
		Spec: func(s *graphtest.TenantSpec) { s.RestrictedAUMembers = 0 }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	t.Cleanup(func() { noBlockKitRefusals(t, w) })
	tn := w.Tenant()
	roles := func() []string { return w.Graph().AppRoles(tn.ID, tn.ClosebotAppID) }
	for _, g := range grants {
		if !g.IsRole() && slices.Contains(roles(), g.Name) {
			t.Fatalf("at rest closebot's app holds %s", g.Name)
		}
	}
	if got := tn.ClosebotRoles(); len(got) != 0 {
		t.Fatalf("at rest closebot's app holds the directory roles %v", got)
	}
	p, stop, err := launch(ctx, w, clock, slog.New(slog.NewTextHandler(io.Discard, nil)), func(c *bot.Config) { c.Sweep = 50 * time.Millisecond })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("closebot stopped with %v", err)
		}
	})
	e := &e2e{t: t, w: w, p: p, clock: clock, h: demo.NewHumans(w, p.db, clock, func(string, ...any) {})}
	waitFor := func(what string, ok func(*closure.Request) bool) *closure.Request {
		t.Helper()
		var r *closure.Request
		if err := w.Slack().WaitFor(30*time.Second, func() bool { r = e.get(e.h.ID()); return ok(r) }); err != nil {
			t.Fatalf("%s: state %s step %d (%s) gates %+v", what, r.State, r.Step, r.FailReason, r.Gates)
		}
		return r
	}

	// alice asks, bob approves, carol proves; the window passes.
	req := e.open("Company dissolved")
	if err := e.h.Approve(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := w.Slack().WaitFor(10*time.Second, func() bool { acted, _ := e.h.SignIn(ctx); return acted }); err != nil {
		t.Fatal("no sign-in code for carol")
	}
	waitFor("abort window", func(r *closure.Request) bool { return r.State == closure.StateWaitingWindow })
	clock.FastForward(31 * time.Minute)

	// Step 1 waits at the grant gate, and writes nothing.
	r := waitFor("grant gate", func(r *closure.Request) bool {
		return r.Step == 1 && r.State == closure.StateGate && slices.ContainsFunc(r.BlockingGates(), func(g closure.Gate) bool { return g.Kind == closure.GateGrantWriteAccess })
	})
	gate := r.BlockingGates()[0]
	ref := e.waitRef(r.ID, "gate."+gate.ID)
	var text string
	if err := w.Slack().WaitFor(10*time.Second, func() bool {
		m, ok := w.Slack().Message(ref.Channel, ref.TS)
		text = mrkdwnTexts(t, m.Blocks)
		return ok && strings.Contains(text, "Grant closebot write access")
	}); err != nil {
		t.Fatalf("the grant gate's message: %q", text)
	}
	for _, want := range []string{"User.ReadWrite.All", "Privileged Authentication Administrator", "API permissions", "Grant admin consent",
		"New-MgServicePrincipalAppRoleAssignment", "741f803b-c850-494e-b5df-cde7c675a1ca",
		"New-MgRoleManagementDirectoryRoleAssignment", closure.RolePrivilegedAuthenticationAdministrator, "<@" + demo.Carol + "> must act"} {
		if !strings.Contains(text, want) {
			t.Errorf("the grant gate's message lacks %q:\n%s", want, text)
		}
	}
	clock.FastForward(30 * time.Minute)
	time.Sleep(200 * time.Millisecond)
	if r = e.get(r.ID); r.State != closure.StateGate || r.Step != 1 {
		t.Errorf("without the grant: state %s step %d", r.State, r.Step)
	}
	e.noGraphWrites()

	// carol grants (late, in two goes) and plays on until the tenant is gone.
	if err := e.h.Play(ctx); err != nil {
		t.Fatalf("the closure did not complete: %v (state %s)", err, e.get(r.ID).State)
	}

	evs, err := p.db.Events(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	at := func(ok func(closure.Event) bool) int { return slices.IndexFunc(evs, ok) }
	stillMissing := at(func(ev closure.Event) bool {
		return ev.Action == closure.EvGateProgress && strings.Contains(ev.Detail["note"], "still missing: Privileged Authentication Administrator")
	})
	granted := at(func(ev closure.Event) bool { return ev.Action == closure.EvWriteGranted })
	firstIntent := at(func(ev closure.Event) bool { return ev.Action.Kind() == closure.IntentEvent })
	removeOpen := at(func(ev closure.Event) bool {
		return ev.Action == closure.EvGateOpen && ev.Detail["gate"] == closure.RemoveWriteGateID
	})
	removed := at(func(ev closure.Event) bool {
		return ev.Action == closure.EvGateSatisfied && ev.Detail["gate"] == closure.RemoveWriteGateID
	})
	deleteOpen := at(func(ev closure.Event) bool {
		return ev.Action == closure.EvGateOpen && ev.Detail["gate"] == "5.delete_tenant"
	})
	if stillMissing < 0 || granted < 0 || firstIntent < 0 || removeOpen < 0 || removed < 0 || deleteOpen < 0 {
		t.Fatalf("events: still missing %d, granted %d, first write %d, removal asked %d, removal seen %d, deletion gate %d",
			stillMissing, granted, firstIntent, removeOpen, removed, deleteOpen)
	}
	if !(stillMissing < granted && granted < firstIntent) {
		t.Errorf("closebot said what was missing (%d) and verified the grant (%d) before its first write (%d)", stillMissing, granted, firstIntent)
	}
	if !(removeOpen < removed && removed < deleteOpen) {
		t.Errorf("removal asked %d, seen %d, deletion's gate %d", removeOpen, removed, deleteOpen)
	}
	for _, ev := range evs[removeOpen:] {
		if ev.Action.Kind() == closure.IntentEvent {
			t.Errorf("a write after the removal was asked for: %s %v", ev.Action, ev.Detail)
		}
	}
	for _, g := range grants {
		if !g.IsRole() && slices.Contains(roles(), g.Name) {
			t.Errorf("after the closure closebot's app still holds %s", g.Name)
		}
		if g.ReadAtRest != "" && !slices.Contains(roles(), g.ReadAtRest) {
			t.Errorf("closebot's app lost its read-only %s", g.ReadAtRest)
		}
	}
	if final := e.get(r.ID); final.State != closure.StateClosed || !final.WriteAccessRemoved() {
		t.Errorf("state %s, write access removed %v", final.State, final.WriteAccessRemoved())
	}
}

// mrkdwnTexts joins a message's text objects.
func mrkdwnTexts(t *testing.T, raw []byte) string {
	var texts []struct {
		Type     string `json:"type"`
		Text     string `json:"text"`
		Verbatim bool   `json:"verbatim"`
	}
	if len(raw) == 0 {
		return ""
	}
	collectTexts(t, raw, &texts)
	var b strings.Builder
	for _, tx := range texts {
		b.WriteString(tx.Text + "\n")
	}
	return b.String()
}
