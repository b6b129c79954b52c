package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

func ctx() context.Context { return context.Background() }

func TestCreateGetListUpdate(t *testing.T) {
	db := openAt(t, testPath(t))

	r1, ev1, err := db.Create(ctx(), newRequest("tenant-a"), event("open"))
	require.NoError(t, err)
	assert.Equal(t, "CT-1", r1.ID)
	assert.Equal(t, uint64(1), r1.Version)
	assert.Equal(t, t0, r1.CreatedAt)
	assert.Equal(t, t0, r1.UpdatedAt)
	assert.Equal(t, "CT-1", ev1.Request)
	assert.Equal(t, uint64(1), ev1.Seq)
	assert.Equal(t, uint64(1), ev1.Version)
	assert.Equal(t, closure.StatePending, ev1.To)
	assert.Len(t, ev1.MAC, 64)

	got, err := db.Get(ctx(), "CT-1")
	require.NoError(t, err)
	assert.Equal(t, r1, got)
	assert.Equal(t, "offboarding <!channel> & co", got.Reason)

	r2 := createOne(t, db, "tenant-b")
	assert.Equal(t, "CT-2", r2.ID)

	all, err := db.List(ctx(), false, 0)
	require.NoError(t, err)
	require.Len(t, all, 2)
	assert.Equal(t, []string{"CT-2", "CT-1"}, []string{all[0].ID, all[1].ID}, "newest first")
	one, err := db.List(ctx(), false, 1)
	require.NoError(t, err)
	require.Len(t, one, 1)
	assert.Equal(t, "CT-2", one[0].ID)

	next := *r1
	next.State = closure.StateApproved
	later := t0.Add(time.Minute)
	ev := closure.Event{At: later, Actor: "U0BOB", Action: "approve", Groups: []string{"S0SECLEAD"},
		Detail: map[string]string{"z": "last", "a": "first"}}
	up, upEv, err := db.Update(ctx(), expectOf(r1), &next, ev)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), up.Version)
	assert.Equal(t, closure.StateApproved, up.State)
	assert.Equal(t, later, up.UpdatedAt)
	assert.Equal(t, t0, up.CreatedAt)
	assert.Equal(t, uint64(2), upEv.Seq)
	assert.Equal(t, uint64(2), upEv.Version)
	assert.Equal(t, closure.StatePending, upEv.From, "store fills From/To of a state change")
	assert.Equal(t, closure.StateApproved, upEv.To)

	got, err = db.Get(ctx(), "CT-1")
	require.NoError(t, err)
	assert.Equal(t, up, got)

	evs, err := db.Events(ctx(), "CT-1")
	require.NoError(t, err)
	require.Len(t, evs, 2)
	assert.Equal(t, ev1, evs[0])
	assert.Equal(t, upEv, evs[1])

	_, err = db.Get(ctx(), "CT-9")
	assert.ErrorIs(t, err, closure.ErrNotFound)
	_, err = db.Get(ctx(), "ct-1")
	assert.ErrorIs(t, err, closure.ErrNotFound)
	_, err = db.Events(ctx(), "CT-9")
	assert.ErrorIs(t, err, closure.ErrNotFound)
}

func TestAppendKeepsStateAndVersion(t *testing.T) {
	db := openAt(t, testPath(t))
	r := createOne(t, db, "tenant-a")
	ev := event("step.delete_user")
	ev.Request = r.ID
	ev.Actor = "closebot"
	ev.Detail = map[string]string{"user": "u1@contoso.onmicrosoft.com"}
	got, err := db.Append(ctx(), ev)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), got.Seq)
	assert.Equal(t, uint64(1), got.Version)

	after, err := db.Get(ctx(), r.ID)
	require.NoError(t, err)
	assert.Equal(t, r, after, "Append changes no request field")

	ev.Request = "CT-7"
	_, err = db.Append(ctx(), ev)
	assert.ErrorIs(t, err, closure.ErrNotFound)
}

func TestUpdateConflictWritesNothing(t *testing.T) {
	db := openAt(t, testPath(t))
	r := createOne(t, db, "tenant-a")
	next := *r
	next.State = closure.StateCancelled // would release the lock if written

	good := expectOf(r)
	cases := map[string]closure.Expect{
		"wrong version": {ID: good.ID, State: good.State, Version: good.Version + 1, PlanDigest: good.PlanDigest},
		"wrong state":   {ID: good.ID, State: closure.StateApproved, Version: good.Version, PlanDigest: good.PlanDigest},
		"wrong digest":  {ID: good.ID, State: good.State, Version: good.Version, PlanDigest: "digest-2"},
	}
	for name, exp := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := db.Update(ctx(), exp, &next, event("cancel"))
			require.ErrorIs(t, err, closure.ErrConflict)

			got, err := db.Get(ctx(), r.ID)
			require.NoError(t, err)
			assert.Equal(t, r, got)
			evs, err := db.Events(ctx(), r.ID)
			require.NoError(t, err)
			assert.Len(t, evs, 1)
			_, _, err = db.Create(ctx(), newRequest("tenant-a"), event("open"))
			assert.ErrorIs(t, err, closure.ErrTenantLocked, "lock still held")
		})
	}
	next.ID = ""
	_, _, err := db.Update(ctx(), closure.Expect{ID: "CT-5"}, &next, event("cancel"))
	assert.ErrorIs(t, err, closure.ErrNotFound)
}

