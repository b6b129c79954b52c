package closure_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/closuretest"
)

// TestStateMachine lists DESIGN §2's transitions independently and checks
// every (from, to) pair, allowed or forbidden.
func TestStateMachine(t *testing.T) {
	const (
		P  = closure.StatePending
		Ap = closure.StateApproved
		Pr = closure.StateProving
		W  = closure.StateWaitingWindow
		Ru = closure.StateRunning
		G  = closure.StateGate
		Pa = closure.StatePaused
		F  = closure.StateFailed
		St = closure.StateStuck
		C  = closure.StateClosed
		Rj = closure.StateRejected
		Ca = closure.StateCancelled
		E  = closure.StateExpired
		Ab = closure.StateAborted
	)
	allowed := map[[2]closure.State]bool{}
	for _, p := range [][2]closure.State{
		{P, Ap}, {Ap, Pr}, {Pr, W}, {W, Ru}, // the main line
		{Ru, G}, {G, Ru}, {Ru, Pa}, {G, Pa}, {Ru, C}, {G, C},
		{P, Rj}, {P, Ca}, {P, E},
		{Ap, Pa}, {Pr, Pa}, {W, Pa}, {St, Pa}, // pause
		{Pa, Ap}, {Pa, Pr}, {Pa, W}, {Pa, Ru}, {Pa, G}, {Pa, St}, // resume
		{Ap, Ab}, {Pr, Ab}, {W, Ab}, {Ru, Ab}, {G, Ab}, {Pa, Ab}, {F, Ab}, {St, Ab}, // abort
		{Pr, P},                  // proof failed or expired
		{Ru, P}, {G, P}, {Pa, P}, // drift
		{P, Ru}, {P, Pa}, // re-approval after drift returns to the interrupted step (or its pause)
		{P, Ab},          // Cancel of a half-done closure aborts it (Restore stays)
		{St, P},          // drift at a stuck gate
		{Ru, F}, {F, Ru}, // failure and Retry
		{G, St}, {St, G}, {St, Ru}, // stuck, progress, satisfied
	} {
		allowed[p] = true
	}
	for _, from := range closure.AllStates {
		for _, to := range closure.AllStates {
			want := allowed[[2]closure.State{from, to}]
			if from == to {
				// Recording without a state change: open states, and
				// aborted (Restore).
				want = from.HoldsLock() || from == Ab
			}
			assert.Equal(t, want, closure.CanTransition(from, to), "%s → %s", from, to)
		}
	}
	for _, s := range closure.AllStates {
		assert.Equal(t, !in(s, C, Rj, Ca, E, Ab), s.HoldsLock(), "%s holds lock", s)
	}
}

