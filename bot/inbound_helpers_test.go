package bot

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/bot/blocks"
	"github.com/closebot/closebot/bot/outbound"
	"github.com/closebot/closebot/bot/slacktest"
	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/closuretest"
	"github.com/closebot/closebot/closure/run"
	"github.com/closebot/closebot/commands"
	"github.com/closebot/closebot/store"
)

// The cast of the inbound tests.
const (
	inTeam    = "T0ACME"
	inApp     = "A0CLOSEBOT"
	inOps     = "C0OPS"     // configured
	inOps2    = "C0OPS2"    // configured, the second tenant's requests
	inShared  = "C0SHARED"  // configured, but shared with another organisation
	inRandom  = "C0RANDOM"  // not configured
	alice     = "U0ALICE"   // requester (and approver: self-approval is the rule that refuses)
	bob       = "U0BOB"     // approver through the S0SECLEAD group
	carol     = "U0CAROL"   // the kept admin's Slack user
	mallory   = "U0MALLORY" // no role
	guest     = "U0GUEST"   // named an approver, but a guest
	bobOther  = "W0BOBX"    // bob's second account, in another team
	secLead   = "S0SECLEAD"
	tenantA   = "aaaaaaaa-0000-4000-8000-00000000000a"
	domainA   = "contoso.onmicrosoft.com"
	tenantB   = "bbbbbbbb-0000-4000-8000-00000000000b"
	domainB   = "fabrikam.onmicrosoft.com"
	closebotA = "11111111-1111-1111-1111-111111111111"
)

// world is one bot connected to the Slack emulator, over a real store and
// fake tenants.
type world struct {
	t      *testing.T
	srv    *slacktest.Server
	db     *store.DB
	clock  *closuretest.Clock
	policy *closure.Policy
	svc    *closure.Service
	runner *run.Runner
	dirs   map[string]*closuretest.Directory
	bot    *Bot
	cancel context.CancelFunc
	done   chan error

	annMu     sync.Mutex
	announced []string
}

type worldOpts struct {
	numConnections int          // ForceNumConnections before the bot connects
	beforeRun      func(*world) // runs after the store is set up, before the bot starts
}

