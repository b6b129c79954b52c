package closuretest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/closuretest"
)

func TestMemStoreCASAndLock(t *testing.T) {
	ctx := context.Background()
	m := closuretest.NewMemStore()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r, ev, err := m.Create(ctx, &closure.Request{TenantID: "t1", State: closure.StatePending, PlanDigest: "d"}, closure.Event{At: at, Action: "open"})
	require.NoError(t, err)
	assert.Equal(t, "CT-1", r.ID)
	assert.Equal(t, uint64(1), r.Version)
	assert.Equal(t, uint64(1), ev.Seq)

	_, _, err = m.Create(ctx, &closure.Request{TenantID: "t1", State: closure.StatePending}, closure.Event{At: at})
	require.ErrorIs(t, err, closure.ErrTenantLocked)
	assert.Contains(t, err.Error(), "CT-1")

	next := r.Clone()
	next.State = closure.StateCancelled
	_, _, err = m.Update(ctx, closure.Expect{ID: r.ID, State: r.State, Version: 7, PlanDigest: "d"}, next, closure.Event{At: at})
	require.ErrorIs(t, err, closure.ErrConflict)
	_, _, err = m.Update(ctx, closure.Expect{ID: r.ID, State: r.State, Version: 1, PlanDigest: "other"}, next, closure.Event{At: at})
	require.ErrorIs(t, err, closure.ErrConflict)
	got, ev, err := m.Update(ctx, r.Expect(), next, closure.Event{At: at, Action: "cancel"})
	require.NoError(t, err)
	assert.Equal(t, uint64(2), got.Version)
	assert.Equal(t, uint64(2), ev.Seq)
	_, locked := m.LockHolder("t1")
	assert.False(t, locked)

	ev, err = m.Append(ctx, closure.Event{Request: r.ID, At: at, Action: "recheck"})
	require.NoError(t, err)
	assert.Equal(t, uint64(3), ev.Seq)
	assert.Equal(t, uint64(2), ev.Version)

	r2, _, err := m.Create(ctx, &closure.Request{TenantID: "t1", State: closure.StatePending}, closure.Event{At: at})
	require.NoError(t, err)
	all, err := m.List(ctx, false, 0)
	require.NoError(t, err)
	require.Len(t, all, 2)
	assert.Equal(t, r2.ID, all[0].ID, "newest first")
	open, err := m.List(ctx, true, 0)
	require.NoError(t, err)
	require.Len(t, open, 1)

	_, err = m.Get(ctx, "CT-99")
	require.ErrorIs(t, err, closure.ErrNotFound)
}

// TestMemStoreVerifyChain: the fake implements the Store port's chain
// check, so a runner over it verifies on every resume like the real one.
func TestMemStoreVerifyChain(t *testing.T) {
	ctx := context.Background()
	m := closuretest.NewMemStore()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r, _, err := m.Create(ctx, &closure.Request{TenantID: "t1", State: closure.StatePending}, closure.Event{At: at, Action: closure.EvOpen})
	require.NoError(t, err)
	require.NoError(t, m.VerifyChain(ctx, r.ID))
	assert.ErrorIs(t, m.VerifyChain(ctx, "CT-9"), closure.ErrNotFound)
	m.Tamper(r.ID)
	assert.ErrorIs(t, m.VerifyChain(ctx, r.ID), closure.ErrTampered)
}
