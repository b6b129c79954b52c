package main

// End-to-end tests of the product: closebot as `closebot run` assembles it,
// the real slack-go socket-mode client against the Slack emulator, the real
// msgraph-sdk-go and azidentity against the Graph emulator. Abuse cases are
// judged on the Graph emulator's own log: nothing may be written.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/closebot/closebot/bot"
	"github.com/closebot/closebot/bot/blocks"
	"github.com/closebot/closebot/bot/slacktest"
	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/graphtest"
	"github.com/closebot/closebot/closure/pace"
	"github.com/closebot/closebot/internal/demo"
)

// e2e is one emulated world with closebot running on it.
type e2e struct {
	t     *testing.T
	w     *demo.World
	p     *product
	clock *demo.Clock
	h     *demo.Humans
}

func startE2E(t *testing.T, before func(w *demo.World)) *e2e {
	t.Helper()
	return startE2EUsers(t, 20, before)
}

// startE2EUsers is startE2E with a tenant of the given size.
func startE2EUsers(t *testing.T, users int, before func(w *demo.World)) *e2e {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	clock := demo.NewClock(time.Now().UTC(), 60)
	t.Cleanup(clock.Close)
	w, err := demo.StartWorld(demo.Options{Users: users, Scale: 60, Clock: clock, Spec: func(s *graphtest.TenantSpec) { s.RestrictedAUMembers = 0 }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	t.Cleanup(func() { noBlockKitRefusals(t, w) })
	if before != nil {
		before(w)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, stop, err := launch(ctx, w, clock, log, func(c *bot.Config) { c.Sweep = 50 * time.Millisecond })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("closebot stopped with %v", err)
		}
	})
	e := &e2e{t: t, w: w, p: p, clock: clock}
	e.h = demo.NewHumans(w, p.db, clock, func(string, ...any) {})
	return e
}