func newWorld(t *testing.T, o worldOpts) *world {
	t.Helper()
	w := &world{t: t, dirs: map[string]*closuretest.Directory{}, done: make(chan error, 1)}
	w.clock = closuretest.NewClock(time.Now().UTC().Truncate(time.Second))

	w.srv = slacktest.New(slacktest.Options{TeamID: inTeam, AppID: inApp, PingInterval: 200 * time.Millisecond,
		AppToken: "xapp-1-A0CLOSEBOT-1-test", BotToken: "xoxb-1-closebot-test"})
	require.NoError(t, w.srv.Start())
	t.Cleanup(w.srv.Close)
	t.Cleanup(func() {
		// Every message and view the bot sent obeys Block Kit's reference (issue 9).
		for _, r := range w.srv.Refusals() {
			switch r.Error {
			case "invalid_blocks", "invalid_arguments", "view_too_large", "msg_too_long":
				t.Errorf("Slack refused %s: %s %s", r.Method, r.Error, r.Detail)
			}
		}
	})
	for _, u := range []slacktest.User{
		{ID: alice, Name: "alice"}, {ID: bob, Name: "bob"}, {ID: carol, Name: "carol"}, {ID: mallory, Name: "mallory"},
		{ID: guest, Name: "guest", IsRestricted: true}, {ID: bobOther, Name: "bob", TeamID: "T0OTHER"},
	} {
		w.srv.AddUser(u)
	}
	w.srv.AddUserGroup(secLead, bob)
	w.srv.AddChannel(slacktest.Channel{ID: inOps, Name: "ops"})
	w.srv.AddChannel(slacktest.Channel{ID: inOps2, Name: "ops2"})
	w.srv.AddChannel(slacktest.Channel{ID: inShared, Name: "shared", IsExtShared: true})
	w.srv.AddChannel(slacktest.Channel{ID: inRandom, Name: "random"})
	if o.numConnections > 0 {
		w.srv.ForceNumConnections(o.numConnections)
	}

	key := []byte(strings.Repeat("k", 32))
	db, err := store.Open(filepath.Join(t.TempDir(), "closebot.db"), key, store.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	w.db = db

	w.policy = &closure.Policy{
		TeamID: inTeam, Requesters: []string{alice}, Approvers: []string{alice, secLead, guest, bobOther},
		Required: 1, ExpiresAfter: 24 * time.Hour, AbortWindow: 30 * time.Minute, DriftPercent: 10, StuckAfter: 336 * time.Hour,
		Tenants: []closure.TenantPolicy{
			{ID: tenantA, Domain: domainA, Keep: "admin@" + domainA, KeepSlackUser: carol, ClientID: closebotA},
			{ID: tenantB, Domain: domainB, Keep: "admin@" + domainB, KeepSlackUser: carol, ClientID: closebotA},
		},
	}
	require.NoError(t, w.policy.Validate())
	for id, dom := range map[string]string{tenantA: domainA, tenantB: domainB} {
		dir := closuretest.SeedTenant(w.clock, closuretest.Seed{
			TenantID: id, Domain: dom, Keep: "admin@" + dom, ClosebotAppID: closebotA,
			Members: 12, Guests: 3, Synced: 2, Privileged: 1, OtherGlobalAdmins: 1, SyncEnabled: true,
		})
		dir.Proof = closure.SignInProof{ObjectID: closuretest.KeepID, TenantID: id, AMR: []string{"pwd", "mfa"}}
		w.dirs[id] = dir
	}

	logger := slog.New(slog.DiscardHandler)
	api := slack.New(w.srv.Options().BotToken, slack.OptionAPIURL(w.srv.APIURL()))
	gates := closure.GateConfig{RecheckEvery: 10 * time.Minute, GoneConfirmations: 3, GoneSpan: time.Hour}
	rep := outbound.NewReporter(outbound.ReporterConfig{API: api, Refs: db, Store: db, Policy: w.policy, Clock: w.clock, Log: logger, Gates: gates})
	w.svc = &closure.Service{Store: db, Clock: w.clock, Policy: w.policy, Reporter: rep, Log: logger}
	w.runner = &run.Runner{
		Service: w.svc, Gates: gates, Log: logger,
		Dirs: func(id string) (closure.Directory, error) { return w.dirs[id], nil },
	}
	w.svc.Planner, w.svc.Waker = w.runner, w.runner
	b, err := New(Config{
		TeamID: inTeam, Channels: []string{inOps, inOps2, inShared},
		AppToken: w.srv.Options().AppToken, BotToken: w.srv.Options().BotToken, APIURL: w.srv.APIURL(),
		// No reconnects to recount unless a test fires them (bot.after):
		// a socket closed mid-test would lose the envelope sent to it.
		Recheck:       time.Hour,
		SocketOptions: []socketmode.Option{socketmode.OptionLog(log.New(io.Discard, "", 0))},
	}, Deps{
		Service: w.svc, Runner: w.runner, Reporter: rep, Store: db, Policy: w.policy, Log: logger, Clock: w.clock,
		Tenants: []commands.Tenant{{ID: tenantA, Domain: domainA}, {ID: tenantB, Domain: domainB}},
	})
	require.NoError(t, err)
	announce := b.announce
	b.announce = func(ctx context.Context, text string) {
		w.annMu.Lock()
		w.announced = append(w.announced, text)
		w.annMu.Unlock()
		announce(ctx, text)
	}
	w.bot = b
	if o.beforeRun != nil {
		o.beforeRun(w)
	}

	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	go func() { w.done <- b.Run(ctx) }()
	t.Cleanup(w.stop)
	require.NoError(t, w.srv.WaitConnections(1, 10*time.Second))
	require.NoError(t, w.srv.WaitFor(5*time.Second, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.appID != ""
	}))
	return w
}

func (w *world) stop() {
	if w.cancel == nil {
		return
	}
	w.cancel()
	w.cancel = nil
	select {
	case err := <-w.done:
		require.NoError(w.t, err)
	case <-time.After(10 * time.Second):
		w.t.Error("bot did not stop")
	}
}

// slash sends /close-tenant and requires the ack inside Slack's 3 s.
func (w *world) slash(user, channel, text string) *slacktest.Envelope {
	w.t.Helper()
	e, err := w.srv.Slash(user, channel, text)
	require.NoError(w.t, err)
	_, err = e.WaitAck(3 * time.Second)
	require.NoError(w.t, err, "slash command acked within 3 s")
	return e
}

