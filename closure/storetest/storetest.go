// Package storetest is the contract every closure.Store implementation
// keeps: compare-and-set updates, the per-tenant lock, the audit chain's
// order and the listings. It imports testing and is used only from tests:
// each implementation's tests call Run with a constructor of an empty store.
package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

// T0 is the time of the suite's first event (UTC: stores may normalise).
var T0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// Run runs the store contract against stores newStore returns; each case
// gets a fresh, empty store.
func Run(t *testing.T, newStore func(t *testing.T) closure.Store) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, newStore(t))
		})
	}
}

type storeCase struct {
	name string
	run  func(t *testing.T, s closure.Store)
}

var cases = []storeCase{
	{"CreateAssignsIDsVersionAndOpeningEvent", createAssigns},
	{"GetReturnsACopy", getReturnsACopy},
	{"GetUnknownIsNotFound", getUnknown},
	{"UpdateCompareAndSet", updateCAS},
	{"UpdateConflictWritesNothing", updateConflictWritesNothing},
	{"UpdateUnknownIsNotFound", updateUnknown},
	{"UpdateFillsStateChangeOfEvent", updateFillsStateChange},
	{"UpdateKeepsIdentity", updateKeepsIdentity},
	{"TenantLockHeldUntilReleased", tenantLock},
	{"TenantLockPerTenant", tenantLockPerTenant},
	{"ReleasedRequestRetakesFreeLock", retakeFreeLock},
	{"ReleasedRequestCannotTakeHeldLock", retakeHeldLock},
	{"AppendKeepsStateAndOrder", appendOrder},
	{"AppendToUnknownIsNotFound", appendUnknown},
	{"AppendManyInOrderAllOrNothing", appendMany},
	{"UpdateManyOneVersionManyEvents", updateMany},
	{"EventsOfUnknownIsNotFound", eventsUnknown},
	{"ListNewestFirstOpenAndLimit", listOpenAll},
	{"CancelledContextIsRefused", cancelledContext},
}

