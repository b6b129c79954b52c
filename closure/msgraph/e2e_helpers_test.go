package msgraph

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/closuretest"
	"github.com/closebot/closebot/closure/graphtest"
	"github.com/closebot/closebot/closure/run"
	"github.com/closebot/closebot/store"
)

// The end-to-end rig: the real domain (Service, Runner) over the real
// bbolt store, driving the real adapter (azidentity + msgraph-sdk-go)
// against the emulator, all on one manual clock so days pass instantly.

const (
	e2eTeam      = "T0ACME"
	e2eAlice     = "U0ALICE" // requester
	e2eBob       = "U0BOB"   // approver
	e2eDave      = "U0DAVE"  // approver
	e2eCarol     = "U0CAROL" // keep_slack_user: the kept admin's Slack user
	e2eRecheck   = 10 * time.Minute
	e2eGoneSpan  = time.Hour
	e2eGoneCount = 3
	// e2eReplicationLag is how long listings show a deleted object.
	e2eReplicationLag = 2 * time.Minute
)

var e2eAuditKey = []byte("e2e-audit-key-0123456789abcdefghijklmnopqrstuvwxyz")

func e2eActor(id string) closure.Actor { return closure.Actor{UserID: id, TeamID: e2eTeam} }

// e2e is one emulated tenant and the bot's whole closure stack over it.
type e2e struct {
	t      *testing.T
	clock  *graphtest.ManualClock
	s      *graphtest.Server
	tn     *graphtest.Tenant
	d      *Directory
	hook   *hookTransport
	db     *store.DB
	rep    *closuretest.Reporter
	pol    *closure.Policy
	svc    *closure.Service
	runner *run.Runner
}

// hookTransport lets a test act (as a person clicking in Slack) at the
// moment a given Graph request leaves, before it reaches the emulator.
type hookTransport struct {
	next http.RoundTripper
	mu   sync.Mutex
	fn   func(*http.Request)
}

func (h *hookTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	fn := h.fn
	h.mu.Unlock()
	if fn != nil {
		fn(r)
	}
	return h.next.RoundTrip(r)
}

func (h *hookTransport) set(fn func(*http.Request)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fn = fn
}