// open has alice open a request for a tenant and returns it.
func (w *world) open(channel, domain, reason string) *closure.Request {
	w.t.Helper()
	before := w.count()
	w.slash(alice, channel, domain+" "+reason)
	var got *closure.Request
	require.NoError(w.t, w.srv.WaitFor(10*time.Second, func() bool {
		rs, err := w.db.List(context.Background(), false, 0)
		if err != nil || len(rs) <= before {
			return false
		}
		got = rs[0]
		return true
	}), "request opened")
	return got
}

func (w *world) count() int {
	rs, err := w.db.List(context.Background(), false, 0)
	require.NoError(w.t, err)
	return len(rs)
}

func (w *world) get(id string) *closure.Request {
	w.t.Helper()
	r, err := w.db.Get(context.Background(), id)
	require.NoError(w.t, err)
	return r
}

// click presses a button carrying value v as user, whether or not a
// message with it exists (stale and forged clicks).
func (w *world) click(user, channel string, v blocks.Value, actionID string) *slacktest.Envelope {
	w.t.Helper()
	e, err := w.srv.ClickRaw(user, channel, "1700000000.000100", blocks.BlockCardActions, actionID, v.String())
	require.NoError(w.t, err)
	_, err = e.WaitAck(3 * time.Second)
	require.NoError(w.t, err, "click acked within 3 s")
	return e
}

// clickOn presses a button carrying value v on a message Slack holds
// (a stale client view of it, or a value drawn for another request).
func (w *world) clickOn(user string, m slacktest.Message, v blocks.Value, actionID string) *slacktest.Envelope {
	w.t.Helper()
	e, err := w.srv.ClickRaw(user, m.Channel, m.TS, blocks.BlockCardActions, actionID, v.String())
	require.NoError(w.t, err)
	_, err = e.WaitAck(3 * time.Second)
	require.NoError(w.t, err, "click acked within 3 s")
	return e
}

// card waits for the request card the Reporter posted and returns it as
// Slack stores it now.
func (w *world) card(id string) slacktest.Message {
	w.t.Helper()
	return w.cardWith(id, blocks.BlockCardActions)
}

// cardWith waits for the card to show want (a button's action id, say).
func (w *world) cardWith(id, want string) slacktest.Message {
	w.t.Helper()
	var m slacktest.Message
	require.NoError(w.t, w.srv.WaitFor(10*time.Second, func() bool {
		ref, ok, err := w.db.Ref(context.Background(), id, outbound.RefCard)
		if err != nil || !ok {
			return false
		}
		m, ok = w.srv.Message(ref.Channel, ref.TS)
		return ok && strings.Contains(string(m.Blocks), want)
	}), "card of %s posted, showing %s", id, want)
	return m
}

// clickCard presses a button on the request's card as Slack shows it.
func (w *world) clickCard(user, id, actionID string) *slacktest.Envelope {
	w.t.Helper()
	e, err := w.srv.Click(user, w.cardWith(id, `"action_id":"`+actionID+`"`).Ref(), actionID)
	require.NoError(w.t, err)
	_, err = e.WaitAck(3 * time.Second)
	require.NoError(w.t, err, "click acked within 3 s")
	return e
}

// refusalTo waits for a refusal shown to user (ephemeral or DM) containing want.
func (w *world) refusalTo(user, want string) {
	w.t.Helper()
	err := w.srv.WaitFor(5*time.Second, func() bool { return w.hasText(user, want) })
	require.NoError(w.t, err, "refusal to %s containing %q; got %v", user, want, w.textsTo(user))
}

func (w *world) hasText(user, want string) bool {
	for _, s := range w.textsTo(user) {
		if strings.Contains(s, want) {
			return true
		}
	}
	return false
}

// textsTo returns the fallback texts of every ephemeral and DM to user.
func (w *world) textsTo(user string) []string {
	var out []string
	for _, e := range w.srv.Ephemerals(user) {
		out = append(out, e.Text)
	}
	for _, m := range w.srv.DMs(user) {
		out = append(out, m.Text)
	}
	return out
}

// approvalView waits for an open approval modal of user.
func (w *world) approvalView(user string) slacktest.View {
	w.t.Helper()
	var v slacktest.View
	require.NoError(w.t, w.srv.WaitFor(5*time.Second, func() bool {
		for _, x := range w.srv.Views() {
			if x.User == user && x.Open && x.CallbackID == blocks.CallbackApproval {
				v = x
				return true
			}
		}
		return false
	}), "approval modal opened for %s", user)
	return v
}

