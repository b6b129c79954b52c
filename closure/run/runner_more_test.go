package run_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/closuretest"
)

// toStep2Gate drives a fresh request to step 2's gate.
func toStep2Gate(t *testing.T, rg *rig) *closure.Request {
	t.Helper()
	r := rg.openApproved(t)
	rg.toSteps(t, r.ID)
	return rg.drive(t, r.ID, atStep(2, closure.StateGate))
}

// TestResumeAllAndPoke: after a restart ResumeAll runs every open request;
// a Poke after a person's action wakes a Run waiting at a gate.
func TestResumeAllAndPoke(t *testing.T) {
	rg := newRig(t, defaultSeed())
	r := toStep2Gate(t, rg)

	runner := rg.newRunner() // the restarted process
	never := make(chan time.Time)
	runner.After = func(time.Duration) <-chan time.Time { return never }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started, err := runner.ResumeAll(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{r.ID}, started)

	for _, id := range []string{"sub-direct", "sub-csp", "sub-mca"} {
		rg.dir.SetSubscription(id, "Deleted", time.Time{})
	}
	_, _, err = rg.Svc.Attest(ctx, person(carol), r.ID, "2.azure", closure.SentenceNoAzure)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		runner.Poke(r.ID)
		return rg.get(t, r.ID).Step == 4
	}, 5*time.Second, 10*time.Millisecond, "steps 2 and 3 finish once poked")
	// A second Run of the same request only wakes the first.
	require.NoError(t, runner.Run(ctx, r.ID))
	cancel()
	runner.WaitRuns()
}

// TestStuckGate: a gate stuck_after past its ETA makes the request stuck;
// progress returns it to gate, and the satisfied gate to running.
func TestStuckGate(t *testing.T) {
	ctx := context.Background()
	rg := newRig(t, defaultSeed())
	r := toStep2Gate(t, rg)
	g, _ := r.Gate("2.direct")
	rg.Clock.Set(g.ETA.Add(rg.Pol.StuckAfter))
	_, err := rg.runner.Advance(ctx, r.ID)
	require.NoError(t, err)
	require.Equal(t, closure.StateStuck, rg.get(t, r.ID).State)

	// Re-checks and attestations continue while stuck.
	for _, id := range []string{"sub-direct", "sub-csp", "sub-mca"} {
		rg.dir.SetSubscription(id, "Suspended", rg.Clock.Now().AddDate(0, 0, 90))
	}
	_, _, err = rg.Svc.Attest(ctx, person(carol), r.ID, "2.azure", closure.SentenceNoAzure)
	require.NoError(t, err)
	_, err = rg.runner.Advance(ctx, r.ID)
	require.NoError(t, err)
	r = rg.get(t, r.ID)
	assert.Equal(t, 3, r.Step, "satisfied gates return it to running")
	assert.Equal(t, closure.StateGate, r.State, "step 3 waits, not stuck: its ETA moved")
	g, _ = r.Gate("3.delete")
	assert.Equal(t, rg.Clock.Now().AddDate(0, 0, 90), g.ETA)
}

// TestStep4PerUserMFA: per-user MFA of an account other than the kept
// admin is set to disabled with its previous value audited; a refusal is
// a gate; the kept admin's MFA is never touched.
func TestStep4PerUserMFA(t *testing.T) {
	// unknownFutureValue (the evolvable enum's sentinel) counts as on: it
	// is disabled, or gated when Graph refuses, never taken for off.
	for _, tc := range []struct {
		state   string
		refused bool
	}{{"enforced", false}, {"enforced", true}, {"unknownFutureValue", false}, {"unknownFutureValue", true}} {
		state, refused := tc.state, tc.refused
		t.Run(state+map[bool]string{false: "/disabled", true: "/refused"}[refused], func(t *testing.T) {
			ctx := context.Background()
			rg := newRig(t, defaultSeed())
			r := toStep2Gate(t, rg)
			for _, id := range []string{"sub-direct", "sub-csp", "sub-mca"} {
				rg.dir.SetSubscription(id, "Deleted", time.Time{})
			}
			_, _, err := rg.Svc.Attest(ctx, person(carol), r.ID, "2.azure", closure.SentenceNoAzure)
			require.NoError(t, err)
			// Someone creates an account with per-user MFA after step 1.
			rg.dir.AddUser(closure.User{ID: "late", UPN: "late@contoso.com", UserType: "Member", Enabled: true})
			rg.dir.SetMFA("late", state)
			rg.dir.MFARefused = refused
			r = rg.drive(t, r.ID, atStep(4, closure.StateGate))
			if refused {
				require.Len(t, r.BlockingGates(), 2)
				g, ok := r.Gate("4.per_user_mfa")
				require.True(t, ok)
				assert.Equal(t, "late@contoso.com", g.Params["users"])
				assert.Equal(t, state, rg.dir.MFA("late"))
				rg.dir.SetMFA("late", "disabled") // the admin-center path
				_, err = rg.runner.Advance(ctx, r.ID)
				require.NoError(t, err)
				g, _ = rg.get(t, r.ID).Gate("4.per_user_mfa")
				assert.False(t, g.IsOpen())
			} else {
				assert.Equal(t, "disabled", rg.dir.MFA("late"))
				var prev string
				for _, ev := range rg.events(t, r.ID) {
					if ev.Action == "step.mfa_disabled" {
						prev = ev.Detail["previous"]
					}
				}
				assert.Equal(t, state, prev)
			}
			assert.Equal(t, "enforced", rg.dir.MFA(closuretest.KeepID))
			for _, w := range rg.dir.Writes() {
				assert.NotEqual(t, closuretest.KeepID, w.ID)
			}
		})
	}
}