func TestRacingUpdatesExactlyOneWins(t *testing.T) {
	db := openAt(t, testPath(t))
	r := createOne(t, db, "tenant-a")
	const n = 16
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		wins      int
		conflicts int
	)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := *r
			next.State = closure.StateApproved
			next.Reason = "racer"
			ev := event("approve")
			ev.Actor = "U" + string(rune('A'+i))
			<-start
			_, _, err := db.Update(ctx(), expectOf(r), &next, ev)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case assert.ErrorIs(t, err, closure.ErrConflict):
				conflicts++
			}
		}()
	}
	close(start)
	wg.Wait()
	assert.Equal(t, 1, wins)
	assert.Equal(t, n-1, conflicts)
	evs, err := db.Events(ctx(), r.ID)
	require.NoError(t, err)
	assert.Len(t, evs, 2)
	got, err := db.Get(ctx(), r.ID)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), got.Version)
}

func TestTenantLock(t *testing.T) {
	db := openAt(t, testPath(t))
	r1 := createOne(t, db, "tenant-a")

	_, _, err := db.Create(ctx(), newRequest("tenant-a"), event("open"))
	require.ErrorIs(t, err, closure.ErrTenantLocked)
	assert.Contains(t, err.Error(), "CT-1", "the holder is named")

	r2 := createOne(t, db, "tenant-b")
	assert.Equal(t, "CT-2", r2.ID, "a refused create uses no number")

	// A non-terminal move keeps the lock.
	next := *r1
	next.State = closure.StateRunning
	r1, _, err = db.Update(ctx(), expectOf(r1), &next, event("run"))
	require.NoError(t, err)
	_, _, err = db.Create(ctx(), newRequest("tenant-a"), event("open"))
	require.ErrorIs(t, err, closure.ErrTenantLocked)

	open, err := db.List(ctx(), true, 0)
	require.NoError(t, err)
	assert.Len(t, open, 2)

	// Each terminal state releases it.
	for _, terminal := range []closure.State{closure.StateAborted, closure.StateClosed, closure.StateRejected, closure.StateCancelled, closure.StateExpired} {
		t.Run(string(terminal), func(t *testing.T) {
			r := createOne(t, db, "tenant-"+string(terminal))
			next := *r
			next.State = terminal
			_, _, err := db.Update(ctx(), expectOf(r), &next, event(closure.EventAction(terminal)))
			require.NoError(t, err)
			again := createOne(t, db, "tenant-"+string(terminal))
			assert.NotEqual(t, r.ID, again.ID)
		})
	}

	next = *r1
	next.State = closure.StateAborted
	_, _, err = db.Update(ctx(), expectOf(r1), &next, event("abort"))
	require.NoError(t, err)
	r3 := createOne(t, db, "tenant-a")

	// Coming back to a lock-holding state while another request holds the
	// tenant is refused (e.g. a restore after a new request opened).
	aborted, err := db.Get(ctx(), r1.ID)
	require.NoError(t, err)
	back := *aborted
	back.State = closure.StateRunning
	_, _, err = db.Update(ctx(), expectOf(aborted), &back, event("restore"))
	require.ErrorIs(t, err, closure.ErrTenantLocked)
	assert.Contains(t, err.Error(), r3.ID)

	open, err = db.List(ctx(), true, 0)
	require.NoError(t, err)
	var ids []string
	for _, r := range open {
		ids = append(ids, r.ID)
	}
	assert.Contains(t, ids, r3.ID)
	assert.NotContains(t, ids, r1.ID)
}

func TestUpdateKeepsIdentity(t *testing.T) {
	db := openAt(t, testPath(t))
	r := createOne(t, db, "tenant-a")
	next := *r
	next.TenantID = "tenant-z"
	_, _, err := db.Update(ctx(), expectOf(r), &next, event("edit"))
	require.ErrorIs(t, err, ErrInvalid)

	next = *r
	next.ID = "CT-2"
	_, _, err = db.Update(ctx(), expectOf(r), &next, event("edit"))
	require.ErrorIs(t, err, ErrInvalid)

	next = *r
	next.ID = "" // filled from the expectation
	next.CreatedAt = t0.Add(time.Hour)
	up, _, err := db.Update(ctx(), expectOf(r), &next, event("edit"))
	require.NoError(t, err)
	assert.Equal(t, r.ID, up.ID)
	assert.Equal(t, r.CreatedAt, up.CreatedAt)
}

func TestCancelledContext(t *testing.T) {
	db := openAt(t, testPath(t))
	c, cancel := context.WithCancel(ctx())
	cancel()
	_, _, err := db.Create(c, newRequest("tenant-a"), event("open"))
	require.ErrorIs(t, err, context.Canceled)
	_, err = db.List(ctx(), false, 0)
	require.NoError(t, err)
}