func (w *world) viewsOf(user string) int {
	n := 0
	for _, x := range w.srv.Views() {
		if x.User == user {
			n++
		}
	}
	return n
}

// approvalValues are a modal's answers.
func approvalValues(domain, users string, items []blocks.Irreversible) map[string]map[string]any {
	ids := make([]string, 0, len(items))
	for _, it := range items {
		ids = append(ids, it.ID)
	}
	return map[string]map[string]any{
		blocks.BlockModalDomain:      {blocks.ActionModalDomain: domain},
		blocks.BlockModalUsers:       {blocks.ActionModalUsers: users},
		blocks.BlockModalItems + "0": {blocks.ActionModalItems: ids},
	}
}

// noWrites requires that no fake tenant saw a write.
func (w *world) noWrites() {
	w.t.Helper()
	for id, d := range w.dirs {
		require.Empty(w.t, d.Writes(), "writes to tenant %s", id)
	}
}

// settle gives the bot's workers a moment to finish what they were given
// (used only before asserting that something did NOT happen).
func (w *world) settle() {
	w.t.Helper()
	// A status command is answered after every earlier envelope of the
	// same worker pool has been taken; waiting for its answer bounds the
	// wait without a fixed sleep.
	n := len(w.srv.Ephemerals(alice))
	w.slash(alice, inOps, "status")
	require.NoError(w.t, w.srv.WaitFor(5*time.Second, func() bool { return len(w.srv.Ephemerals(alice)) > n }))
}

// repend simulates a drift check that sent the request back to pending
// with a new plan digest (as closure.System.Repend does from running).
func (w *world) repend(id string) *closure.Request {
	w.t.Helper()
	got, _, err := w.svc.Apply(context.Background(), id, func(r *closure.Request, now time.Time) (*closure.Request, closure.Event, error) {
		n := r.Clone()
		n.Facts.SyncEnabled = !n.Facts.SyncEnabled
		n.PlanDigest = n.Facts.Digest()
		n.Approvals = nil
		n.PendingSince = r.Version
		n.DriftLines = []string{"sync changed"}
		return n, closure.Event{Actor: closure.SystemActor, Action: "drift", From: r.State, To: r.State, Version: r.Version + 1, At: now}, nil
	})
	require.NoError(w.t, err)
	return got
}

func ackPayload(t *testing.T, e *slacktest.Envelope) map[string]any {
	t.Helper()
	raw, err := e.WaitAck(3 * time.Second)
	require.NoError(t, err)
	if len(raw) == 0 {
		return nil
	}
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

// jsonText re-encodes raw JSON without HTML escaping, so assertions read
// the characters Slack receives (&, <, > as themselves).
func jsonText(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return b.String()
}

// forgedSubmission is an approval modal submission with private_metadata
// chosen by the sender, otherwise well formed.
func forgedSubmission(viewID, metadata string) slacktest.Outbound {
	return slacktest.Outbound{Type: "interactive", AcceptsResponsePayload: true, Payload: map[string]any{
		"type": "view_submission", "api_app_id": inApp, "team": map[string]any{"id": inTeam},
		"user": map[string]any{"id": bob, "team_id": inTeam}, "trigger_id": "1.2.forged",
		"view": map[string]any{"id": viewID, "type": "modal", "callback_id": blocks.CallbackApproval,
			"private_metadata": metadata, "state": map[string]any{"values": map[string]any{
				blocks.BlockModalDomain: map[string]any{blocks.ActionModalDomain: map[string]any{"type": "plain_text_input", "value": domainA}},
			}}},
	}}
}

// force moves a request through states as the runner would (each a legal
// transition), applying f to each next version; for tests that need a
// request in a state the runner reaches only after hours.
func (w *world) force(id string, states []closure.State, f func(*closure.Request)) *closure.Request {
	w.t.Helper()
	var got *closure.Request
	for _, st := range states {
		var err error
		got, _, err = w.svc.Apply(context.Background(), id, func(r *closure.Request, now time.Time) (*closure.Request, closure.Event, error) {
			n := r.Clone()
			n.State = st
			f(n)
			return n, closure.Event{Actor: closure.SystemActor, Action: closure.EventAction("test." + string(st)), From: r.State, To: st, Version: r.Version + 1, At: now}, nil
		})
		require.NoError(w.t, err)
	}
	return got
}