func ctxOf(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newRequest(tenant string) *closure.Request {
	return &closure.Request{
		TenantID: tenant, TenantDomain: tenant + ".onmicrosoft.com", Requester: "U0ALICE",
		Reason: "offboarding <!channel> & co", Channel: "C0OPS",
		State: closure.StatePending, PlanDigest: "digest-1", ConfigDigest: "cfg-1",
	}
}

func ev(action string, at time.Time) closure.Event {
	return closure.Event{At: at, Actor: "U0ALICE", Action: closure.EventAction(action)}
}

func create(t *testing.T, s closure.Store, tenant string) *closure.Request {
	t.Helper()
	r, _, err := s.Create(ctxOf(t), newRequest(tenant), ev("open", T0))
	require.NoError(t, err)
	return r
}

// move updates r to state with one event and returns the stored request.
func move(t *testing.T, s closure.Store, r *closure.Request, state closure.State) *closure.Request {
	t.Helper()
	next := r.Clone()
	next.State = state
	got, _, err := s.Update(ctxOf(t), r.Expect(), next, ev("to."+string(state), T0.Add(time.Minute)))
	require.NoError(t, err)
	return got
}

func events(t *testing.T, s closure.Store, id string) []closure.Event {
	t.Helper()
	evs, err := s.Events(ctxOf(t), id)
	require.NoError(t, err)
	return evs
}

func createAssigns(t *testing.T, s closure.Store) {
	ctx := ctxOf(t)
	r1, e1, err := s.Create(ctx, newRequest("t1"), ev("open", T0))
	require.NoError(t, err)
	assert.Equal(t, "CT-1", r1.ID)
	assert.Equal(t, uint64(1), r1.Version)
	assert.Equal(t, closure.StatePending, r1.State)
	assert.True(t, r1.CreatedAt.Equal(T0), "CreatedAt defaults to the event's time")
	assert.True(t, r1.UpdatedAt.Equal(T0))
	assert.Equal(t, "t1", r1.TenantID)
	assert.Equal(t, "offboarding <!channel> & co", r1.Reason)

	assert.Equal(t, "CT-1", e1.Request)
	assert.Equal(t, uint64(1), e1.Seq)
	assert.Equal(t, uint64(1), e1.Version)
	assert.Equal(t, closure.StatePending, e1.To, "the opening event's To defaults to the state")
	assert.Equal(t, closure.EvOpen, e1.Action)

	r2, _, err := s.Create(ctx, newRequest("t2"), ev("open", T0))
	require.NoError(t, err)
	assert.Equal(t, "CT-2", r2.ID, "ids count up")

	got, err := s.Get(ctx, "CT-1")
	require.NoError(t, err)
	assert.Equal(t, r1, got)
	evs := events(t, s, "CT-1")
	require.Len(t, evs, 1)
	assert.Equal(t, closure.EvOpen, evs[0].Action)
	assert.Equal(t, uint64(1), evs[0].Seq)
}

func getReturnsACopy(t *testing.T, s closure.Store) {
	ctx := ctxOf(t)
	r := create(t, s, "t1")
	r.Reason = "changed by the caller"
	got, err := s.Get(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, "offboarding <!channel> & co", got.Reason, "the store shares no memory with its callers")
	got.Reason = "changed again"
	again, err := s.Get(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, "offboarding <!channel> & co", again.Reason)
}

func getUnknown(t *testing.T, s closure.Store) {
	ctx := ctxOf(t)
	create(t, s, "t1")
	for _, id := range []string{"CT-2", "CT-99", "CT-0", "nonsense", ""} {
		_, err := s.Get(ctx, id)
		assert.ErrorIs(t, err, closure.ErrNotFound, "Get(%q)", id)
	}
}

func updateCAS(t *testing.T, s closure.Store) {
	ctx := ctxOf(t)
	r := create(t, s, "t1")
	next := r.Clone()
	next.State = closure.StateApproved
	next.Reason = "approved text"
	at := T0.Add(time.Hour)
	got, e, err := s.Update(ctx, r.Expect(), next, ev("approve", at))
	require.NoError(t, err)
	assert.Equal(t, uint64(2), got.Version)
	assert.Equal(t, closure.StateApproved, got.State)
	assert.Equal(t, "approved text", got.Reason)
	assert.True(t, got.UpdatedAt.Equal(at), "UpdatedAt is the event's time")
	assert.True(t, got.CreatedAt.Equal(T0), "CreatedAt is kept")
	assert.Equal(t, uint64(2), e.Seq)
	assert.Equal(t, uint64(2), e.Version)
	assert.Equal(t, r.ID, e.Request)

	stored, err := s.Get(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, got, stored)

	// Every part of the expectation is compared: state, version, digest.
	stale := []closure.Expect{
		r.Expect(), // version 1: moved on
		{ID: r.ID, State: closure.StatePending, Version: 2, PlanDigest: "digest-1"},
		{ID: r.ID, State: closure.StateApproved, Version: 2, PlanDigest: "other"},
		{ID: r.ID, State: closure.StateApproved, Version: 3, PlanDigest: "digest-1"},
	}
	for _, x := range stale {
		n := got.Clone()
		n.State = closure.StateCancelled
		_, _, err := s.Update(ctx, x, n, ev("cancel", at))
		assert.ErrorIs(t, err, closure.ErrConflict, "expect %+v", x)
	}
	n := got.Clone()
	n.State = closure.StateCancelled
	final, _, err := s.Update(ctx, got.Expect(), n, ev("cancel", at))
	require.NoError(t, err)
	assert.Equal(t, uint64(3), final.Version)
}

func updateConflictWritesNothing(t *testing.T, s closure.Store) {
	ctx := ctxOf(t)
	r := create(t, s, "t1")
	r = move(t, s, r, closure.StateApproved)
	before := events(t, s, r.ID)
	next := r.Clone()
	next.State = closure.StateCancelled
	_, _, err := s.Update(ctx, closure.Expect{ID: r.ID, State: r.State, Version: r.Version - 1, PlanDigest: r.PlanDigest}, next, ev("cancel", T0))
	require.ErrorIs(t, err, closure.ErrConflict)
	got, err := s.Get(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, r, got, "a refused compare-and-set changes nothing")
	assert.Equal(t, before, events(t, s, r.ID), "and appends nothing")
	// The lock is still held: the refused update did not release it.
	_, _, err = s.Create(ctx, newRequest("t1"), ev("open", T0))
	assert.ErrorIs(t, err, closure.ErrTenantLocked)
}

func updateUnknown(t *testing.T, s closure.Store) {
	ctx := ctxOf(t)
	r := create(t, s, "t1")
	next := r.Clone()
	next.ID = "CT-9"
	_, _, err := s.Update(ctx, closure.Expect{ID: "CT-9", State: closure.StatePending, Version: 1, PlanDigest: "digest-1"}, next, ev("x", T0))
	assert.ErrorIs(t, err, closure.ErrNotFound)
}

func updateFillsStateChange(t *testing.T, s closure.Store) {
	r := create(t, s, "t1")
	next := r.Clone()
	next.State = closure.StateApproved
	_, e, err := s.Update(ctxOf(t), r.Expect(), next, ev("approve", T0))
	require.NoError(t, err)
	assert.Equal(t, closure.StatePending, e.From, "an event without From/To gets the state change")
	assert.Equal(t, closure.StateApproved, e.To)
	evs := events(t, s, r.ID)
	require.Len(t, evs, 2)
	assert.Equal(t, closure.StatePending, evs[1].From)
	assert.Equal(t, closure.StateApproved, evs[1].To)

	// Given explicitly, From/To are kept.
	got, err := s.Get(ctxOf(t), r.ID)
	require.NoError(t, err)
	next = got.Clone()
	next.State = closure.StateRunning
	x := ev("run", T0)
	x.From, x.To = closure.StateProving, closure.StateRunning
	_, e, err = s.Update(ctxOf(t), got.Expect(), next, x)
	require.NoError(t, err)
	assert.Equal(t, closure.StateProving, e.From)
}

func tenantLock(t *testing.T, s closure.Store) {
	ctx := ctxOf(t)
	r := create(t, s, "t1")
	_, _, err := s.Create(ctx, newRequest("t1"), ev("open", T0))
	require.ErrorIs(t, err, closure.ErrTenantLocked)
	assert.Contains(t, err.Error(), r.ID, "the error names the holder")

	// Moving between lock-holding states keeps the lock.
	r = move(t, s, r, closure.StateApproved)
	r = move(t, s, r, closure.StateRunning)
	_, _, err = s.Create(ctx, newRequest("t1"), ev("open", T0))
	require.ErrorIs(t, err, closure.ErrTenantLocked)

	// A terminal state releases it.
	move(t, s, r, closure.StateClosed)
	r2, _, err := s.Create(ctx, newRequest("t1"), ev("open", T0))
	require.NoError(t, err)
	assert.NotEqual(t, r.ID, r2.ID)

	// A refused Create used no id.
	assert.Equal(t, "CT-2", r2.ID)
}

func tenantLockPerTenant(t *testing.T, s closure.Store) {
	ctx := ctxOf(t)
	create(t, s, "t1")
	_, _, err := s.Create(ctx, newRequest("t2"), ev("open", T0))
	require.NoError(t, err, "another tenant is not locked")
	// A request created in a state that holds no lock takes none.
	done := newRequest("t3")
	done.State = closure.StateRejected
	_, _, err = s.Create(ctx, done, ev("open", T0))
	require.NoError(t, err)
	_, _, err = s.Create(ctx, newRequest("t3"), ev("open", T0))
	require.NoError(t, err)
}

// retakeFreeLock: a released request whose state holds the lock again (a
// restore) takes the tenant's lock if nobody holds it.
func retakeFreeLock(t *testing.T, s closure.Store) {
	ctx := ctxOf(t)
	r := create(t, s, "t1")
	r = move(t, s, r, closure.StateAborted)
	r = move(t, s, r, closure.StateRunning)
	assert.Equal(t, closure.StateRunning, r.State)
	_, _, err := s.Create(ctx, newRequest("t1"), ev("open", T0))
	require.ErrorIs(t, err, closure.ErrTenantLocked, "the lock is held again")
	assert.Contains(t, err.Error(), r.ID)
}

func retakeHeldLock(t *testing.T, s closure.Store) {
	ctx := ctxOf(t)
	r := create(t, s, "t1")
	r = move(t, s, r, closure.StateAborted)
	other := create(t, s, "t1")
	next := r.Clone()
	next.State = closure.StateRunning
	_, _, err := s.Update(ctx, r.Expect(), next, ev("restore", T0))
	require.ErrorIs(t, err, closure.ErrTenantLocked)
	assert.Contains(t, err.Error(), other.ID)
	got, err := s.Get(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, r, got, "nothing written")
}

func appendOrder(t *testing.T, s closure.Store) {
	ctx := ctxOf(t)
	r := create(t, s, "t1")
	other := create(t, s, "t2")
	r = move(t, s, r, closure.StateApproved)
	var want []string
	for i := range 5 {
		a := fmt.Sprintf("step.progress.%d", i)
		want = append(want, a)
		e, err := s.Append(ctx, closure.Event{Request: r.ID, At: T0.Add(time.Duration(i) * time.Second), Actor: "closebot", Action: closure.EventAction(a),
			Detail: map[string]string{"n": fmt.Sprint(i)}})
		require.NoError(t, err)
		assert.Equal(t, uint64(3+i), e.Seq)
		assert.Equal(t, r.Version, e.Version, "an appended event carries the current version")
		assert.Equal(t, r.ID, e.Request)
	}
	_, err := s.Append(ctx, closure.Event{Request: other.ID, At: T0, Action: "elsewhere"})
	require.NoError(t, err)

	got, err := s.Get(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, r, got, "Append changes no state or version")

	r = move(t, s, r, closure.StateRunning)
	evs := events(t, s, r.ID)
	require.Len(t, evs, 1+1+5+1)
	for i, e := range evs {
		assert.Equal(t, uint64(i+1), e.Seq, "seq runs 1, 2, 3... with no gap")
		assert.Equal(t, r.ID, e.Request)
	}
	var actions []string
	for _, e := range evs[2:7] {
		actions = append(actions, string(e.Action))
	}
	assert.Equal(t, want, actions, "read back in order")
	assert.Equal(t, closure.EvOpen, evs[0].Action)
	assert.Equal(t, closure.EventAction("to.running"), evs[7].Action)
	assert.Equal(t, uint64(3), evs[7].Version)
	assert.Equal(t, "2", evs[4].Detail["n"])
	assert.True(t, evs[3].At.Equal(T0.Add(time.Second)))
	assert.Len(t, events(t, s, other.ID), 2, "chains are per request")
}

func appendUnknown(t *testing.T, s closure.Store) {
	create(t, s, "t1")
	_, err := s.Append(ctxOf(t), closure.Event{Request: "CT-7", At: T0, Action: "x"})
	assert.ErrorIs(t, err, closure.ErrNotFound)
}

func eventsUnknown(t *testing.T, s closure.Store) {
	create(t, s, "t1")
	_, err := s.Events(ctxOf(t), "CT-7")
	assert.ErrorIs(t, err, closure.ErrNotFound)
}

func ids(rs []*closure.Request) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func listOpenAll(t *testing.T, s closure.Store) {
	ctx := ctxOf(t)
	all, err := s.List(ctx, false, 0)
	require.NoError(t, err)
	assert.Empty(t, all)

	r1 := create(t, s, "t1")
	create(t, s, "t2")
	r3 := create(t, s, "t3")
	create(t, s, "t4")
	move(t, s, r1, closure.StateCancelled)
	move(t, s, r3, closure.StateClosed)
	for i := 5; i <= 11; i++ { // past CT-9, so order is numeric, not by text
		create(t, s, fmt.Sprintf("t%d", i))
	}

	all, err = s.List(ctx, false, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"CT-11", "CT-10", "CT-9", "CT-8", "CT-7", "CT-6", "CT-5", "CT-4", "CT-3", "CT-2", "CT-1"}, ids(all), "newest first")
	open, err := s.List(ctx, true, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"CT-11", "CT-10", "CT-9", "CT-8", "CT-7", "CT-6", "CT-5", "CT-4", "CT-2"}, ids(open), "open: those holding a lock")

	some, err := s.List(ctx, false, 3)
	require.NoError(t, err)
	assert.Equal(t, []string{"CT-11", "CT-10", "CT-9"}, ids(some))
	for i := 5; i <= 11; i++ {
		r, err := s.Get(ctx, fmt.Sprintf("CT-%d", i))
		require.NoError(t, err)
		move(t, s, r, closure.StateRejected)
	}
	open, err = s.List(ctx, true, 1)
	require.NoError(t, err)
	assert.Equal(t, []string{"CT-4"}, ids(open), "the limit counts listed requests only")
	open, err = s.List(ctx, true, -1)
	require.NoError(t, err)
	assert.Equal(t, []string{"CT-4", "CT-2"}, ids(open), "limit <= 0: all")
	got, err := s.Get(ctx, "CT-4")
	require.NoError(t, err)
	assert.Equal(t, got, open[0], "List returns the stored requests")
}