// graphWrites lists every Graph call that was not a read, from the
// emulator's request log (authority calls and emulator controls excluded).
func (e *e2e) graphWrites() []string {
	var out []string
	for _, r := range e.w.Graph().Requests() {
		if r.Kind == "graph" && r.Method != http.MethodGet {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	if n := len(e.w.Graph().Writes()); n > 0 && len(out) == 0 {
		out = append(out, "writes recorded by the directory")
	}
	return out
}

func (e *e2e) noGraphWrites() {
	e.t.Helper()
	if got := e.graphWrites(); len(got) > 0 {
		e.t.Errorf("Graph writes: %v", got)
	}
}

// open is alice's request; it waits for the card.
func (e *e2e) open(reason string) *closure.Request {
	e.t.Helper()
	id, err := e.h.Open(context.Background(), reason)
	if err != nil {
		e.t.Fatal(err)
	}
	e.waitRef(id, "card")
	return e.get(id)
}

func (e *e2e) get(id string) *closure.Request {
	e.t.Helper()
	req, err := e.p.db.Get(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return req
}

func (e *e2e) waitRef(id, name string) slacktest.MessageRef {
	e.t.Helper()
	var ref slacktest.MessageRef
	err := e.w.Slack().WaitFor(10*time.Second, func() bool {
		r, ok, err := e.p.db.Ref(context.Background(), id, name)
		ref = slacktest.MessageRef{Channel: r.Channel, TS: r.TS}
		return err == nil && ok
	})
	if err != nil {
		e.t.Fatalf("no %s message for %s: %v", name, id, err)
	}
	return ref
}

// refusedTo waits for an ephemeral or DM to user saying something, and
// returns its text.
func (e *e2e) refusedTo(user string, before int) string {
	e.t.Helper()
	var text string
	err := e.w.Slack().WaitFor(10*time.Second, func() bool {
		all := e.answersTo(user)
		if len(all) > before {
			text = all[len(all)-1]
			return true
		}
		return false
	})
	if err != nil {
		e.t.Fatalf("%s was told nothing: %v", user, err)
	}
	return text
}

func (e *e2e) answersTo(user string) []string {
	var out []string
	for _, m := range e.w.Slack().Ephemerals(user) {
		out = append(out, m.Text+" "+string(m.Blocks))
	}
	for _, m := range e.w.Slack().DMs(user) {
		out = append(out, m.Text+" "+string(m.Blocks))
	}
	return out
}

// click presses a button on the card as user and returns what user was told.
func (e *e2e) clickCard(user string, req *closure.Request, action string) string {
	e.t.Helper()
	before := len(e.answersTo(user))
	env, err := e.w.Slack().Click(user, e.waitRef(req.ID, "card"), action)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := env.WaitAck(3 * time.Second); err != nil {
		e.t.Fatalf("click not acknowledged in 3 s: %v", err)
	}
	return e.refusedTo(user, before)
}

func (e *e2e) noApprovals(id string) {
	e.t.Helper()
	if req := e.get(id); len(req.Approvals) > 0 || req.State != closure.StatePending {
		e.t.Errorf("%s: state %s, approvals %v; want pending with none", id, req.State, req.Approvals)
	}
}

func TestE2EDemoClosesTheTenant(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"demo", "--users", "25", "--timeout", "90s"}, &out, &errb)
	if code != 0 {
		t.Fatalf("demo exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"alice types: /close-tenant", "bob presses Approve", "carol opens the sign-in link",
		"users left besides the kept admin: 0", "messages Slack refused as invalid:    0", "writes to security defaults or CA:    0", "AADSTS90002", "request closed: true", "verifies: true"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
}

// TestE2EGateButtonsWorkWhileStep1Runs: the billing gates open when the
// steps start, while step 1 deletes 1,500 users; carol presses each gate's
// attestation and Re-check once, as soon as she sees it. Every press takes
// effect (no refusal, nothing pressed twice), the closure completes, and
// the thread reads in audit order.
func TestE2EGateButtonsWorkWhileStep1Runs(t *testing.T) {
	if testing.Short() {
		t.Skip("1,500-user closure")
	}
	e := startE2EUsers(t, 1500, nil)
	// One deletion at a time, as before the pacer: the presses must land
	// while step 1 still runs, and 1,500 users fit in the write burst.
	e.p.runner.SetPacing(pace.Settings{MaxInFlight: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	req := e.open("Company dissolved, ticket OPS-1500")
	if err := e.h.Play(ctx); err != nil {
		t.Fatalf("closure did not complete: %v", err)
	}
	events, err := e.p.db.Events(ctx, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	var attested, step1Done uint64
	for _, ev := range events {
		switch {
		case ev.Action == closure.EvAttest && ev.Detail["sentence"] == closure.SentenceNoAzure && attested == 0:
			attested = ev.Seq
		case ev.Action == "step.done" && ev.Detail["step"] == "1":
			step1Done = ev.Seq
		}
	}
	if attested == 0 || step1Done == 0 || attested > step1Done {
		t.Errorf("the Azure attestation (#%d) was not recorded while step 1 ran (step 1 done at #%d)", attested, step1Done)
	}
	if r := e.w.RefusalsTo(demo.Alice, demo.Bob, demo.Carol); len(r) > 0 {
		t.Errorf("buttons refused: %v", r)
	}
	if err := e.p.reporter.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	card := e.waitRef(req.ID, "card")
	if p := demo.ThreadOrderProblems(e.w.Slack().Calls("chat.postMessage"), card.Channel, card.TS, events); len(p) > 0 {
		t.Errorf("thread out of audit order: %v", p)
	}
}

func TestE2EAbuseMakesNoGraphWrites(t *testing.T) {
	t.Run("self-approval", func(t *testing.T) {
		e := startE2E(t, nil)
		// dave may both request and approve: his own request is still not his to approve.
		before := len(e.answersTo(demo.Dave))
		env, err := e.w.Slack().Slash(demo.Dave, demo.Channel, e.w.Tenant().Domain+" merger, ticket OPS-9")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.WaitAck(3 * time.Second); err != nil {
			t.Fatal(err)
		}
		_ = e.refusedTo(demo.Dave, before) // "Reading …"
		var reqs []*closure.Request
		if err := e.w.Slack().WaitFor(10*time.Second, func() bool {
			reqs, _ = e.p.db.List(context.Background(), true, 1)
			return len(reqs) == 1
		}); err != nil {
			t.Fatalf("dave's request was not opened")
		}
		e.waitRef(reqs[0].ID, "card")
		if msg := e.clickCard(demo.Dave, reqs[0], blocks.ActionApprove); !strings.Contains(msg, "You opened this request, so you cannot approve it") {
			t.Errorf("dave was told %q", msg)
		}
		e.noApprovals(reqs[0].ID)
		e.noGraphWrites()
	})
	for _, c := range []struct{ name, user string }{
		{"outsider", demo.Mallory}, {"guest", demo.Guest}, {"other team", demo.Stranger},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := startE2E(t, nil)
			req := e.open("Company dissolved")
			views := len(e.w.Slack().Views())
			e.clickCard(c.user, req, blocks.ActionApprove)
			if len(e.w.Slack().Views()) != views {
				t.Errorf("a modal opened for %s", c.user)
			}
			e.noApprovals(req.ID)
			e.noGraphWrites()
		})
	}
	t.Run("stale card", func(t *testing.T) {
		e := startE2E(t, nil)
		req := e.open("Company dissolved")
		card := e.waitRef(req.ID, "card")
		stale := blocks.Value{Request: req.ID, Version: req.Version}.String()
		e.clickCard(demo.Alice, req, blocks.ActionCancel)
		if err := e.w.Slack().WaitFor(10*time.Second, func() bool { return e.get(req.ID).State == closure.StateCancelled }); err != nil {
			t.Fatal("alice could not cancel her request")
		}
		before := len(e.answersTo(demo.Bob))
		env, err := e.w.Slack().ClickRaw(demo.Bob, card.Channel, card.TS, blocks.BlockCardActions, blocks.ActionApprove, stale)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = env.WaitAck(3 * time.Second)
		e.refusedTo(demo.Bob, before)
		if got := e.get(req.ID); got.State != closure.StateCancelled || len(got.Approvals) > 0 {
			t.Errorf("after a stale click: %s with %v", got.State, got.Approvals)
		}
		e.noGraphWrites()
	})
	t.Run("forged value naming another request", func(t *testing.T) {
		e := startE2E(t, nil)
		req := e.open("Company dissolved")
		card := e.waitRef(req.ID, "card")
		before := len(e.answersTo(demo.Bob))
		env, err := e.w.Slack().ClickRaw(demo.Bob, card.Channel, card.TS, blocks.BlockCardActions, blocks.ActionApprove, "CT-77|1")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = env.WaitAck(3 * time.Second)
		e.refusedTo(demo.Bob, before)
		e.noApprovals(req.ID)
		e.noGraphWrites()
	})
	t.Run("second request for a locked tenant", func(t *testing.T) {
		e := startE2E(t, nil)
		req := e.open("Company dissolved")
		before := len(e.answersTo(demo.Alice))
		env, err := e.w.Slack().Slash(demo.Alice, demo.Channel, e.w.Tenant().Domain+" again")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = env.WaitAck(3 * time.Second)
		err = e.w.Slack().WaitFor(10*time.Second, func() bool {
			for _, a := range e.answersTo(demo.Alice)[before:] {
				if strings.Contains(a, req.ID) {
					return true
				}
			}
			return false
		})
		if err != nil {
			t.Errorf("alice was not told %s holds the tenant: %v", req.ID, e.answersTo(demo.Alice)[before:])
		}
		if all, _ := e.p.db.List(context.Background(), false, 0); len(all) != 1 {
			t.Errorf("%d requests exist, want 1", len(all))
		}
		e.noGraphWrites()
	})
	t.Run("expired request", func(t *testing.T) {
		e := startE2E(t, nil)
		req := e.open("Company dissolved")
		e.clock.FastForward(25 * time.Hour)
		if err := e.w.Slack().WaitFor(10*time.Second, func() bool { return e.get(req.ID).State == closure.StateExpired }); err != nil {
			t.Fatalf("request not expired after 25 h: %s", e.get(req.ID).State)
		}
		// The card lost its buttons; bob's client still shows the old one.
		card := e.waitRef(req.ID, "card")
		before := len(e.answersTo(demo.Bob))
		env, err := e.w.Slack().ClickRaw(demo.Bob, card.Channel, card.TS, blocks.BlockCardActions, blocks.ActionApprove,
			blocks.Value{Request: req.ID, Version: req.Version}.String())
		if err != nil {
			t.Fatal(err)
		}
		_, _ = env.WaitAck(3 * time.Second)
		e.refusedTo(demo.Bob, before)
		if got := e.get(req.ID); got.State != closure.StateExpired || len(got.Approvals) > 0 {
			t.Errorf("after approving an expired request: %s with %v", got.State, got.Approvals)
		}
		e.noGraphWrites()
	})
	t.Run("wrong domain or user count in the modal", func(t *testing.T) {
		e := startE2E(t, nil)
		req := e.open("Company dissolved")
		for _, c := range []struct {
			domain string
			users  int
		}{{"fabrikam.onmicrosoft.com", req.Plan.UsersToDelete}, {req.TenantDomain, req.Plan.UsersToDelete + 1}} {
			view := e.openModal(demo.Bob, req)
			values, err := demo.FillApproval(view, c.domain, c.users)
			if err != nil {
				t.Fatal(err)
			}
			env, err := e.w.Slack().Submit(demo.Bob, view.ID, values)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := env.WaitAck(3 * time.Second); err != nil {
				t.Fatal(err)
			}
			if v, _ := e.w.Slack().View(view.ID); len(v.Errors) == 0 || !v.Open {
				t.Errorf("%s / %d: no inline errors shown (%v)", c.domain, c.users, v.Errors)
			}
			e.w.Slack().CloseView(view.ID)
		}
		e.noApprovals(req.ID)
		e.noGraphWrites()
	})
	t.Run("modal submitted after the plan changed", func(t *testing.T) {
		e := startE2E(t, nil)
		req := e.open("Company dissolved")
		early := e.openModal(demo.Dave, req) // dave opens the modal and leaves it open
		if err := e.h.Approve(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		if err := e.w.Slack().WaitFor(10*time.Second, func() bool { return e.get(req.ID).State == closure.StateProving }); err != nil {
			t.Fatalf("not proving: %s", e.get(req.ID).State)
		}
		if err := e.w.Slack().WaitFor(10*time.Second, func() bool { acted, _ := e.h.SignIn(context.Background()); return acted }); err != nil {
			t.Fatal("no sign-in code for carol")
		}
		if err := e.w.Slack().WaitFor(10*time.Second, func() bool { return e.get(req.ID).State == closure.StateWaitingWindow }); err != nil {
			t.Fatalf("no abort window: %s", e.get(req.ID).State)
		}
		// A new Global Administrator appears before the window ends: the
		// drift check right before step 1 must send the request back.
		var member string
		for _, u := range e.w.Tenant().Users() {
			if u.UserType == "Member" && len(u.Roles) == 0 && !u.Synced && !u.Deleted {
				member = u.UPN
				break
			}
		}
		if err := e.w.Tenant().AssignRole(member, graphtest.RoleGlobalAdministrator); err != nil {
			t.Fatal(err)
		}
		e.clock.FastForward(31 * time.Minute)
		if err := e.w.Slack().WaitFor(20*time.Second, func() bool { return e.get(req.ID).State == closure.StatePending }); err != nil {
			t.Fatalf("drift did not send the request back to pending: %s", e.get(req.ID).State)
		}
		repended := e.get(req.ID)
		values, err := demo.FillApproval(early, req.TenantDomain, req.Plan.UsersToDelete)
		if err != nil {
			t.Fatal(err)
		}
		before := len(e.answersTo(demo.Dave))
		env, err := e.w.Slack().Submit(demo.Dave, early.ID, values)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = env.WaitAck(3 * time.Second)
		e.refusedTo(demo.Dave, before)
		if got := e.get(req.ID); got.State != closure.StatePending || len(got.Approvals) > 0 || got.PlanDigest == req.PlanDigest || got.Version != repended.Version {
			t.Errorf("after the stale modal: %s, approvals %v, digest changed %v", got.State, got.Approvals, got.PlanDigest != req.PlanDigest)
		}
		e.noGraphWrites()
	})
	t.Run("another instance connected", func(t *testing.T) {
		e := startE2E(t, func(w *demo.World) { w.Slack().ForceNumConnections(2) })
		before := len(e.answersTo(demo.Alice))
		env, err := e.w.Slack().Slash(demo.Alice, demo.Channel, e.w.Tenant().Domain+" Company dissolved")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.WaitAck(3 * time.Second); err != nil {
			t.Fatal(err)
		}
		e.refusedTo(demo.Alice, before)
		if all, _ := e.p.db.List(context.Background(), false, 0); len(all) != 0 {
			t.Errorf("a request was opened while another instance was connected")
		}
		e.noGraphWrites()
	})
}

// openModal presses Approve as user and returns the modal that opened.
func (e *e2e) openModal(user string, req *closure.Request) slacktest.View {
	e.t.Helper()
	n := len(e.w.Slack().Views())
	env, err := e.w.Slack().Click(user, e.waitRef(req.ID, "card"), blocks.ActionApprove)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := env.WaitAck(3 * time.Second); err != nil {
		e.t.Fatal(err)
	}
	var view slacktest.View
	err = e.w.Slack().WaitFor(5*time.Second, func() bool {
		vs := e.w.Slack().Views()
		if len(vs) > n && vs[len(vs)-1].User == user {
			view = vs[len(vs)-1]
			return true
		}
		return false
	})
	if err != nil {
		e.t.Fatalf("no modal opened for %s", user)
	}
	return view
}

func TestE2EHostileReasonIsInert(t *testing.T) {
	e := startE2E(t, nil)
	reason := "<!channel> <@U0BOB> <https://evil.example|x> *bold* AT&T"
	req := e.open(reason)
	if req.Reason != reason {
		t.Fatalf("reason stored as %q", req.Reason)
	}
	card := e.waitRef(req.ID, "card")
	m, _ := e.w.Slack().Message(card.Channel, card.TS)
	var texts []struct {
		Type     string `json:"type"`
		Text     string `json:"text"`
		Verbatim bool   `json:"verbatim"`
	}
	collectTexts(t, m.Blocks, &texts)
	found := false
	for _, tx := range texts {
		if tx.Type == "mrkdwn" && strings.Contains(tx.Text, "AT&amp;T") {
			found = true
			if !tx.Verbatim || strings.Contains(tx.Text, "<!channel>") || strings.Contains(tx.Text, "<@U0BOB>") || strings.Contains(tx.Text, "<https://evil.example") {
				t.Errorf("reason reached the card unsafely: %+v", tx)
			}
			if !strings.Contains(tx.Text, "&lt;!channel&gt;") {
				t.Errorf("reason not escaped: %q", tx.Text)
			}
		}
	}
	if !found {
		t.Errorf("the card does not show the escaped reason: %s", m.Blocks)
	}
	// The only people a pending card names are the configured approvers
	// and the requester, from their ids, never from the reason.
	for _, mention := range m.Mentions() {
		if mention != "<!subteam^"+demo.Approvers+">" && mention != "<@"+demo.Alice+">" {
			t.Errorf("the card pings %s", mention)
		}
	}
	if len(m.Mentions()) == 0 {
		t.Errorf("the pending card does not mention the approvers")
	}
	// Nothing anyone sees pings anybody the reason named.
	for _, msg := range append(e.w.Slack().Messages(demo.Channel), e.w.Slack().Thread(demo.Channel, card.TS)...) {
		for _, mention := range msg.Mentions() {
			if mention == "<!channel>" || mention == "<@U0BOB>" || strings.Contains(mention, "here") {
				t.Errorf("message %q pings %s", msg.Text, mention)
			}
		}
	}
	view := e.openModal(demo.Bob, req)
	if !strings.Contains(string(view.Raw), `"plain_text"`) || !strings.Contains(plainTexts(t, view.Blocks), reason) {
		t.Errorf("the modal does not show the reason readable in plain_text")
	}
	// The bot keeps answering.
	before := len(e.answersTo(demo.Alice))
	env, err := e.w.Slack().Slash(demo.Alice, demo.Channel, "status "+req.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = env.WaitAck(3 * time.Second)
	if got := e.refusedTo(demo.Alice, before); !strings.Contains(got, req.ID) {
		t.Errorf("status answered %q", got)
	}
	e.noGraphWrites()
}

// collectTexts gathers every text object of a block list.
func collectTexts(t *testing.T, raw json.RawMessage, out *[]struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Verbatim bool   `json:"verbatim"`
}) {
	t.Helper()
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ty, ok := x["type"].(string); ok && (ty == "mrkdwn" || ty == "plain_text") {
				if s, ok := x["text"].(string); ok {
					vb, _ := x["verbatim"].(bool)
					*out = append(*out, struct {
						Type     string `json:"type"`
						Text     string `json:"text"`
						Verbatim bool   `json:"verbatim"`
					}{ty, s, vb})
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	walk(v)
}

func plainTexts(t *testing.T, raw json.RawMessage) string {
	var texts []struct {
		Type     string `json:"type"`
		Text     string `json:"text"`
		Verbatim bool   `json:"verbatim"`
	}
	collectTexts(t, raw, &texts)
	var b strings.Builder
	for _, tx := range texts {
		if tx.Type == "plain_text" {
			b.WriteString(tx.Text + "\n")
		}
	}
	return b.String()
}

// A gate nobody acts on gets its assignee a reminder a day later, from the
// running product's own sweep.
func TestE2EGateReminderReachesKeptAdmin(t *testing.T) {
	e := startE2E(t, nil)
	req := e.open("Company dissolved")
	ctx := context.Background()
	if err := e.h.Approve(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := e.w.Slack().WaitFor(10*time.Second, func() bool { acted, _ := e.h.SignIn(ctx); return acted }); err != nil {
		t.Fatal("no sign-in code for carol")
	}
	if err := e.w.Slack().WaitFor(10*time.Second, func() bool { return e.get(req.ID).State == closure.StateWaitingWindow }); err != nil {
		t.Fatalf("no abort window: %s", e.get(req.ID).State)
	}
	e.clock.FastForward(31 * time.Minute)
	err := e.w.Slack().WaitFor(20*time.Second, func() bool {
		for _, g := range e.get(req.ID).Gates {
			if g.IsOpen() {
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("no gate opened: %s", e.get(req.ID).State)
	}
	reminded := func() bool {
		for _, m := range e.w.Slack().DMs(demo.Carol) {
			if strings.Contains(m.Text, "Reminder:") {
				return true
			}
		}
		return false
	}
	if reminded() {
		t.Fatal("reminded before a day passed")
	}
	e.clock.FastForward(25 * time.Hour)
	if err := e.w.Slack().WaitFor(20*time.Second, reminded); err != nil {
		t.Errorf("carol got no reminder a day after the gate opened")
	}
}

// noBlockKitRefusals fails the test if the Slack emulator refused any
// message or view closebot sent against Block Kit's reference (issue 9).
func noBlockKitRefusals(t *testing.T, w *demo.World) {
	t.Helper()
	for _, r := range w.BlockKitRefusals() {
		t.Errorf("Slack refused %s", r)
	}
}
