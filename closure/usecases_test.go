package closure_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

// fakePlanner is the executor's read side: it counts the reads, so a
// refusal can be shown to read nothing.
type fakePlanner struct {
	plans    int
	prepares int
	err      error
}

func (p *fakePlanner) Plan(_ context.Context, tenant string) (*closure.Plan, error) {
	p.plans++
	if p.err != nil {
		return nil, p.err
	}
	f := testFacts()
	return &closure.Plan{
		TenantID: tenantID, TenantName: "Contoso", InitialDomain: domain,
		Keep:             closure.PlanUser{ID: f.KeepObjectID, UPN: "admin@" + domain, Kind: closure.KindPrivileged},
		KeepAssignmentID: f.KeepAssignmentID, Privileged: f.Privileged, SyncEnabled: true,
		Users: []closure.PlanUser{{ID: "u-1", UPN: "u1@" + domain, Kind: closure.KindMember, Enabled: true}},
	}, nil
}

func (p *fakePlanner) PrepareApproval(_ context.Context, id string) (*closure.Request, error) {
	p.prepares++
	return nil, p.err
}

func TestOpenTenantUseCase(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, testPolicy())
	pl := &fakePlanner{}
	h.Svc.Planner = pl
	in := closure.OpenCommand{Tenant: domain, Reason: "Company dissolved, ticket OPS-1234", Channel: "C0OPS"}

	t.Run("not a requester: refused before any read", func(t *testing.T) {
		read := false
		_, _, err := h.Svc.OpenTenant(ctx, person(erin), in, func() { read = true })
		requireRule(t, closure.RuleNotRequester, err)
		assert.False(t, read)
		assert.Zero(t, pl.plans)
		_, err = h.Svc.PlanFor(ctx, person(erin), tenantID)
		requireRule(t, closure.RuleNotRequester, err)
		assert.Zero(t, pl.plans)
	})
	t.Run("a failed read opens nothing", func(t *testing.T) {
		pl.err = errors.New("graph down")
		_, _, err := h.Svc.OpenTenant(ctx, person(alice), in, nil)
		require.ErrorIs(t, err, pl.err)
		assert.Equal(t, 1, pl.plans)
		open, err := h.Store.List(ctx, true, 0)
		require.NoError(t, err)
		assert.Empty(t, open)
		pl.err = nil
	})
	var first *closure.Request
	t.Run("opens with the plan's facts", func(t *testing.T) {
		read := false
		req, plan, err := h.Svc.OpenTenant(ctx, person(alice), in, func() { read = true })
		require.NoError(t, err)
		assert.True(t, read)
		require.NotNil(t, plan)
		assert.Equal(t, closure.StatePending, req.State)
		assert.Equal(t, tenantID, req.TenantID)
		assert.Equal(t, plan.Facts().Digest(), req.PlanDigest)
		require.NotNil(t, req.Plan)
		assert.Equal(t, "C0OPS", req.Channel)
		first = req
	})
	t.Run("a locked tenant is refused before any read, naming the holder", func(t *testing.T) {
		before := pl.plans
		read := false
		_, _, err := h.Svc.OpenTenant(ctx, person(alice), in, func() { read = true })
		require.ErrorIs(t, err, closure.ErrTenantLocked)
		assert.Contains(t, closure.Explain(err), first.ID)
		assert.False(t, read)
		assert.Equal(t, before, pl.plans)
		held, err := h.Svc.LockHolder(ctx, tenantID)
		require.NoError(t, err)
		assert.Equal(t, first.ID, held)
	})
	t.Run("no reason", func(t *testing.T) {
		_, _, err := h.Svc.Cancel(ctx, person(alice), first.ID)
		require.NoError(t, err)
		_, _, err = h.Svc.OpenTenant(ctx, person(alice), closure.OpenCommand{Tenant: domain, Reason: "  "}, nil)
		requireRule(t, closure.RuleReasonRequired, err)
	})
}

// A reject submitted from a modal drawn before the current round or plan
// is refused like an approval is; one drawn now rejects.
func TestRejectStaleness(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, testPolicy())
	r := repended(t, h)
	oldModal := closure.RejectInput{Version: r.Version, PlanDigest: r.PlanDigest, Reason: "wrong tenant"}

	// The plan changed again while it waited: a new round.
	fresh := testFacts()
	fresh.Privileged = append(fresh.Privileged, "priv-new", "priv-newer")
	r = h.Sys(t, r.ID, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
		return s.Replan(q, fresh, nil)
	})
	require.NotEqual(t, oldModal.PlanDigest, r.PlanDigest)
	require.Greater(t, r.PendingSince, uint64(0))

	_, _, err := h.Svc.Reject(ctx, person(bob), r.ID, oldModal)
	requireRule(t, closure.RuleStaleCard, err)
	// The same plan digest, but drawn before the round began.
	_, _, err = h.Svc.Reject(ctx, person(bob), r.ID, closure.RejectInput{Version: r.PendingSince, PlanDigest: r.PlanDigest, Reason: "x"})
	requireRule(t, closure.RuleStaleCard, err)
	// A version the request never had.
	_, _, err = h.Svc.Reject(ctx, person(bob), r.ID, closure.RejectInput{Version: r.Version + 1, PlanDigest: r.PlanDigest, Reason: "x"})
	requireRule(t, closure.RuleStaleCard, err)
	assert.True(t, closure.RuleStaleCard.MovedOn())
	assert.Contains(t, closure.Explain(err), "out of date")
	// The approval modal of the same stale draw is refused the same way.
	_, _, err = h.Svc.Approve(ctx, person(bob), r.ID, closure.ApproveInput{Version: oldModal.Version, PlanDigest: oldModal.PlanDigest})
	requireRule(t, closure.RulePlanChanged, err)
	assert.Equal(t, closure.RulePlanChanged, r.StaleForm(oldModal.Version, oldModal.PlanDigest))
	assert.Equal(t, closure.RuleStaleVersion, r.StaleForm(r.PendingSince, r.PlanDigest))
	assert.Equal(t, closure.Rule(""), r.StaleForm(r.Version, r.PlanDigest))

	got, _, err := h.Svc.Reject(ctx, person(bob), r.ID, closure.RejectInput{Version: r.Version, PlanDigest: r.PlanDigest, Reason: "wrong tenant"})
	require.NoError(t, err)
	assert.Equal(t, closure.StateRejected, got.State)
}