func cancelledContext(t *testing.T, s closure.Store) {
	r := create(t, s, "t1")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Get(ctx, r.ID)
	assert.ErrorIs(t, err, context.Canceled)
	_, _, err = s.Create(ctx, newRequest("t2"), ev("open", T0))
	assert.ErrorIs(t, err, context.Canceled)
	_, err = s.List(ctx, false, 0)
	assert.ErrorIs(t, err, context.Canceled)
	next := r.Clone()
	next.State = closure.StateCancelled
	_, _, err = s.Update(ctx, r.Expect(), next, ev("cancel", T0))
	assert.ErrorIs(t, err, context.Canceled)
	_, err = s.Append(ctx, closure.Event{Request: r.ID, At: T0, Action: "x"})
	assert.ErrorIs(t, err, context.Canceled)
	_, err = s.Events(ctx, r.ID)
	assert.ErrorIs(t, err, context.Canceled)
	// Nothing happened.
	all, err := s.List(context.Background(), false, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{r.ID}, ids(all))
	assert.Len(t, events(t, s, r.ID), 1)
}

// updateKeepsIdentity: Update keeps the stored id, tenant and creation
// time; the caller may leave id and tenant empty.
func updateKeepsIdentity(t *testing.T, s closure.Store) {
	r := create(t, s, "t1")
	next := r.Clone()
	next.ID, next.TenantID = "", ""
	next.CreatedAt = T0.Add(-48 * time.Hour)
	next.State = closure.StateApproved
	got, _, err := s.Update(ctxOf(t), r.Expect(), next, ev("approve", T0.Add(time.Hour)))
	require.NoError(t, err)
	assert.Equal(t, r.ID, got.ID)
	assert.Equal(t, "t1", got.TenantID)
	assert.True(t, got.CreatedAt.Equal(T0), "CreatedAt is the stored one")
	_, _, err = s.Create(ctxOf(t), newRequest("t1"), ev("open", T0))
	require.ErrorIs(t, err, closure.ErrTenantLocked, "the lock is still the request's")
}

