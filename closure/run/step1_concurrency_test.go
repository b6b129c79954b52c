package run_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/closuretest"
	"github.com/closebot/closebot/closure/pace"
)

// Step 1 deletes ordinary users in parallel under the pacer. These tests
// pin what concurrency must not change: each user deleted and recorded
// once, every write after its intent, exact counts, a pause or a crash
// stopping at a safe point.

const parallel = 8

// newParallelRig is a rig whose runner keeps parallel deletions in flight
// (the fake clock shows no latency, so Little's law alone would give one)
// and whose waits advance the fake clock.
func newParallelRig(t *testing.T, members int) *rig {
	t.Helper()
	seed := defaultSeed()
	seed.Members, seed.SyncEnabled, seed.Synced = members, false, 0
	rg := newRig(t, seed)
	rg.runner.Pacing = pace.Settings{MinInFlight: parallel, MaxInFlight: parallel}
	rg.runner.After = func(d time.Duration) <-chan time.Time {
		rg.Clock.Advance(d)
		ch := make(chan time.Time, 1)
		ch <- rg.Clock.Now()
		return ch
	}
	return rg
}

// concurrency tracks how many deletions Graph sees at once.
type concurrency struct {
	mu       sync.Mutex
	now, max int
	started  int
}

// enter is BeforeWrite's part: one more deletion at Graph for a moment;
// at, if set, runs first with the deletion's number (from 1).
func (c *concurrency) enter(at func(n int)) {
	c.mu.Lock()
	c.now++
	c.started++
	c.max = max(c.max, c.now)
	n := c.started
	c.mu.Unlock()
	if at != nil {
		at(n)
	}
	time.Sleep(2 * time.Millisecond) // the call takes a while: others overlap it
	c.mu.Lock()
	c.now--
	c.mu.Unlock()
}

func (c *concurrency) peak() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.max
}

// requireEachDeletedAndRecordedOnce checks the end state of step 1: only
// the kept admin and the users it never deletes itself are left, every
// deletion reached Graph once and was recorded once, and the counters
// agree with the log.
func requireEachDeletedAndRecordedOnce(t *testing.T, rg *rig, id string) {
	t.Helper()
	deletes := map[string]int{}
	for _, w := range writesOf(rg.dir.Writes(), "delete_user") {
		deletes[w.ID]++
	}
	recorded := deletionRecords(t, rg, id)
	for u, n := range deletes {
		assert.Equal(t, 1, n, "%s deleted once", u)
		assert.Equal(t, 1, recorded[u], "%s recorded once", u)
	}
	assert.Len(t, recorded, len(deletes), "no record without a deletion")
	r := rg.get(t, id)
	assert.Equal(t, len(deletes), r.StepAt(1).Done)
	assert.Equal(t, len(deletes), r.Done.DeletedUsers+len(r.Done.DeletedPrivileged))
}

// TestParallelDeletionKeepsTheInvariants: 250 users deleted with eight in
// flight: each once, each after its intent is stored, counts exact, the
// progress reported a few times, not once per user.
func TestParallelDeletionKeepsTheInvariants(t *testing.T) {
	ctx := context.Background()
	rg := newParallelRig(t, 250)
	r := rg.openApproved(t)
	rg.toSteps(t, r.ID)
	var c concurrency
	var mu sync.Mutex
	var missingIntent []string
	rg.dir.BeforeWrite = func(w closuretest.Write) error {
		if w.Op != "delete_user" {
			return nil
		}
		evs, err := rg.Store.Events(ctx, r.ID)
		require.NoError(t, err)
		intended := false
		for _, ev := range evs {
			if ev.Action == closure.EvIntentDelUser && ev.Detail["id"] == w.ID {
				intended = true
			}
		}
		if !intended {
			mu.Lock()
			missingIntent = append(missingIntent, w.ID)
			mu.Unlock()
		}
		c.enter(nil)
		return nil
	}
	r = rg.drive(t, r.ID, atStep(2, closure.StateGate, closure.StateRunning))
	assert.Empty(t, missingIntent, "a deletion reached Graph before its intent was stored")
	assert.Greater(t, c.peak(), 1, "deletions overlapped")
	assert.LessOrEqual(t, c.peak(), parallel, "never more in flight than the pacer allows")
	assert.Equal(t, []string{closuretest.KeepID}, rg.dir.UserIDs())
	requireEachDeletedAndRecordedOnce(t, rg, r.ID)

	steps := 0
	for _, rep := range rg.Rep.Reports() {
		if rep.Kind == "step" && rep.Step.Step == 1 {
			steps++
		}
	}
	assert.Less(t, steps, 20, "progress is coalesced, not reported per user")
	st := rg.runner.Pacer().Stats()
	assert.Equal(t, len(writesOf(rg.dir.Writes(), "delete_user")), st.Attempts, "one token per write")
}

