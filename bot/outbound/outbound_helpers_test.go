package outbound

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/bot/slacktest"
	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/closuretest"
	"github.com/closebot/closebot/store"
)

const (
	chOps     = "C0OPS"
	uAlice    = "U0ALICE"
	uBob      = "U0BOB"
	uCarol    = "U0CAROL"
	tenantID  = "00000000-0000-0000-0000-0000000000c1"
	domain    = "contoso.onmicrosoft.com"
	planHash  = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809"
	cfgDigest = "cfg1"
)

var outT0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// outHarness is the outbound side against the Slack emulator, the real
// slack-go client and a real store on a temp file.
type outHarness struct {
	t      *testing.T
	ctx    context.Context
	emu    *slacktest.Server
	db     *store.DB
	clock  *closuretest.Clock
	policy *closure.Policy
	rep    *Reporter
}

type harnessOpt struct {
	// fast raises the emulator's and the outbox's per-channel bursts so
	// functional tests do not wait on 1 message/s.
	fast bool
}

func newOutHarness(t *testing.T, o harnessOpt) *outHarness {
	t.Helper()
	rl := slacktest.RateLimitOptions{}
	budgets := DefaultBudgets()
	if o.fast {
		rl = slacktest.RateLimitOptions{ChannelBurst: 100, Burst: 100}
		budgets.PerChannel.Burst, budgets.Post.Burst, budgets.Update.Burst = 100, 100, 100
	}
	emu := slacktest.New(slacktest.Options{RateLimit: rl})
	require.NoError(t, emu.Start())
	t.Cleanup(emu.Close)
	emu.AddChannel(slacktest.Channel{ID: chOps, Name: "ops"})
	for _, u := range []string{uAlice, uBob, uCarol} {
		emu.AddUser(slacktest.User{ID: u, Name: strings.ToLower(u[3:])})
	}
	db, err := store.Open(filepath.Join(t.TempDir(), "closebot.db"), []byte(strings.Repeat("k", 32)), store.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	clock := closuretest.NewClock(outT0)
	policy := &closure.Policy{
		TeamID: "T0EMUL", Requesters: []string{uAlice}, Approvers: []string{uBob, "S0SECLEAD"}, Required: 1,
		ExpiresAfter: 24 * time.Hour, StuckAfter: 14 * 24 * time.Hour,
		Tenants: []closure.TenantPolicy{{ID: tenantID, Domain: domain, Keep: "admin@" + domain, KeepSlackUser: uCarol}},
	}
	api := slack.New(emu.Options().BotToken, slack.OptionAPIURL(emu.APIURL()))
	rep := NewReporter(ReporterConfig{
		API: api, Refs: db, Store: db, Policy: policy, Clock: clock,
		Log:   slog.New(slog.DiscardHandler),
		Gates: closure.GateConfig{RecheckEvery: 10 * time.Minute, GoneConfirmations: 3, GoneSpan: time.Hour}, Budgets: &budgets,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = rep.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return &outHarness{t: t, ctx: ctx, emu: emu, db: db, clock: clock, policy: policy, rep: rep}
}

// flush waits until the reporter delivered everything queued.
func (h *outHarness) flush() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, 20*time.Second)
	defer cancel()
	require.NoError(h.t, h.rep.Flush(ctx))
}

func planSummary(name string) *closure.PlanSummary {
	return &closure.PlanSummary{
		TenantName: name, TenantType: "AAD",
		UsersByKind:   map[closure.UserKind]int{closure.KindMember: 40, closure.KindPrivileged: 2},
		UsersToDelete: 42, TopUsers: []string{"u1@contoso.com", "u2@contoso.com", "u3@contoso.com"},
		SubscriptionsTotal: 1, Subscriptions: []closure.PlanSubscription{{ID: "s1", SkuPartNumber: "SPE_E3", Status: "Enabled", Channel: "direct"}},
		Apps: 3, AppsToDelete: 2, ServicePrincipals: 2,
	}
}

// open creates a pending request and reports it, as Service.Open does.
func (h *outHarness) open(reason, tenantName string) *closure.Request {
	h.t.Helper()
	req, ev, err := h.db.Create(h.ctx, &closure.Request{
		TenantID: tenantID, TenantDomain: domain, Requester: uAlice, Reason: reason, Channel: chOps,
		State: closure.StatePending, CreatedAt: outT0, ExpiresAt: outT0.Add(24 * time.Hour),
		PlanDigest: planHash, ConfigDigest: cfgDigest, Plan: planSummary(tenantName), Steps: closure.NewSteps(),
	}, closure.Event{At: outT0, Actor: uAlice, Action: closure.EvOpen})
	require.NoError(h.t, err)
	require.NoError(h.t, h.rep.RequestChanged(h.ctx, req, ev))
	return req
}

// change commits a change to the store, then reports it (after commit, as the domain does).
func (h *outHarness) change(req *closure.Request, actor string, action closure.EventAction, f func(*closure.Request)) *closure.Request {
	h.t.Helper()
	next := req.Clone()
	f(next)
	got, ev, err := h.db.Update(h.ctx, req.Expect(), next, closure.Event{
		At: h.clock.Now(), Actor: actor, Action: action, From: req.State, To: next.State})
	require.NoError(h.t, err)
	require.NoError(h.t, h.rep.RequestChanged(h.ctx, got, ev))
	return got
}

func (h *outHarness) ref(req *closure.Request, name string) store.Ref {
	h.t.Helper()
	ref, ok, err := h.db.Ref(h.ctx, req.ID, name)
	require.NoError(h.t, err)
	require.True(h.t, ok, "ref %s", name)
	return ref
}

// texts are every text object of a stored message's blocks, with their type and verbatim flag.
type textObj struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Verbatim bool   `json:"verbatim"`
}

func textsOf(t *testing.T, raw json.RawMessage) []textObj {
	t.Helper()
	var out []textObj
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if typ, ok := x["type"].(string); ok && (typ == "mrkdwn" || typ == "plain_text") {
				if s, ok := x["text"].(string); ok {
					verb, _ := x["verbatim"].(bool)
					out = append(out, textObj{Type: typ, Text: s, Verbatim: verb})
				}
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	var v any
	require.NoError(t, json.Unmarshal(raw, &v))
	walk(v)
	return out
}

func joined(t *testing.T, raw json.RawMessage) string {
	var b strings.Builder
	for _, o := range textsOf(t, raw) {
		b.WriteString(o.Text + "\n")
	}
	return b.String()
}