// appendMany: a batch of events (the intents of a batch of writes) lands
// in order with consecutive seqs and the current version, changing nothing
// else; a batch naming two requests is refused whole.
func appendMany(t *testing.T, s closure.Store) {
	ctx := ctxOf(t)
	r := create(t, s, "t1")
	other := create(t, s, "t2")
	r = move(t, s, r, closure.StateApproved)
	var batch []closure.Event
	for i := range 4 {
		batch = append(batch, closure.Event{Request: r.ID, At: T0.Add(time.Duration(i) * time.Second), Actor: "closebot",
			Action: closure.EvIntentDelUser, Detail: map[string]string{"id": fmt.Sprint("u", i)}})
	}
	got, err := s.AppendMany(ctx, batch)
	require.NoError(t, err)
	require.Len(t, got, 4)
	for i, e := range got {
		assert.Equal(t, uint64(3+i), e.Seq)
		assert.Equal(t, r.Version, e.Version)
		assert.Equal(t, fmt.Sprint("u", i), e.Detail["id"])
	}
	same, err := s.Get(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, r, same, "AppendMany changes no state or version")

	mixed := []closure.Event{{Request: r.ID, At: T0, Action: "a"}, {Request: other.ID, At: T0, Action: "b"}}
	_, err = s.AppendMany(ctx, mixed)
	require.Error(t, err)
	assert.Len(t, events(t, s, r.ID), 2+4, "nothing of a refused batch is stored")
	assert.Len(t, events(t, s, other.ID), 1)

	none, err := s.AppendMany(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, none)
}