// newE2E seeds spec on a fresh emulator and builds the stack; keep, if
// not nil, picks the configured kept admin's UPN (nil: the seeded one).
func newE2E(t *testing.T, spec graphtest.TenantSpec, keep func(*graphtest.Tenant) string) *e2e {
	t.Helper()
	e := &e2e{t: t, clock: graphtest.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))}
	// Replication lag on: listings keep showing what was just deleted.
	e.s = graphtest.New(graphtest.Options{Clock: e.clock, DisableThrottling: true, ReplicationLag: e2eReplicationLag})
	e.s.Start()
	t.Cleanup(e.s.Close)
	e.s.RegisterPublicClient(signinClient)
	e.tn = e.s.AddTenant(spec)
	e.s.RegisterClientSecret(e.tn.ID, e.tn.ClosebotAppID, testSecret)
	keepUPN := e.tn.KeptAdmin().UPN
	if keep != nil {
		keepUPN = keep(e.tn)
	}
	logs := &syncBuffer{}
	e.hook = &hookTransport{next: e.s.Client().Transport}
	cfg := Config{
		TenantID: e.tn.ID, ClientID: e.tn.ClosebotAppID, ClientSecret: testSecret,
		SigninClientID: signinClient, Keep: keepUPN,
		GraphBaseURL: e.s.GraphURL(), AuthorityHost: e.s.AuthorityHost(), Transport: e.hook,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	d, err := New(context.Background(), cfg)
	require.NoError(t, err)
	// The emulator is not throttled; should it answer 429/503 anyway, the
	// retry must not sleep on the wall clock.
	d.retry.sleep = (&sleepRecorder{}).sleep
	e.d = d
	t.Cleanup(func() {
		if strings.Contains(logs.String(), testSecret) {
			t.Errorf("the client secret was logged")
		}
	})

	e.db, err = store.Open(filepath.Join(t.TempDir(), "c.db"), e2eAuditKey, store.Options{Now: e.clock.Now})
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.db.Close() })
	e.pol = &closure.Policy{
		TeamID: e2eTeam, Requesters: []string{e2eAlice}, Approvers: []string{e2eBob, e2eDave},
		Required: 1, ExpiresAfter: 24 * time.Hour, AbortWindow: 30 * time.Minute, DriftPercent: 10,
		StuckAfter: 14 * 24 * time.Hour,
		Tenants: []closure.TenantPolicy{{
			ID: e.tn.ID, Domain: e.tn.Domain, Keep: keepUPN, KeepSlackUser: e2eCarol, ClientID: e.tn.ClosebotAppID,
		}},
	}
	require.NoError(t, e.pol.Validate())
	e.rep = &closuretest.Reporter{}
	e.svc = &closure.Service{Store: e.db, Clock: e.clock, Policy: e.pol, Reporter: e.rep,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	e.runner = &run.Runner{
		Service: e.svc,
		Dirs: func(id string) (closure.Directory, error) {
			require.Equal(t, e.tn.ID, id)
			return e.d, nil
		},
		Gates: closure.GateConfig{RecheckEvery: e2eRecheck, GoneConfirmations: e2eGoneCount, GoneSpan: e2eGoneSpan},
		Log:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	return e
}

func (e *e2e) ctx() context.Context { return ctxT(e.t) }

// open runs the plan through the adapter and opens a request with its facts.
func (e *e2e) open() (*closure.Plan, *closure.Request) {
	e.t.Helper()
	plan, err := e.runner.Plan(e.ctx(), e.tn.Domain)
	require.NoError(e.t, err)
	r, _, err := e.svc.Open(e.ctx(), e2eActor(e2eAlice), closure.OpenInput{
		Tenant: e.tn.Domain, Reason: "Company dissolved, ticket OPS-1234", Channel: "C0OPS", Facts: plan.Facts(),
	})
	require.NoError(e.t, err)
	require.Equal(e.t, closure.StatePending, r.State)
	return plan, r
}

// approve is the second person's approval of the card they saw.
func (e *e2e) approve(r *closure.Request, who string) *closure.Request {
	e.t.Helper()
	got, _, err := e.svc.Approve(e.ctx(), e2eActor(who), r.ID, closure.ApproveInput{Version: r.Version, PlanDigest: r.PlanDigest})
	require.NoError(e.t, err)
	return got
}

// signedIn is what the person who signed in saw and did.
type signedIn struct {
	code string // the user code they entered
	err  error
}

// signIn plays a person who waits for the device code closebot asked for
// and completes the sign-in as user, with or without MFA.
func (e *e2e) signIn(user string, mfa bool) <-chan signedIn {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	done := make(chan signedIn, 1)
	go func() {
		defer cancel()
		dc, err := e.s.WaitDeviceCode(ctx)
		if err == nil {
			err = e.s.CompleteDeviceSignIn(dc.UserCode, user, mfa)
		}
		done <- signedIn{code: dc.UserCode, err: err}
	}()
	return done
}

// prove advances an approved request through the sign-in proof, the test
// playing the person who signs in; it returns why Advance stopped and the
// user code the person entered.
func (e *e2e) prove(id, user string, mfa bool) (run.Wait, string) {
	e.t.Helper()
	human := e.signIn(user, mfa)
	w, err := e.runner.Advance(e.ctx(), id)
	require.NoError(e.t, err)
	got := <-human
	require.NoError(e.t, got.err, "the person's sign-in")
	return w, got.code
}

// signInMessages are the device-code messages delivered to Slack users.
func (e *e2e) signInMessages() []closuretest.Report {
	var out []closuretest.Report
	for _, rep := range e.rep.Reports() {
		if rep.Kind == "signin" {
			out = append(out, rep)
		}
	}
	return out
}

// toSteps takes an approved request through the kept admin's MFA proof
// and the abort window.
func (e *e2e) toSteps(id string) {
	e.t.Helper()
	w, code := e.prove(id, e.tn.KeptAdmin().UPN, true)
	msgs := e.signInMessages()
	require.NotEmpty(e.t, msgs)
	last := msgs[len(msgs)-1]
	require.Equal(e.t, e2eCarol, last.UserID, "the code goes to keep_slack_user")
	require.Contains(e.t, last.Message, code)
	require.Equal(e.t, closure.StateWaitingWindow, e.get(id).State, "proof: %s", e.get(id).ProofError)
	require.Equal(e.t, "abort window", w.Reason)
	e.clock.Advance(w.Until.Sub(e.clock.Now()))
}

func (e *e2e) get(id string) *closure.Request {
	e.t.Helper()
	r, err := e.db.Get(context.Background(), id)
	require.NoError(e.t, err)
	return r
}

// drive advances the request, and the clock by a re-check interval each
// round, until done says so.
func (e *e2e) drive(id string, done func(*closure.Request) bool) *closure.Request {
	e.t.Helper()
	for range 300 {
		_, err := e.runner.Advance(e.ctx(), id)
		require.NoError(e.t, err)
		r := e.get(id)
		if done(r) {
			return r
		}
		require.NotEqual(e.t, closure.StateFailed, r.State, "failed: %s", r.FailReason)
		require.NotEqual(e.t, closure.StatePending, r.State, "re-pended: %v", r.DriftLines)
		e.clock.Advance(e2eRecheck)
	}
	r := e.get(id)
	e.t.Fatalf("request never got there: state %s step %d gates %+v fail %q", r.State, r.Step, r.BlockingGates(), r.FailReason)
	return nil
}

func (e *e2e) events(id string) []closure.Event {
	e.t.Helper()
	evs, err := e.db.Events(context.Background(), id)
	require.NoError(e.t, err)
	return evs
}

func e2eAt(step int, states ...closure.State) func(*closure.Request) bool {
	return func(r *closure.Request) bool { return r.Step == step && slices.Contains(states, r.State) }
}

// graphWrites are the Graph requests (any answer) other than reads.
func graphWrites(s *graphtest.Server) []graphtest.Request {
	var out []graphtest.Request
	for _, r := range s.Requests() {
		if r.Kind == "graph" && r.Method != http.MethodGet {
			out = append(out, r)
		}
	}
	return out
}

// writeIDs are the object ids of the accepted writes of method on the
// collection (e.g. "/users/"), in order.
func writeIDs(ws []graphtest.WriteRecord, method, collection string) []string {
	var out []string
	for _, w := range ws {
		if w.Method != method {
			continue
		}
		if rest, ok := strings.CutPrefix(w.Path, collection); ok && !strings.Contains(rest, "/") {
			out = append(out, strings.ToLower(rest))
		}
	}
	return out
}

func lowerAll(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strings.ToLower(id)
	}
	return out
}

func sortedLower(ids []string) []string {
	out := lowerAll(ids)
	slices.Sort(out)
	return out
}
