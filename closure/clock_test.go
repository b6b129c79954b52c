package closure_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

// TestExpiry: a pending request expires expires_after from creation;
// approvals after that are refused.
func TestExpiry(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, testPolicy())
	r := h.Open(t)
	assert.Equal(t, t0.Add(24*time.Hour), r.ExpiresAt)

	h.Clock.Set(r.ExpiresAt.Add(-time.Second))
	moved, err := h.Svc.ExpireDue(ctx)
	require.NoError(t, err)
	assert.Empty(t, moved)

	h.Clock.Set(r.ExpiresAt)
	_, _, err = h.Svc.Approve(ctx, person(bob), r.ID, closure.ApproveInput{Version: r.Version, PlanDigest: r.PlanDigest})
	requireRule(t, closure.RuleExpired, err)
	moved, err = h.Svc.ExpireDue(ctx)
	require.NoError(t, err)
	require.Len(t, moved, 1)
	assert.Equal(t, closure.StateExpired, moved[0].State)
	_, locked := h.Store.LockHolder(tenantID)
	assert.False(t, locked)

	// An approved request never expires.
	h2 := newHarness(t, testPolicy())
	r2 := h2.Open(t)
	h2.Approve(t, bob, r2)
	h2.Clock.Advance(48 * time.Hour)
	moved, err = h2.Svc.ExpireDue(ctx)
	require.NoError(t, err)
	assert.Empty(t, moved)
}

// TestStuckDetection: gate → stuck stuck_after past the ETA, or past the
// opening without one; progress returns it to gate and restarts the
// count; a satisfied gate returns it to running.
func TestStuckDetection(t *testing.T) {
	ctx := context.Background()
	for _, withETA := range []bool{false, true} {
		h := newHarness(t, testPolicy())
		r := h.ToRunning(t)
		opened := h.Clock.Now()
		eta := time.Time{}
		if withETA {
			eta = opened.Add(30 * 24 * time.Hour) // MCA term end
		}
		r = h.Sys(t, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
			return s.OpenGate(r, closure.Gate{ID: "1.sync", Step: 1, Kind: closure.GateSyncOff, Assignee: carol, ETA: eta})
		})
		require.Equal(t, closure.StateGate, r.State)
		assert.True(t, r.Done.SyncOff, "the gate asks for sync off: not drift")

		due := opened.Add(h.Pol.StuckAfter)
		if withETA {
			due = eta.Add(h.Pol.StuckAfter)
		}
		h.Clock.Set(due.Add(-time.Second))
		moved, err := h.Svc.MarkStuckDue(ctx)
		require.NoError(t, err)
		assert.Empty(t, moved)
		_, _, err = h.Svc.ApplySystem(ctx, r.ID, closure.System.MarkStuck)
		requireRule(t, closure.RuleNotDue, err)

		h.Clock.Set(due)
		moved, err = h.Svc.MarkStuckDue(ctx)
		require.NoError(t, err)
		require.Len(t, moved, 1)
		r = moved[0]
		assert.Equal(t, closure.StateStuck, r.State)

		// Re-checks continue while stuck; progress returns it to gate.
		_, err = h.Svc.Recheck(ctx, person(carol), r.ID, "1.sync")
		require.NoError(t, err)
		r = h.Sys(t, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
			return s.GateProgress(r, "1.sync", time.Time{}, "sync off pending")
		})
		assert.Equal(t, closure.StateGate, r.State)
		h.Clock.Advance(h.Pol.StuckAfter - time.Second)
		assert.False(t, r.StuckDue(h.Clock.Now(), h.Pol.StuckAfter), "progress restarts the count")
		h.Clock.Advance(time.Second)
		assert.True(t, r.StuckDue(h.Clock.Now(), h.Pol.StuckAfter))
		r = h.Sys(t, r.ID, closure.System.MarkStuck)
		r = h.Sys(t, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
			return s.SatisfyGate(r, "1.sync")
		})
		assert.Equal(t, closure.StateRunning, r.State, "a satisfied gate returns a stuck request to running")
	}
}

// TestSettleAfterReapproval: a request interrupted at a gate comes back to
// running, and Settle puts it back at its still-open gate; a gate
// satisfied meanwhile lets it run.
func TestSettleAfterReapproval(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, testPolicy())
	r := h.ToRunning(t)
	r = h.Sys(t, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
		return s.OpenGate(r, closure.Gate{ID: "1.au", Step: 1, Kind: closure.GateRestrictedAdminUnit})
	})
	fresh := testFacts()
	fresh.Apps = append(fresh.Apps, "app-new")
	r = h.Sys(t, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
		return s.Repend(r, fresh, nil, s.Verify(r, fresh))
	})
	r = h.Approve(t, bob, r)
	require.Equal(t, closure.StateRunning, r.State)
	r = h.Sys(t, r.ID, closure.System.Settle)
	assert.Equal(t, closure.StateGate, r.State)
	_, _, err := h.Svc.ApplySystem(ctx, r.ID, closure.System.Settle)
	requireRule(t, closure.RuleNotDue, err)

	// Stop file: the bot pauses; a person resumes; the gate was satisfied meanwhile.
	r = h.Sys(t, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
		return s.Pause(r, "stop file")
	})
	require.Equal(t, closure.StatePaused, r.State)
	r = h.Sys(t, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
		return s.SatisfyGate(r, "1.au")
	})
	r, _, err = h.Svc.Resume(ctx, person(alice), r.ID, closure.Typed)
	require.NoError(t, err)
	require.Equal(t, closure.StateGate, r.State)
	r = h.Sys(t, r.ID, closure.System.Settle)
	assert.Equal(t, closure.StateRunning, r.State)
}
