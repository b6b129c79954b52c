package main

// Issue 14 item 4: gates that stay open for weeks, on the demo clock
// fast-forwarded a day at a time, with closebot restarted along the way.

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/closebot/closebot/bot/blocks"
	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/graphtest"
	"github.com/closebot/closebot/internal/demo"
)

// gateRun is one closure driven to a point, across restarts.
type gateRun struct {
	t     *testing.T
	ctx   context.Context
	clock *demo.Clock
	w     *demo.World
	p     *product
	stop  func()
	h     *demo.Humans
}

func startGateRun(t *testing.T, timeout time.Duration, spec func(*graphtest.TenantSpec)) *gateRun {
	t.Helper()
	ctx, clock, w := restartWorld(t, timeout, 20, spec)
	g := &gateRun{t: t, ctx: ctx, clock: clock, w: w}
	g.p, g.stop = startClosebot(ctx, t, w, clock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	g.h = demo.NewHumans(w, g.p.db, clock, func(string, ...any) {})
	return g
}

// restart stops closebot and starts it again on the same database.
func (g *gateRun) restart() {
	g.t.Helper()
	g.stop()
	g.p, g.stop = startClosebot(g.ctx, g.t, g.w, g.clock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	g.h.SetDB(g.p.db)
}

func (g *gateRun) req() *closure.Request { return g.p.get(g.t, g.h.ID()) }

func (g *gateRun) waitState(what string, ok func(*closure.Request) bool) *closure.Request {
	g.t.Helper()
	var r *closure.Request
	if err := g.w.Slack().WaitFor(60*time.Second, func() bool { r = g.req(); return ok(r) }); err != nil {
		g.t.Fatalf("%s: state %s, step %d", what, r.State, r.Step)
	}
	return r
}

// toStep2Gates opens the request, has it approved and proved, lets the
// abort window pass and waits for step 2's billing gates.
func (g *gateRun) toStep2Gates() *closure.Request {
	g.t.Helper()
	if _, err := g.h.Open(g.ctx, "Company dissolved"); err != nil {
		g.t.Fatal(err)
	}
	waitCard(g.ctx, g.t, g.w, g.p.db, g.h.ID())
	if err := g.h.Approve(g.ctx, g.req()); err != nil {
		g.t.Fatal(err)
	}
	if err := g.w.Slack().WaitFor(time.Minute, func() bool { acted, _ := g.h.SignIn(g.ctx); return acted }); err != nil {
		g.t.Fatal("no sign-in code for carol")
	}
	r := g.waitState("abort window", func(r *closure.Request) bool { return r.State == closure.StateWaitingWindow })
	g.clock.FastForward(r.WindowEndsAt.Sub(g.clock.Now()) + time.Second)
	return g.waitState("step 2's gates", func(r *closure.Request) bool {
		return r.Step == closure.StepCancelSubscriptions && r.State == closure.StateGate
	})
}

// reminders counts the reminders carol was sent by DM for the gate titled title.
func (g *gateRun) reminders(title string) int {
	n := 0
	for _, m := range g.w.Slack().DMs(demo.Carol) {
		if strings.HasPrefix(m.Text, g.h.ID()+": Reminder:") || strings.Contains(m.Text, "Reminder:") {
			if strings.Contains(m.Text, title) || strings.Contains(m.Text, blocks.Escape(title)) {
				n++
			}
		}
	}
	return n
}

func gateOf(r *closure.Request, kind closure.GateKind) closure.Gate {
	for _, g := range r.Gates {
		if g.Kind == kind {
			return g
		}
	}
	return closure.Gate{}
}

// A billing gate whose subscriptions change state 40 days from now: carol
// is reminded once a day across restarts, and it does not become stuck.
// The Azure gate beside it has no ETA: past gates.stuck_after (14 days) the
// request is stuck, the thread tells people to open a support case, and
// once carol attests, the request waits at the billing gate again; when
// carol cancels the subscriptions, it runs.
func TestE2ELongGates(t *testing.T) {
	if testing.Short() {
		t.Skip("40 emulated days")
	}
	// CI steps a day at a time through the stuck day and a few days past
	// it, then leaps to the day before the ETA; CLOSEBOT_LONG=1 steps
	// through all 40 days. Restarts are spaced so that reconnecting stays
	// within apps.connections.open's Tier 1 limit (a burst, then 1/min).
	const etaDays = 40
	restartEvery, dailyUntil := 5, 17
	if longRun() {
		restartEvery, dailyUntil = 7, etaDays
	}
	g := startGateRun(t, 8*time.Minute, func(s *graphtest.TenantSpec) {
		s.RestrictedAUMembers = 0
		for i := range s.Subscriptions {
			s.Subscriptions[i].NextLifecycle = etaDays * 24 * time.Hour
		}
	})
	r := g.toStep2Gates()
	billing, azure := gateOf(r, closure.GateSubscriptionDirect), gateOf(r, closure.GateAzure)
	if billing.ID == "" || azure.ID == "" || !azure.ETA.IsZero() {
		t.Fatalf("step 2's gates: %+v", r.Gates)
	}
	if d := billing.ETA.Sub(g.clock.Now()); d < (etaDays-1)*24*time.Hour || d > etaDays*24*time.Hour {
		t.Fatalf("the billing gate's ETA is %s away, want %d days", d, etaDays)
	}
	billingTitle := closure.InstructionFor(billing).Title
	azureTitle := closure.InstructionFor(azure).Title
	// gates.stuck_after is 336h in the world's configuration: the Azure
	// gate, opened on day 0 with no ETA, is overdue from day 14.
	const stuckDay = 14
	attested := false
	want := 0 // reminders the billing gate is due by now: one per day passed
	for day := 1; day < etaDays; day++ {
		if day > dailyUntil && day < etaDays-1 {
			continue
		}
		step := 24*time.Hour + time.Minute
		if day == etaDays-1 && day-1 > dailyUntil {
			step = time.Duration(day-dailyUntil) * step // the leap: one reminder, not one a day
		}
		g.clock.FastForward(step)
		want++
		if day%restartEvery == 0 || day == etaDays-1 {
			g.restart()
		}
		if err := g.w.Slack().WaitFor(30*time.Second, func() bool { return g.reminders(billingTitle) >= want }); err != nil {
			t.Fatalf("day %d: %d reminders for the billing gate, want %d", day, g.reminders(billingTitle), want)
		}
		if day < stuckDay {
			if err := g.w.Slack().WaitFor(30*time.Second, func() bool { return g.reminders(azureTitle) >= day }); err != nil {
				t.Fatalf("day %d: %d reminders for the Azure gate", day, g.reminders(azureTitle))
			}
		}
		r = g.req()
		switch {
		case day < stuckDay && r.State != closure.StateGate:
			t.Fatalf("day %d: %s before any gate was overdue", day, r.State)
		case day == stuckDay:
			r = g.waitState("stuck after gates.stuck_after", func(r *closure.Request) bool { return r.State == closure.StateStuck })
			if !g.threadSays("Open a Microsoft support case") {
				t.Errorf("day %d: the thread does not say to open a support case", day)
			}
			if !gateOf(r, closure.GateAzure).ETA.IsZero() {
				t.Errorf("the Azure gate gained an ETA")
			}
			// carol cancels the Azure subscriptions and attests: the
			// overdue gate is satisfied, the billing gate (ETA 40 days)
			// still blocks.
			if err := g.w.Tenant().RemoveAzureSubscription(); err != nil {
				t.Fatal(err)
			}
			if err := g.h.Attest(g.ctx, azure.ID, closure.SentenceNoAzure); err != nil {
				t.Fatal(err)
			}
			g.waitState("back at the billing gate once the overdue gate is satisfied", func(r *closure.Request) bool {
				return r.State == closure.StateGate && !gateOf(r, closure.GateAzure).IsOpen()
			})
			attested = true
		case attested && r.State != closure.StateGate:
			t.Fatalf("day %d: %s while only the billing gate (ETA day %d) is open", day, r.State, etaDays)
		}
	}
	// One reminder a day, none twice after a restart.
	time.Sleep(500 * time.Millisecond)
	if n := g.reminders(billingTitle); n != want {
		t.Errorf("%d reminders for the billing gate, want %d (one a day)", n, want)
	}
	// carol cancels the subscriptions (and does what the later gates ask):
	// the request runs on, and the tenant is closed.
	if err := g.h.Play(g.ctx); err != nil {
		t.Fatalf("the closure did not complete after the long gate: %v (%s)", err, g.req().State)
	}
	evs, err := g.p.db.Events(g.ctx, g.h.ID())
	if err != nil {
		t.Fatal(err)
	}
	var stuck, unstuck int
	for _, ev := range evs {
		switch {
		case ev.Action == closure.EvStuck:
			stuck++
		case ev.From == closure.StateStuck && ev.To == closure.StateGate:
			unstuck++
		}
	}
	if stuck != 1 || unstuck != 1 {
		t.Errorf("%d stuck events and %d returns from stuck, want one each", stuck, unstuck)
	}
}

func (g *gateRun) threadSays(s string) bool {
	card := waitCard(g.ctx, g.t, g.w, g.p.db, g.h.ID())
	for _, m := range g.w.Slack().Thread(card.Channel, card.TS) {
		if strings.Contains(m.Text, s) || strings.Contains(string(m.Blocks), s) {
			return true
		}
	}
	return false
}

// Restore is offered for 30 days after the first deletion (Entra keeps
// deleted users that long); pressed after that, across a restart, it is
// refused as expired and nothing is written.
func TestE2ERestoreExpiresAfter30Days(t *testing.T) {
	if testing.Short() {
		t.Skip("31 emulated days")
	}
	g := startGateRun(t, 4*time.Minute, func(s *graphtest.TenantSpec) { s.RestrictedAUMembers = 0 })
	r := g.toStep2Gates()
	if r.RestoreDeadline.IsZero() {
		t.Fatal("no restore deadline after step 1 deleted users")
	}
	if err := g.h.Click(g.ctx, demo.Bob, "card", blocks.ActionAbort); err != nil {
		t.Fatal(err)
	}
	g.waitState("aborted", func(r *closure.Request) bool { return r.State == closure.StateAborted })
	// bob's Slack still shows the card with Restore while the deadline
	// passes (his client last drew it then).
	var restore string
	if err := g.w.Slack().WaitFor(10*time.Second, func() bool {
		restore = g.buttonValue("card", blocks.ActionRestore)
		return restore != ""
	}); err != nil {
		t.Fatal("no Restore button on the aborted request's card")
	}
	g.clock.FastForward(r.RestoreDeadline.Sub(g.clock.Now()) + time.Hour)
	g.restart()
	from := len(g.w.Graph().Requests())
	before := len((&e2e{w: g.w}).answersTo(demo.Bob))
	card := waitCard(g.ctx, t, g.w, g.p.db, g.h.ID())
	env, err := g.w.Slack().ClickRaw(demo.Bob, card.Channel, card.TS, blocks.BlockCardActions, blocks.ActionRestore, restore)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.WaitAck(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	var told string
	if err := g.w.Slack().WaitFor(10*time.Second, func() bool {
		a := (&e2e{w: g.w}).answersTo(demo.Bob)
		if len(a) > before {
			told = a[len(a)-1]
			return true
		}
		return false
	}); err != nil {
		t.Fatal("bob was told nothing")
	}
	if !strings.Contains(told, "30 days") || !strings.Contains(told, "cannot be restored") {
		t.Errorf("bob was told %q", told)
	}
	time.Sleep(time.Second)
	for _, q := range g.w.Graph().Requests()[from:] {
		if q.Kind == "graph" && q.Method != "GET" {
			t.Errorf("Graph write after the restore deadline: %s %s", q.Method, q.Path)
		}
	}
	if got := g.req(); got.State != closure.StateAborted {
		t.Errorf("after an expired Restore: %s", got.State)
	}
}

// buttonValue is the value of the button actionID on the request's
// message ref as Slack holds it now ("" if it has none).
func (g *gateRun) buttonValue(ref, actionID string) string {
	r, ok, err := g.p.db.Ref(g.ctx, g.h.ID(), ref)
	if err != nil || !ok {
		return ""
	}
	m, _ := g.w.Slack().Message(r.Channel, r.TS)
	var bs []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	_ = json.Unmarshal(m.Blocks, &bs)
	for _, b := range bs {
		for _, e := range b.Elements {
			if e.ActionID == actionID {
				return e.Value
			}
		}
	}
	return ""
}