// TestKeptAdminLostBeforePrivilegedDeletion: the re-check before each
// privileged deletion fails the step instead of deleting.
func TestKeptAdminLostBeforePrivilegedDeletion(t *testing.T) {
	rg := newRig(t, defaultSeed())
	r := rg.openApproved(t)
	rg.toSteps(t, r.ID)
	rg.dir.BeforeWrite = func(w closuretest.Write) error {
		if w.Op == "delete_user" && w.ID == closuretest.UserID("member", 30) {
			rg.dir.RemoveRoles(closuretest.KeepID)
		}
		return nil
	}
	_, err := rg.runner.Advance(context.Background(), r.ID)
	require.NoError(t, err)
	r = rg.get(t, r.ID)
	assert.Equal(t, closure.StateFailed, r.State)
	assert.Contains(t, r.FailReason, "Global Administrator")
	for _, w := range writesOf(rg.dir.Writes(), "delete_user") {
		assert.NotContains(t, []string{closuretest.UserID("priv", 1), closuretest.UserID("ga", 1), closuretest.UserID("eligible", 1)}, w.ID)
	}
}

// TestRepeatedRunsWriteNothingNew: at a gate, re-runs only read.
func TestRepeatedRunsWriteNothingNew(t *testing.T) {
	rg := newRig(t, defaultSeed())
	r := toStep2Gate(t, rg)
	n := len(rg.dir.Writes())
	for range 5 {
		rg.Clock.Advance(10 * time.Minute)
		_, err := rg.runner.Advance(context.Background(), r.ID)
		require.NoError(t, err)
	}
	assert.Len(t, rg.dir.Writes(), n)
	assert.Equal(t, closure.StateGate, rg.get(t, r.ID).State)
}

// toDeleteTenantGate drives a fresh request to step 5's last gate.
func toDeleteTenantGate(t *testing.T, rg *rig) *closure.Request {
	t.Helper()
	ctx := context.Background()
	r := toStep2Gate(t, rg)
	for _, id := range []string{"sub-direct", "sub-csp", "sub-mca"} {
		rg.dir.SetSubscription(id, "Deleted", time.Time{})
	}
	_, _, err := rg.Svc.Attest(ctx, person(carol), r.ID, "2.azure", closure.SentenceNoAzure)
	require.NoError(t, err)
	r = rg.drive(t, r.ID, atStep(4, closure.StateGate))
	_, _, err = rg.Svc.Attest(ctx, person(carol), r.ID, "4.legacy_mfa", closure.SentenceNoLegacyMFA)
	require.NoError(t, err)
	r = rg.drive(t, r.ID, func(r *closure.Request) bool { return r.AwaitingConfirmation() })
	_, _, err = rg.Svc.Confirm(ctx, person(dave), r.ID, r.Version)
	require.NoError(t, err)
	return rg.drive(t, r.ID, atStep(5, closure.StateGate))
}

// TestGoneNeedsConfirmationsOverSpan: "gone" needs gone_confirmations
// answers spread over gone_span, and a live answer starts again; a stuck
// deletion gate still closes.
func TestGoneNeedsConfirmationsOverSpan(t *testing.T) {
	ctx := context.Background()
	rg := newRig(t, defaultSeed())
	r := toDeleteTenantGate(t, rg)

	rg.Clock.Advance(rg.Pol.StuckAfter) // the kept admin takes their time
	_, err := rg.runner.Advance(ctx, r.ID)
	require.NoError(t, err)
	require.Equal(t, closure.StateStuck, rg.get(t, r.ID).State)

	require.NoError(t, rg.dir.DeleteTenant(closebotApp))
	for range 3 {
		_, err := rg.runner.Advance(ctx, r.ID)
		require.NoError(t, err)
		rg.Clock.Advance(10 * time.Minute)
	}
	r = rg.get(t, r.ID)
	assert.Equal(t, closure.StateGate, r.State, "three answers, but not yet over an hour")
	assert.Equal(t, 3, r.StepAt(5).GoneCount)
	r = rg.drive(t, r.ID, func(r *closure.Request) bool { return r.State == closure.StateClosed })
	assert.GreaterOrEqual(t, r.ClosedAt.Sub(r.StepAt(5).GoneSince), time.Hour)
}