// TestHappyPath walks a request from open to closed through the service
// and the in-memory store, with two required approvers.
func TestHappyPath(t *testing.T) {
	ctx := context.Background()
	pol := testPolicy()
	pol.Required = 2
	h := newHarness(t, pol)
	r := h.Open(t)
	holder, ok := h.Store.LockHolder(tenantID)
	require.True(t, ok)
	require.Equal(t, r.ID, holder)

	// A second request for the same tenant is refused while this one is open.
	_, _, err := h.Svc.Open(ctx, person(alice), closure.OpenInput{Tenant: tenantID, Reason: "again", Facts: testFacts()})
	require.ErrorIs(t, err, closure.ErrTenantLocked)
	assert.Contains(t, closure.Explain(err), r.ID)

	r = h.Approve(t, bob, r)
	assert.Equal(t, closure.StatePending, r.State, "one of two approvals")
	r = h.Approve(t, dave, r)
	assert.Equal(t, closure.StateApproved, r.State)

	r = h.Sys(t, r.ID, closure.System.StartProof)
	assert.Equal(t, closure.StateProving, r.State)
	r = h.Sys(t, r.ID, closure.System.ProofPassed)
	assert.Equal(t, t0.Add(30*time.Minute), r.WindowEndsAt)
	_, _, err = h.Svc.ApplySystem(ctx, r.ID, closure.System.StartSteps)
	requireRule(t, closure.RuleWindowOpen, err)
	h.Clock.Advance(30 * time.Minute)
	r = h.Sys(t, r.ID, closure.System.StartSteps)
	require.Equal(t, closure.StateRunning, r.State)

	// Step 1: sync off, users deleted; the restore deadline starts.
	r = h.Sys(t, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
		return s.SyncTurnedOff(r, "true")
	})
	r = h.Sys(t, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
		return s.UserRemoved(r, closure.DeletedObject{ID: "user-1", Kind: string(closure.KindMember)})
	})
	r = h.Sys(t, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
		return s.UserRemoved(r, closure.DeletedObject{ID: "priv-1", Kind: string(closure.KindPrivileged), Privileged: true})
	})
	assert.Equal(t, h.Clock.Now().Add(closure.RestoreWindow), r.RestoreDeadline)
	assert.Equal(t, 2, r.StepAt(1).Done)
	// Billing gates open early, for step 2, without stopping step 1.
	r = h.Sys(t, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
		return s.OpenGate(r, closure.Gate{ID: "2.azure", Step: 2, Kind: closure.GateAzure, Assignee: carol,
			Attest: []string{closure.SentenceNoAzure}})
	})
	assert.Equal(t, closure.StateRunning, r.State)
	r = h.Sys(t, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
		return s.StepDone(r, "1 user left: the kept admin")
	})
	assert.Equal(t, closure.StateGate, r.State, "step 2 waits on its gate")
	assert.Equal(t, closure.StepWaiting, r.StepAt(2).Status)

	// The gate needs its attestation before it can be satisfied.
	_, _, err = h.Svc.ApplySystem(ctx, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
		return s.SatisfyGate(r, "2.azure")
	})
	requireRule(t, closure.RuleNotAttestable, err)
	_, err = h.Svc.Recheck(ctx, person(alice), r.ID, "2.azure")
	require.NoError(t, err)
	r, ev, err := h.Svc.Attest(ctx, person(carol), r.ID, "2.azure", closure.SentenceNoAzure)
	require.NoError(t, err)
	assert.Equal(t, carol, ev.Actor)
	assert.Equal(t, "No Azure subscription is linked to this tenant", ev.Detail["text"])
	r = h.Sys(t, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
		return s.SatisfyGate(r, "2.azure")
	})
	assert.Equal(t, closure.StateRunning, r.State)

	for range 3 { // steps 2, 3, 4 done
		r = h.Sys(t, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
			return s.StepDone(r, "done")
		})
	}
	require.Equal(t, 5, r.Step)

	// Step 5's point of no return: fresh clicks by two approvers.
	r = h.Sys(t, r.ID, closure.System.AwaitConfirmation)
	require.True(t, r.AwaitingConfirmation())
	_, _, err = h.Svc.Confirm(ctx, person(alice), r.ID, r.Version)
	requireRule(t, closure.RuleNotApprover, err)
	r2, _, err := h.Svc.Confirm(ctx, person(bob), r.ID, r.Version)
	require.NoError(t, err)
	assert.True(t, r2.AwaitingConfirmation(), "one of two confirmations")
	_, _, err = h.Svc.Confirm(ctx, person(bob), r.ID, r.Version)
	requireRule(t, closure.RuleAlreadyApproved, err)
	r, _, err = h.Svc.Confirm(ctx, person(dave), r.ID, r.Version)
	require.NoError(t, err)
	assert.False(t, r.AwaitingConfirmation())
	assert.True(t, r.StepAt(5).Confirmed)

	r = h.Sys(t, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
		return s.AppRemoved(r, closure.DeletedObject{ID: "app-1", Kind: closure.KindApplication})
	})
	r = h.Sys(t, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
		return s.OpenGate(r, closure.Gate{ID: "5.delete", Step: 5, Kind: closure.GateDeleteTenant, Assignee: carol})
	})
	require.Equal(t, closure.StateGate, r.State)
	r, _, err = h.Svc.Purge(ctx, person(dave), r.ID, closure.Typed)
	require.NoError(t, err)
	require.NotNil(t, r.PurgeRequested)
	r = h.Sys(t, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
		return s.Close(r, map[string]string{"gone_confirmations": "3"})
	})
	assert.Equal(t, closure.StateClosed, r.State)
	_, locked := h.Store.LockHolder(tenantID)
	assert.False(t, locked, "closed releases the tenant")

	evs, err := h.Store.Events(ctx, r.ID)
	require.NoError(t, err)
	for i, e := range evs {
		assert.Equal(t, uint64(i+1), e.Seq)
		if e.From != "" || e.To != "" {
			assert.True(t, e.From == "" || closure.CanTransition(e.From, e.To), "event %d %s: %s → %s", e.Seq, e.Action, e.From, e.To)
		}
	}
	assert.Equal(t, len(evs)-1, countKind(h.Rep.Reports(), "request"), "every committed change but the recheck is reported")

	sum := closure.Summarise(r, evs[len(evs)-1])
	assert.Equal(t, []string{bob, dave}, sum.Approvers)
	assert.Equal(t, 2, sum.StepCounts[0])
	assert.Equal(t, 1, sum.StepCounts[4])
}

func countKind(reps []closuretest.Report, kind string) int {
	n := 0
	for _, r := range reps {
		if r.Kind == kind {
			n++
		}
	}
	return n
}