// TestParallelPauseStopsNewWrites: a pause stored while deletions are in
// flight lets those finish (and records them) but starts no other; the
// intents recorded for users never sent are withdrawn; resumed, the step
// deletes the rest, each user once.
func TestParallelPauseStopsNewWrites(t *testing.T) {
	ctx := context.Background()
	rg := newParallelRig(t, 250)
	r := rg.openApproved(t)
	rg.toSteps(t, r.ID)
	var c concurrency
	rg.dir.BeforeWrite = func(w closuretest.Write) error {
		if w.Op == "delete_user" {
			c.enter(func(n int) {
				if n == 20 {
					_, _, err := rg.Svc.Pause(ctx, person(alice), r.ID)
					require.NoError(t, err)
				}
			})
		}
		return nil
	}
	w, err := rg.runner.Advance(ctx, r.ID)
	require.NoError(t, err)
	assert.True(t, w.Stop)
	r = rg.get(t, r.ID)
	require.Equal(t, closure.StatePaused, r.State)
	n := len(writesOf(rg.dir.Writes(), "delete_user"))
	assert.GreaterOrEqual(t, n, 20)
	assert.LessOrEqual(t, n, 20+parallel-1, "only the writes already past their safe point")
	assert.Equal(t, n, r.StepAt(1).Done, "every answered deletion is recorded")
	unsent := 0
	for _, ev := range rg.events(t, r.ID) {
		if ev.Action == closure.EvIntentUnsent {
			unsent++
		}
	}
	assert.LessOrEqual(t, unsent, 1)

	_, err = rg.runner.Advance(ctx, r.ID)
	require.NoError(t, err)
	assert.Len(t, writesOf(rg.dir.Writes(), "delete_user"), n, "nothing while paused")

	_, _, err = rg.Svc.Resume(ctx, person(alice), r.ID, closure.Typed)
	require.NoError(t, err)
	rg.dir.BeforeWrite = nil
	rg.drive(t, r.ID, atStep(2, closure.StateGate, closure.StateRunning))
	assert.Equal(t, []string{closuretest.KeepID}, rg.dir.UserIDs())
	requireEachDeletedAndRecordedOnce(t, rg, r.ID)
}

// TestParallelThrottledWritesRetriedThroughThePacer: Graph answers 429
// with Retry-After and the write quota's scope; the executor retries each
// throttled deletion through the pacer (each retry takes a token) and the
// step ends with no failure.
func TestParallelThrottledWritesRetriedThroughThePacer(t *testing.T) {
	rg := newParallelRig(t, 120)
	r := rg.openApproved(t)
	rg.toSteps(t, r.ID)
	var mu sync.Mutex
	attempts, throttled := 0, 0
	rg.dir.BeforeWrite = func(w closuretest.Write) error {
		if w.Op != "delete_user" {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		attempts++
		if attempts%10 == 0 {
			throttled++
			return &closure.APIError{Status: http.StatusTooManyRequests, Code: "TooManyRequests", Message: "Please retry again later.",
				RetryAfter: 2 * time.Second, ThrottleScope: "Tenant_Application/Write/" + closebotApp + "/" + tenantID, LimitPercentage: 1.0,
				Op: "delete user " + w.ID}
		}
		return nil
	}
	start := rg.Clock.Now()
	r = rg.drive(t, r.ID, atStep(2, closure.StateGate, closure.StateRunning))
	assert.Empty(t, r.FailReason)
	assert.Equal(t, []string{closuretest.KeepID}, rg.dir.UserIDs())
	requireEachDeletedAndRecordedOnce(t, rg, r.ID)
	st := rg.runner.Pacer().Stats()
	assert.Equal(t, throttled, st.Throttled)
	assert.Equal(t, attempts, st.Attempts, "every attempt, retries included, took a token")
	assert.GreaterOrEqual(t, rg.Clock.Now().Sub(start), 2*time.Second, "Retry-After was waited")
}

// TestParallelCrashMidGroupRecovers: the record of a group of answered
// deletions fails (disk full) while others are in flight; the step stops,
// and the same Run reconciles the unrecorded deletions before going on:
// nothing deleted twice, nothing recorded twice or skipped.
func TestParallelCrashMidGroupRecovers(t *testing.T) {
	rg := newParallelRig(t, 250)
	r := rg.openApproved(t)
	rg.toSteps(t, r.ID)
	fs := withFaultStore(rg)
	var c concurrency
	rg.dir.BeforeWrite = func(w closuretest.Write) error {
		if w.Op == "delete_user" {
			c.enter(func(n int) {
				if n == 60 {
					fs.set(func(f *faultStore) { f.failUpdate = true })
				}
			})
		}
		return nil
	}
	_, err := rg.runner.Advance(context.Background(), r.ID)
	require.Error(t, err)
	stopped := rg.get(t, r.ID)
	assert.Less(t, stopped.StepAt(1).Done, len(writesOf(rg.dir.Writes(), "delete_user")), "a group's records were lost")
	rg.dir.BeforeWrite = nil

	r = rg.drive(t, r.ID, atStep(2, closure.StateGate, closure.StateRunning))
	assert.Equal(t, []string{closuretest.KeepID}, rg.dir.UserIDs())
	requireEachDeletedAndRecordedOnce(t, rg, r.ID)
}
