package run_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/closuretest"
	"github.com/closebot/closebot/closure/pace"
	"github.com/closebot/closebot/closure/run"
)

const closebotApp = "11111111-1111-1111-1111-111111111111"

func runnerPolicy() *closure.Policy {
	p := testPolicy()
	p.Tenants[0].ClientID = closebotApp
	return p
}

func defaultSeed() closuretest.Seed {
	return closuretest.Seed{
		TenantID: tenantID, Domain: domain, Keep: "admin@" + domain, ClosebotAppID: closebotApp,
		Members: 30, Guests: 5, Synced: 4, Privileged: 2, OtherGlobalAdmins: 1, EligibleGlobalAdmins: 1,
		SyncEnabled: true,
	}
}

// rig is a Service, a seeded fake tenant and a Runner over them.
type rig struct {
	*harness
	dir    *closuretest.Directory
	runner *run.Runner
}

func newRig(t *testing.T, seed closuretest.Seed) *rig {
	t.Helper()
	h := newHarness(t, runnerPolicy())
	dir := closuretest.SeedTenant(h.Clock, seed)
	dir.Proof = closure.SignInProof{ObjectID: closuretest.KeepID, TenantID: tenantID, AMR: []string{"pwd", "mfa"}}
	rg := &rig{harness: h, dir: dir}
	rg.runner = rg.newRunner()
	return rg
}

func (rg *rig) newRunner() *run.Runner {
	return &run.Runner{
		Service: rg.Svc,
		Dirs:    func(string) (closure.Directory, error) { return rg.dir, nil },
		Gates:   closure.GateConfig{RecheckEvery: 10 * time.Minute, GoneConfirmations: 3, GoneSpan: time.Hour},
		// One write at a time: these tests pin the order of each write
		// against pauses, crashes and checks (step1_concurrency_test.go
		// runs the deletions in parallel).
		Pacing: pace.Settings{MaxInFlight: 1},
	}
}

// openApproved runs the plan, opens the request and approves it.
func (rg *rig) openApproved(t *testing.T) *closure.Request {
	t.Helper()
	ctx := context.Background()
	plan, err := rg.runner.Plan(ctx, domain)
	require.NoError(t, err)
	r, _, err := rg.Svc.Open(ctx, person(alice), closure.OpenInput{
		Tenant: domain, Reason: "Company dissolved", Channel: "C0OPS", Facts: plan.Facts(),
	})
	require.NoError(t, err)
	return rg.Approve(t, bob, r)
}

// toSteps takes an approved request through proof and window to step 1.
func (rg *rig) toSteps(t *testing.T, id string) {
	t.Helper()
	w, err := rg.runner.Advance(context.Background(), id)
	require.NoError(t, err)
	require.Equal(t, closure.StateWaitingWindow, rg.get(t, id).State)
	require.Equal(t, "abort window", w.Reason)
	rg.Clock.Set(w.Until)
}

func (rg *rig) get(t *testing.T, id string) *closure.Request {
	t.Helper()
	r, err := rg.Store.Get(context.Background(), id)
	require.NoError(t, err)
	return r
}

// drive advances the request (and the clock, by a re-check interval each
// round) until done says so.
func (rg *rig) drive(t *testing.T, id string, done func(*closure.Request) bool) *closure.Request {
	t.Helper()
	for range 200 {
		_, err := rg.runner.Advance(context.Background(), id)
		require.NoError(t, err)
		r := rg.get(t, id)
		if done(r) {
			return r
		}
		rg.Clock.Advance(10 * time.Minute)
	}
	r := rg.get(t, id)
	t.Fatalf("request never got there: state %s step %d gates %+v fail %q", r.State, r.Step, r.BlockingGates(), r.FailReason)
	return nil
}

func (rg *rig) events(t *testing.T, id string) []closure.Event {
	t.Helper()
	evs, err := rg.Store.Events(context.Background(), id)
	require.NoError(t, err)
	return evs
}

func writesOf(ws []closuretest.Write, op string) []closuretest.Write {
	var out []closuretest.Write
	for _, w := range ws {
		if w.Op == op && !w.Refused {
			out = append(out, w)
		}
	}
	return out
}

func atStep(step int, states ...closure.State) func(*closure.Request) bool {
	return func(r *closure.Request) bool {
		if r.Step != step {
			return false
		}
		for _, s := range states {
			if r.State == s {
				return true
			}
		}
		return false
	}
}
