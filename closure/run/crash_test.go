package run_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/closuretest"
)

// faultStore wraps the rig's MemStore: it can fail the next Update or
// UpdateMany (a disk error after a Graph write), run a hook after each
// Get, and play a tampered audit chain through Store.VerifyChain.
type faultStore struct {
	closure.Store
	mu         sync.Mutex
	failUpdate bool
	afterGet   func(*closure.Request)
	tampered   bool
	verified   int
}

func (f *faultStore) Update(ctx context.Context, expect closure.Expect, next *closure.Request, ev closure.Event) (*closure.Request, closure.Event, error) {
	f.mu.Lock()
	fail := f.failUpdate
	f.failUpdate = false
	f.mu.Unlock()
	if fail {
		return nil, ev, errors.New("disk full")
	}
	return f.Store.Update(ctx, expect, next, ev)
}

func (f *faultStore) UpdateMany(ctx context.Context, expect closure.Expect, next *closure.Request, evs []closure.Event) (*closure.Request, []closure.Event, error) {
	f.mu.Lock()
	fail := f.failUpdate
	f.failUpdate = false
	f.mu.Unlock()
	if fail {
		return nil, nil, errors.New("disk full")
	}
	return f.Store.UpdateMany(ctx, expect, next, evs)
}

func (f *faultStore) Get(ctx context.Context, id string) (*closure.Request, error) {
	r, err := f.Store.Get(ctx, id)
	f.mu.Lock()
	hook := f.afterGet
	f.mu.Unlock()
	if err == nil && hook != nil {
		hook(r)
	}
	return r, err
}

func (f *faultStore) VerifyChain(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.verified++
	if f.tampered {
		return fmt.Errorf("audit chain of %s broken at event 3: mac mismatch: %w", id, closure.ErrTampered)
	}
	return nil
}