// repended takes a request through to step 1 and sends it back for
// approval on a drift (a new pending round, PendingSince set).
func repended(t *testing.T, h *harness) *closure.Request {
	t.Helper()
	r := h.ToRunning(t)
	fresh := testFacts()
	fresh.Privileged = append(fresh.Privileged, "priv-new")
	r = h.Sys(t, r.ID, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
		d := s.Verify(q, fresh)
		require.True(t, d.Drifted())
		return s.Repend(q, fresh, nil, d)
	})
	require.Equal(t, closure.StatePending, r.State)
	require.Greater(t, r.PendingSince, uint64(0))
	return r
}

// Check is the pre-check before a modal: the table, a button drawn before
// the current round, expiry and an approval already counted.
func TestCheckBeforeModal(t *testing.T) {
	pol := testPolicy()
	pol.Required = 2
	h := newHarness(t, pol)
	r := h.Open(t)

	require.NoError(t, h.Svc.Check(person(bob), closure.ActApprove, r, r.Version))
	requireRule(t, closure.RuleNotApprover, h.Svc.Check(person(erin), closure.ActApprove, r, r.Version))
	requireRule(t, closure.RuleNotApprover, h.Svc.Check(person(alice), closure.ActReject, r, r.Version))

	r = h.Approve(t, bob, r)
	requireRule(t, closure.RuleAlreadyApproved, h.Svc.Check(person(bob), closure.ActApprove, r, r.Version))
	require.NoError(t, h.Svc.Check(person(dave), closure.ActApprove, r, r.Version))
	assert.Equal(t, []string{bob}, r.CountedApprovers(r.ConfigDigest))
	assert.Equal(t, 1, r.CountApprovals(r.ConfigDigest))
	assert.True(t, r.HasApproved(bob, r.ConfigDigest))
	// Under another configuration the approval no longer counts.
	assert.Nil(t, r.CountedApprovers("other"))
	assert.False(t, r.HasApproved(bob, "other"))

	h.Clock.Advance(pol.ExpiresAfter + time.Minute)
	requireRule(t, closure.RuleExpired, h.Svc.Check(person(dave), closure.ActApprove, r, r.Version))

	// A button drawn before the current round is out of date.
	h2 := newHarness(t, testPolicy())
	r2 := repended(t, h2)
	for _, act := range []closure.Action{closure.ActApprove, closure.ActReject} {
		requireRule(t, closure.RuleStaleCard, h2.Svc.Check(person(dave), act, r2, 1)) // the card as opened
		requireRule(t, closure.RuleStaleCard, h2.Svc.Check(person(dave), act, r2, r2.PendingSince))
		require.NoError(t, h2.Svc.Check(person(dave), act, r2, r2.Version))
	}
}

// fakeWaker records how the Service woke the executor.
type fakeWaker struct{ calls []string }

func (w *fakeWaker) Wake(id string) { w.calls = append(w.calls, "wake "+id) }
func (w *fakeWaker) Poke(id string) { w.calls = append(w.calls, "poke "+id) }

// The Service wakes the executor after the decisions that need it, and
// not after a refusal.
func TestServiceWakesTheExecutor(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, testPolicy())
	wk := &fakeWaker{}
	h.Svc.Waker = wk
	r := h.Open(t)
	_, _, err := h.Svc.Approve(ctx, person(erin), r.ID, closure.ApproveInput{Version: r.Version, PlanDigest: r.PlanDigest})
	requireRule(t, closure.RuleNotApprover, err)
	assert.Empty(t, wk.calls)
	r = h.Approve(t, bob, r)
	assert.Equal(t, []string{"wake " + r.ID}, wk.calls)
	_, _, err = h.Svc.Pause(ctx, person(bob), r.ID)
	require.NoError(t, err)
	_, _, err = h.Svc.Resume(ctx, person(bob), r.ID, closure.Typed)
	require.NoError(t, err)
	_, _, err = h.Svc.Abort(ctx, person(bob), r.ID)
	require.NoError(t, err)
	assert.Equal(t, []string{"wake " + r.ID, "poke " + r.ID, "wake " + r.ID, "poke " + r.ID}, wk.calls)

	// Cancel ends a pending request: nothing to wake.
	wk.calls = nil
	r2 := h.Open(t)
	_, _, err = h.Svc.Cancel(ctx, person(alice), r2.ID)
	require.NoError(t, err)
	assert.Empty(t, wk.calls)
}