// TestPauseResume: Pause from each pausable state, Resume returns to it.
func TestPauseResume(t *testing.T) {
	for _, s := range []closure.State{closure.StateApproved, closure.StateProving, closure.StateWaitingWindow, closure.StateRunning, closure.StateGate} {
		pol, req, now := caseFixture(roleSet{requester: true}, false, s)
		d := closure.Decider{Policy: pol, Actor: person(me), Now: now}
		p, ev, err := d.Pause(req)
		require.NoError(t, err, s)
		assert.Equal(t, closure.StatePaused, p.State)
		assert.Equal(t, s, p.PausedFrom)
		assert.Equal(t, string(s), ev.Detail["paused_from"])
		p.Version++
		back, _, err := d.Resume(p, closure.Typed)
		require.NoError(t, err)
		assert.Equal(t, s, back.State)
		assert.Empty(t, back.PausedFrom)
	}
}

// TestAbortStates: Abort from each state of DESIGN §2's Abort line.
func TestAbortStates(t *testing.T) {
	for _, s := range closure.AllStates {
		pol, req, now := caseFixture(roleSet{approver: true}, false, s)
		next, _, err := closure.Decider{Policy: pol, Actor: person(me), Now: now}.Abort(req)
		if s.Abortable() {
			require.NoError(t, err, s)
			assert.Equal(t, closure.StateAborted, next.State)
		} else {
			requireRule(t, closure.RuleWrongState, err)
		}
	}
}

// TestProofFailureRepends: proving → pending; the approvals are gone and a
// modal opened before the re-pend is refused as stale.
func TestProofFailureRepends(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, testPolicy())
	r := h.Open(t)
	oldModal := closure.ApproveInput{Version: r.Version, PlanDigest: r.PlanDigest}
	r = h.Approve(t, bob, r)
	r = h.Sys(t, r.ID, closure.System.StartProof)
	r = h.Sys(t, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
		return s.ProofFailed(r, "token amr lacks mfa")
	})
	require.Equal(t, closure.StatePending, r.State)
	assert.Empty(t, r.Approvals)
	assert.Equal(t, "token amr lacks mfa", r.ProofError)

	_, _, err := h.Svc.Approve(ctx, person(dave), r.ID, oldModal)
	requireRule(t, closure.RuleStaleVersion, err)
	r, _, err = h.Svc.Approve(ctx, person(dave), r.ID, closure.ApproveInput{Version: r.Version, PlanDigest: r.PlanDigest})
	require.NoError(t, err)
	assert.Equal(t, closure.StateApproved, r.State)
}

// TestDriftRepend: a drift check failing in running, gate or paused sends
// the request back to pending with the difference; the re-approval
// returns to the interrupted step, without proof, window or expiry; a
// modal opened before it is refused.
func TestDriftRepend(t *testing.T) {
	for _, from := range []closure.State{closure.StateRunning, closure.StateGate, closure.StatePaused} {
		t.Run(string(from), func(t *testing.T) {
			ctx := context.Background()
			h := newHarness(t, testPolicy())
			r := h.ToRunning(t)
			oldModal := closure.ApproveInput{Version: r.Version, PlanDigest: r.PlanDigest}
			r = h.Sys(t, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
				return s.StepDone(r, "users deleted")
			})
			switch from {
			case closure.StateGate:
				r = h.Sys(t, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
					return s.OpenGate(r, closure.Gate{ID: "2.direct", Step: 2, Kind: closure.GateSubscriptionDirect})
				})
			case closure.StatePaused:
				var err error
				r, _, err = h.Svc.Pause(ctx, person(alice), r.ID)
				require.NoError(t, err)
			}
			require.Equal(t, from, r.State)

			fresh := testFacts()
			fresh.Privileged = append(fresh.Privileged, "priv-new")
			var d closure.Drift
			r = h.Sys(t, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
				d = s.Verify(r, fresh)
				require.True(t, d.Drifted())
				return s.Repend(r, fresh, nil, d)
			})
			require.Equal(t, closure.StatePending, r.State)
			assert.Equal(t, []string{"new privileged principal priv-new"}, r.DriftLines)
			assert.Equal(t, fresh.Digest(), r.PlanDigest)
			require.NotNil(t, r.Interrupted)
			assert.Equal(t, 2, r.Interrupted.Step)

			h.Clock.Advance(48 * time.Hour) // past expires_after: does not apply
			_, err := h.Svc.ExpireDue(ctx)
			require.NoError(t, err)
			_, _, err = h.Svc.Approve(ctx, person(dave), r.ID, oldModal)
			requireRule(t, closure.RulePlanChanged, err)
			_, _, err = h.Svc.Approve(ctx, person(dave), r.ID, closure.ApproveInput{Version: r.Version - 1, PlanDigest: r.PlanDigest})
			requireRule(t, closure.RuleStaleVersion, err)

			r = h.Approve(t, dave, r)
			want := closure.StateRunning
			if from == closure.StatePaused {
				want = closure.StatePaused // a person's Pause survives the re-approval
				assert.Equal(t, closure.StateRunning, r.PausedFrom)
			}
			assert.Equal(t, want, r.State, "straight back, no proof, no window")
			assert.Equal(t, 2, r.Step)
			assert.Nil(t, r.Interrupted)
		})
	}
}