// updateMany: one compare-and-set, the version moves by one, every event
// carries it, seqs run on; a stale expectation writes nothing.
func updateMany(t *testing.T, s closure.Store) {
	ctx := ctxOf(t)
	r := move(t, s, create(t, s, "t1"), closure.StateRunning)
	next := r.Clone()
	next.Steps = []closure.StepProgress{{Step: 1, Done: 3}}
	var batch []closure.Event
	for i := range 3 {
		batch = append(batch, closure.Event{At: T0.Add(time.Duration(i) * time.Second), Actor: "closebot",
			Action: closure.EvDeleteUser, Detail: map[string]string{"id": fmt.Sprint("u", i)}})
	}
	got, evs, err := s.UpdateMany(ctx, r.Expect(), next, batch)
	require.NoError(t, err)
	assert.Equal(t, r.Version+1, got.Version)
	assert.Equal(t, 3, got.Steps[0].Done)
	assert.True(t, got.UpdatedAt.Equal(T0.Add(2*time.Second)), "UpdatedAt is the last event's time")
	require.Len(t, evs, 3)
	for i, e := range evs {
		assert.Equal(t, uint64(3+i), e.Seq)
		assert.Equal(t, got.Version, e.Version)
		assert.Equal(t, r.ID, e.Request)
	}
	assert.Equal(t, evs, events(t, s, r.ID)[2:], "stored as returned")

	_, _, err = s.UpdateMany(ctx, r.Expect(), next, batch)
	require.ErrorIs(t, err, closure.ErrConflict)
	assert.Len(t, events(t, s, r.ID), 5, "a conflict writes nothing")
}