func (f *faultStore) set(fn func(*faultStore)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func withFaultStore(rg *rig) *faultStore {
	fs := &faultStore{Store: rg.Store}
	rg.Svc.Store = fs
	return fs
}

// deletionRecords counts step.delete_user events per user id.
func deletionRecords(t *testing.T, rg *rig, id string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, ev := range rg.events(t, id) {
		if ev.Action == closure.EvDeleteUser {
			out[ev.Detail["id"]]++
		}
	}
	return out
}

// TestCrashBeforeWriteThenResumesRecordOnce: the process dies after the
// intent of a deletion is recorded but before Graph is called; the
// restarted runner deletes the user (a second intent) and records it.
// Later resumes must not record that deletion again: the first intent was
// superseded, not left without a completion.
func TestCrashBeforeWriteThenResumesRecordOnce(t *testing.T) {
	rg := newRig(t, defaultSeed())
	r := rg.openApproved(t)
	rg.toSteps(t, r.ID)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	rg.dir.BeforeWrite = func(w closuretest.Write) error {
		if w.Op == "delete_user" {
			if n++; n == 5 {
				cancel() // dies between the intent and the DELETE
				return ctx.Err()
			}
		}
		return nil
	}
	_, err := rg.runner.Advance(ctx, r.ID)
	require.ErrorIs(t, err, context.Canceled)
	rg.dir.BeforeWrite = nil

	rg.runner = rg.newRunner() // restart
	r = rg.drive(t, r.ID, atStep(2, closure.StateGate, closure.StateRunning))
	for range 2 { // two more restarts (or pause/resume): reconcile runs each time
		rg.runner = rg.newRunner()
		_, err = rg.runner.Advance(context.Background(), r.ID)
		require.NoError(t, err)
	}
	r = rg.get(t, r.ID)
	deleted := writesOf(rg.dir.Writes(), "delete_user")
	recorded := deletionRecords(t, rg, r.ID)
	for _, w := range deleted {
		assert.Equal(t, 1, recorded[w.ID], "%s recorded once", w.ID)
	}
	assert.Equal(t, len(deleted), r.StepAt(1).Done)
	assert.Equal(t, len(deleted), r.Done.DeletedUsers+len(r.Done.DeletedPrivileged))
}

// TestRefusedDeletionRetriedAtGateRecordedOnce: a restricted-unit member's
// deletion is refused (intent, no completion), retried by the gate's
// re-check (intent, completion); a resume must not record it again.
func TestRefusedDeletionRetriedAtGateRecordedOnce(t *testing.T) {
	seed := defaultSeed()
	seed.Restricted = 2
	rg := newRig(t, seed)
	r := rg.openApproved(t)
	rg.toSteps(t, r.ID)
	r = rg.drive(t, r.ID, atStep(1, closure.StateGate))
	for i := 1; i <= 2; i++ {
		rg.dir.RemoveFromUnits(closuretest.UserID("restricted", i))
	}
	r = rg.drive(t, r.ID, atStep(2, closure.StateGate, closure.StateRunning))
	rg.runner = rg.newRunner() // restart
	_, err := rg.runner.Advance(context.Background(), r.ID)
	require.NoError(t, err)
	recorded := deletionRecords(t, rg, r.ID)
	for i := 1; i <= 2; i++ {
		assert.Equal(t, 1, recorded[closuretest.UserID("restricted", i)], "restricted%d recorded once", i)
	}
	assert.Equal(t, len(writesOf(rg.dir.Writes(), "delete_user")), rg.get(t, r.ID).StepAt(1).Done)
}

// TestCommitFailureAfterWriteRecordedBeforeNextWrite: the store refuses the
// record of deletions Graph made (disk full; completions are group-
// committed, so the refused group is whatever answered since the last
// commit). The same Run retries: those deletions must be recorded
// (reconciled) before the step goes on, not only after a restart, and
// they do not count as drift.
func TestCommitFailureAfterWriteRecordedBeforeNextWrite(t *testing.T) {
	rg := newRig(t, defaultSeed())
	r := rg.openApproved(t)
	rg.toSteps(t, r.ID)
	fs := withFaultStore(rg)
	n := 0
	rg.dir.AfterWrite = func(w closuretest.Write) {
		if w.Op == "delete_user" {
			if n++; n == 5 {
				fs.set(func(f *faultStore) { f.failUpdate = true })
			}
		}
	}
	_, err := rg.runner.Advance(context.Background(), r.ID)
	require.Error(t, err)
	rg.dir.AfterWrite = nil
	recorded := deletionRecords(t, rg, r.ID)
	var lost []string
	for _, w := range writesOf(rg.dir.Writes(), "delete_user") {
		if recorded[w.ID] == 0 {
			lost = append(lost, w.ID)
		}
	}
	require.NotEmpty(t, lost, "the refused group's deletions are unrecorded")

	// The same Run goes on (no restart).
	r = rg.drive(t, r.ID, atStep(2, closure.StateGate, closure.StateRunning))
	recorded = deletionRecords(t, rg, r.ID)
	for _, id := range lost {
		assert.Equal(t, 1, recorded[id], "the lost record of %s is made on the retry", id)
	}
	assert.Equal(t, len(writesOf(rg.dir.Writes(), "delete_user")), r.StepAt(1).Done)
	assert.NotEqual(t, closure.StatePending, r.State)
}

// TestTamperedChainStopsWork: DESIGN §7, the chain is verified before every
// resume; a mismatch stops all work on that request and says so.
func TestTamperedChainStopsWork(t *testing.T) {
	rg := newRig(t, defaultSeed())
	r := rg.openApproved(t)
	rg.toSteps(t, r.ID)
	fs := withFaultStore(rg)
	fs.set(func(f *faultStore) { f.tampered = true })

	rg.runner = rg.newRunner() // a restart
	rg.runner.After = func(time.Duration) <-chan time.Time {
		t.Fatal("a tampered request must not wait for a retry")
		return nil
	}
	err := rg.runner.Run(context.Background(), r.ID)
	require.ErrorIs(t, err, closure.ErrTampered)
	assert.Empty(t, rg.dir.Writes(), "nothing written")
	assert.Equal(t, closure.StateWaitingWindow, rg.get(t, r.ID).State, "no state change either")
	var notices []closuretest.Report
	for _, rp := range rg.Rep.Reports() {
		if rp.Kind == "announce" {
			notices = append(notices, rp)
		}
	}
	require.Len(t, notices, 1)
	assert.Equal(t, "C0OPS", notices[0].Channel)
	assert.Contains(t, notices[0].Message, r.ID)
	assert.Contains(t, notices[0].Message, "does not verify")

	// A chain that verifies again (restored from backup) runs.
	fs.set(func(f *faultStore) { f.tampered = false })
	_, err = rg.runner.Advance(context.Background(), r.ID)
	require.NoError(t, err)
	assert.NotEmpty(t, rg.dir.Writes())
}

// TestTamperedChainStopsPurge: the chain is verified again right before
// the irreversible purge (it names the objects to purge).
func TestTamperedChainStopsPurge(t *testing.T) {
	ctx := context.Background()
	rg := newRig(t, defaultSeed())
	r := toDeleteTenantGate(t, rg)
	fs := withFaultStore(rg)
	_, _, err := rg.Svc.Purge(ctx, person(dave), r.ID, closure.Typed)
	require.NoError(t, err)
	fs.set(func(f *faultStore) { f.tampered = true })
	rg.Clock.Advance(time.Hour)
	_, err = rg.runner.Advance(ctx, r.ID)
	require.ErrorIs(t, err, closure.ErrTampered)
	assert.Empty(t, writesOf(rg.dir.Writes(), "purge"))
	assert.NotNil(t, rg.get(t, r.ID).PurgeRequested)
}

// TestResumeWhileRunStopsIsNotLost: a Resume (and the bot's Run call)
// landing while the previous Run is returning because it saw the pause
// must not be dropped: the request would sit in running with no Run.
func TestResumeWhileRunStopsIsNotLost(t *testing.T) {
	ctx := context.Background()
	rg := newRig(t, defaultSeed())
	r := rg.openApproved(t)
	rg.toSteps(t, r.ID)
	_, _, err := rg.Svc.Pause(ctx, person(alice), r.ID)
	require.NoError(t, err)
	fs := withFaultStore(rg)
	fired := false
	fs.set(func(f *faultStore) {
		f.afterGet = func(q *closure.Request) {
			if q.State != closure.StatePaused || fired {
				return
			}
			fired = true
			_, _, err := rg.Svc.Resume(ctx, person(bob), r.ID, closure.Typed)
			require.NoError(t, err)
			require.NoError(t, rg.runner.Run(ctx, r.ID), "the second Run only wakes the first")
		}
	})
	runCtx := cancelWhen(t, rg, r.ID)
	if err := rg.runner.Run(runCtx, r.ID); err != nil {
		require.ErrorIs(t, err, context.Canceled)
	}
	require.True(t, fired)
	r = rg.get(t, r.ID)
	assert.Contains(t, []closure.State{closure.StateRunning, closure.StateGate}, r.State)
	assert.NotEmpty(t, writesOf(rg.dir.Writes(), "delete_user"), "the resumed request ran")
}

// TestKeptAdminDisabledAfterConfirmation: step 5's confirmation can come
// days after the final checks; a kept admin disabled meanwhile is not plan
// drift, so it is re-checked right before the deletions.
func TestKeptAdminDisabledAfterConfirmation(t *testing.T) {
	ctx := context.Background()
	rg := newRig(t, defaultSeed())
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
	rg.dir.UpdateUser(closuretest.KeepID, func(u *closure.User) { u.Enabled = false })
	_, _, err = rg.Svc.Confirm(ctx, person(dave), r.ID, r.Version)
	require.NoError(t, err)
	r = rg.drive(t, r.ID, func(r *closure.Request) bool { return r.State != closure.StateRunning })
	// The drift check right before the deletions re-runs the preflight
	// items: a disabled kept admin sends the request back for approval.
	assert.Equal(t, closure.StatePending, r.State)
	assert.Contains(t, strings.Join(r.DriftLines, "\n"), "disabled")
	assert.Empty(t, writesOf(rg.dir.Writes(), "delete_app"))
	assert.Empty(t, writesOf(rg.dir.Writes(), "delete_sp"))
}

// TestCrashDuringRestoreRecordsEveryRestore: the process dies after Graph
// restored a user but before the restore was recorded; the resumed Restore
// records it (it is no longer in deleted items, so it is not restored
// again) and restores the rest.
func TestCrashDuringRestoreRecordsEveryRestore(t *testing.T) {
	rg := newRig(t, defaultSeed())
	r := rg.openApproved(t)
	rg.toSteps(t, r.ID)
	n := 0
	rg.dir.BeforeWrite = func(w closuretest.Write) error {
		if w.Op == "delete_user" {
			if n++; n == 6 {
				_, _, err := rg.Svc.Abort(context.Background(), person(bob), r.ID)
				require.NoError(t, err)
			}
		}
		return nil
	}
	_, err := rg.runner.Advance(context.Background(), r.ID)
	require.NoError(t, err)
	rg.dir.BeforeWrite = nil
	deleted := rg.dir.DeletedIDs()
	require.Len(t, deleted, 6)
	_, _, err = rg.Svc.Restore(context.Background(), person(bob), r.ID, closure.Typed)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	m := 0
	rg.dir.AfterWrite = func(w closuretest.Write) {
		if w.Op == "restore_user" {
			if m++; m == 2 {
				cancel()
			}
		}
	}
	_, err = rg.runner.Advance(ctx, r.ID)
	require.ErrorIs(t, err, context.Canceled)
	rg.dir.AfterWrite = nil

	rg.runner = rg.newRunner() // restart
	_, err = rg.runner.Advance(context.Background(), r.ID)
	require.NoError(t, err)
	restores := writesOf(rg.dir.Writes(), "restore_user")
	assert.Len(t, restores, 6, "each user restored once")
	recorded := map[string]int{}
	var done closure.Event
	for _, ev := range rg.events(t, r.ID) {
		switch ev.Action {
		case "restore.user":
			recorded[ev.Detail["id"]]++
		case "restore.done":
			done = ev
		}
	}
	for _, w := range restores {
		assert.Equal(t, 1, recorded[w.ID], "%s recorded once", w.ID)
	}
	assert.Equal(t, "6", done.Detail["restored"])
	assert.Empty(t, rg.dir.DeletedIDs())
}