// TestRetryAfterFailure: running → failed, Retry by an approver → running.
func TestRetryAfterFailure(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, testPolicy())
	r := h.ToRunning(t)
	r = h.Sys(t, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
		return s.Fail(r, "Graph 500 after retries")
	})
	require.Equal(t, closure.StateFailed, r.State)
	_, _, err := h.Svc.Retry(ctx, person(alice), r.ID, closure.Typed)
	requireRule(t, closure.RuleNotApprover, err)
	r, ev, err := h.Svc.Retry(ctx, person(bob), r.ID, closure.Typed)
	require.NoError(t, err)
	assert.Equal(t, closure.StateRunning, r.State)
	assert.Equal(t, "Graph 500 after retries", ev.Detail["failure"])
	assert.Equal(t, closure.StepRunning, r.StepAt(1).Status)
}

// TestRestoreAfterAbort: Restore until the deadline, refused after it.
func TestRestoreAfterAbort(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, testPolicy())
	r := h.ToRunning(t)
	r, _, err := h.Svc.Abort(ctx, person(bob), r.ID)
	require.NoError(t, err)
	_, _, err = h.Svc.Restore(ctx, person(bob), r.ID, closure.Typed)
	requireRule(t, closure.RuleNothingToRestore, err)

	h2 := newHarness(t, testPolicy())
	r = h2.ToRunning(t)
	r = h2.Sys(t, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
		return s.UserRemoved(r, closure.DeletedObject{ID: "user-9", Kind: string(closure.KindMember)})
	})
	r, _, err = h2.Svc.Abort(ctx, person(alice), r.ID)
	require.NoError(t, err)
	_, locked := h2.Store.LockHolder(tenantID)
	assert.False(t, locked)
	_, _, err = h2.Svc.Restore(ctx, person(alice), r.ID, closure.Typed)
	requireRule(t, closure.RuleNotApprover, err)
	h2.Clock.Set(r.RestoreDeadline.Add(-time.Second))
	got, _, err := h2.Svc.Restore(ctx, person(bob), r.ID, closure.Typed)
	require.NoError(t, err)
	assert.Equal(t, bob, got.RestoreRequested.By)
	assert.Equal(t, closure.StateAborted, got.State)
	h2.Clock.Set(r.RestoreDeadline)
	_, _, err = h2.Svc.Restore(ctx, person(dave), r.ID, closure.Typed)
	requireRule(t, closure.RuleRestoreDeadline, err)
}

// sysCase is a system decision and the states it may start from.
type sysCase struct {
	name string
	from []closure.State
	f    func(closure.System, *closure.Request) (*closure.Request, closure.Event, error)
}

// TestSystemForbidden: every system decision refuses every state it does
// not start from with wrong_state.
func TestSystemForbidden(t *testing.T) {
	S := func(s ...closure.State) []closure.State { return s }
	cases := []sysCase{
		{"StartProof", S(closure.StateApproved), closure.System.StartProof},
		{"ProofPassed", S(closure.StateProving), closure.System.ProofPassed},
		{"ProofFailed", S(closure.StateProving), func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
			return s.ProofFailed(r, "x")
		}},
		{"StartSteps", S(closure.StateWaitingWindow), closure.System.StartSteps},
		{"Repend", S(closure.StateRunning, closure.StateGate, closure.StateStuck, closure.StatePaused), func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
			return s.Repend(r, testFacts(), nil, closure.Drift{})
		}},
		{"Fail", S(closure.StateRunning), func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
			return s.Fail(r, "x")
		}},
		{"MarkStuck", S(closure.StateGate), closure.System.MarkStuck},
		{"Close", S(closure.StateRunning, closure.StateGate), func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
			return s.Close(r, nil)
		}},
		{"AwaitConfirmation", S(closure.StateRunning), closure.System.AwaitConfirmation},
		{"Expire", S(closure.StatePending), closure.System.Expire},
	}
	for _, c := range cases {
		for _, st := range closure.AllStates {
			pol, req, _ := caseFixture(roleSet{}, false, st)
			req.Interrupted = nil
			req.WindowEndsAt = t0
			req.Gates[0].OpenedAt = t0.Add(-400 * 24 * time.Hour) // overdue
			sys := closure.System{Policy: pol, Now: t0.Add(48 * time.Hour)}
			next, _, err := c.f(sys, req)
			if in(st, c.from...) {
				require.NoError(t, err, "%s from %s", c.name, st)
				assert.True(t, closure.CanTransition(st, next.State), "%s: %s → %s", c.name, st, next.State)
			} else {
				requireRule(t, closure.RuleWrongState, err)
			}
		}
	}
}
