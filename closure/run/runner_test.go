package run_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/closuretest"
)

// TestFullClosure drives a whole closure with the test playing the humans:
// proof, the restricted-unit gate, billing actions, attestations, the
// point-of-no-return confirmation, purge and the tenant's deletion.
func TestFullClosure(t *testing.T) {
	ctx := context.Background()
	seed := defaultSeed()
	seed.Restricted = 2
	rg := newRig(t, seed)
	r := rg.openApproved(t)
	rg.toSteps(t, r.ID)
	signins := 0
	for _, rep := range rg.Rep.Reports() {
		if rep.Kind == "signin" {
			signins++
			assert.Equal(t, carol, rep.UserID)
			assert.Contains(t, rep.Message, "ABCD-EFGH")
		}
	}
	assert.Equal(t, 1, signins)

	// Step 1 runs; restricted-unit members are refused and gated.
	r = rg.drive(t, r.ID, atStep(1, closure.StateGate))
	gates := r.BlockingGates()
	require.Len(t, gates, 1)
	assert.Equal(t, closure.GateRestrictedAdminUnit, gates[0].Kind)
	assert.Contains(t, gates[0].Params["users"], "restricted1@contoso.com")
	assert.Equal(t, "Executives", gates[0].Params["units"])
	// Billing gates opened when execution started.
	for _, id := range []string{"2.direct", "2.csp", "2.azure", "3.delete"} {
		_, ok := r.Gate(id)
		assert.True(t, ok, "gate %s", id)
	}
	csp, _ := r.Gate("2.csp")
	assert.Equal(t, closuretest.PartnerTenant, csp.Params["partners"])
	assert.False(t, csp.ETA.IsZero(), "ETA from nextLifecycleDateTime")
	in := closure.InstructionFor(csp)
	assert.Contains(t, strings.Join(in.Steps, " "), "Partner Center")

	// The human removes them from the unit; the re-check deletes them.
	for i := 1; i <= 2; i++ {
		rg.dir.RemoveFromUnits(closuretest.UserID("restricted", i))
	}
	r = rg.drive(t, r.ID, atStep(2, closure.StateGate, closure.StateRunning))
	assert.Equal(t, []string{closuretest.KeepID}, rg.dir.UserIDs(), "only the kept admin remains")
	assert.Equal(t, closure.StepDone, r.StepAt(1).Status)

	// Step 2: the humans cancel, the partner cancels, MCA runs out; attest Azure.
	rg.dir.SetSubscription("sub-direct", "Suspended", rg.Clock.Now().AddDate(0, 0, 90))
	rg.dir.SetSubscription("sub-csp", "Suspended", rg.Clock.Now().AddDate(0, 0, 90))
	rg.dir.SetSubscription("sub-mca", "Suspended", rg.Clock.Now().AddDate(0, 0, 90))
	_, _, err := rg.Svc.Attest(ctx, person(carol), r.ID, "2.azure", closure.SentenceNoAzure)
	require.NoError(t, err)
	r = rg.drive(t, r.ID, atStep(3, closure.StateGate, closure.StateRunning))

	// Step 3: subscriptions deleted (one disappears entirely).
	rg.dir.SetSubscription("sub-direct", "Deleted", time.Time{})
	rg.dir.SetSubscription("sub-csp", "", time.Time{})
	rg.dir.SetSubscription("sub-mca", "Deleted", time.Time{})
	r = rg.drive(t, r.ID, atStep(4, closure.StateGate))
	g, ok := r.Gate("4.legacy_mfa")
	require.True(t, ok)
	assert.Equal(t, []string{closure.SentenceNoLegacyMFA}, g.Attest)
	_, _, err = rg.Svc.Attest(ctx, person(carol), r.ID, "4.legacy_mfa", closure.SentenceNoLegacyMFA)
	require.NoError(t, err)

	// Step 5: the point of no return waits for a fresh confirmation.
	r = rg.drive(t, r.ID, func(r *closure.Request) bool { return r.AwaitingConfirmation() })
	assert.Len(t, rg.dir.Apps(), 3, "nothing deleted before the confirmation")
	_, _, err = rg.Svc.Confirm(ctx, person(bob), r.ID, r.Version)
	require.NoError(t, err)
	r = rg.drive(t, r.ID, atStep(5, closure.StateGate))
	dg, ok := r.Gate("5.delete_tenant")
	require.True(t, ok)
	assert.Equal(t, closebotApp, dg.Params["closebot_app"])

	// Before the tenant is deleted: only keep, Microsoft's and closebot's untouched.
	assert.Equal(t, []string{closuretest.KeepID}, rg.dir.UserIDs())
	var apps []string
	for _, a := range rg.dir.Apps() {
		apps = append(apps, a.ID)
	}
	assert.Equal(t, []string{"app-closebot"}, apps)
	var sps []string
	for _, sp := range rg.dir.SPs() {
		sps = append(sps, sp.ID)
	}
	slices.Sort(sps)
	assert.Equal(t, []string{"sp-closebot", "sp-exo", "sp-graph", "sp-mi"}, sps, "the third-party app's service principal is removed too")
	assert.Equal(t, "enforced", rg.dir.MFA(closuretest.KeepID), "the kept admin's MFA is never touched")

	// Purge (optional), then the kept admin deletes the tenant.
	_, _, err = rg.Svc.Purge(ctx, person(dave), r.ID, closure.Typed)
	require.NoError(t, err)
	_, err = rg.runner.Advance(ctx, r.ID)
	require.NoError(t, err)
	r = rg.get(t, r.ID)
	assert.Nil(t, r.PurgeRequested)
	assert.False(t, r.PurgedAt.IsZero())
	require.NoError(t, rg.dir.DeleteTenant(closebotApp))
	r = rg.drive(t, r.ID, func(r *closure.Request) bool { return r.State == closure.StateClosed })
	st := r.StepAt(5)
	assert.GreaterOrEqual(t, st.GoneCount, 3)
	assert.GreaterOrEqual(t, r.ClosedAt.Sub(st.GoneSince), time.Hour)

	// Writes: only the allowed kinds, never the kept admin, never a policy.
	ws := rg.dir.Writes()
	for _, w := range ws {
		assert.Contains(t, []string{"disable_sync", "delete_user", "delete_sp", "disable_sp", "delete_app", "purge"}, w.Op)
		assert.NotEqual(t, closuretest.KeepID, w.ID)
		assert.NotContains(t, []string{"sp-closebot", "sp-graph", "sp-exo", "sp-mi", "app-closebot"}, w.ID)
	}
	deleted := writesOf(ws, "delete_user")
	total := seed.Members + seed.Guests + seed.Synced + seed.Privileged + seed.OtherGlobalAdmins + seed.EligibleGlobalAdmins + seed.Restricted
	assert.Len(t, deleted, total, "each user deleted exactly once")

	// Every changed value is in the audit log.
	evs := rg.events(t, r.ID)
	recorded := map[string]closure.Event{}
	var syncPrev string
	for _, ev := range evs {
		switch ev.Action {
		case "step.delete_user", "step.delete_app", "step.delete_sp":
			recorded[ev.Detail["id"]] = ev
		case "step.sync_off":
			syncPrev = ev.Detail["previous"]
		}
	}
	assert.Equal(t, "true", syncPrev)
	for _, w := range deleted {
		ev, ok := recorded[w.ID]
		if assert.True(t, ok, "deletion of %s recorded", w.ID) {
			assert.NotEmpty(t, ev.Detail["name"])
			assert.NotEmpty(t, ev.Detail["kind"])
		}
	}
	for _, id := range []string{"app-hr", "app-saas", "sp-hr", "sp-saas"} {
		_, ok := recorded[id]
		assert.True(t, ok, "%s recorded", id)
	}
	assert.Equal(t, "privileged", recorded[closuretest.UserID("ga", 1)].Detail["kind"])
	assert.Equal(t, "privileged", recorded[closuretest.UserID("eligible", 1)].Detail["kind"])
	assert.Equal(t, "guest", recorded[closuretest.UserID("guest", 1)].Detail["kind"])

	// Privileged users were deleted after every ordinary one of their pass.
	var order []string
	for _, w := range deleted {
		order = append(order, w.ID)
	}
	firstPriv := slices.IndexFunc(order, func(id string) bool { return strings.HasPrefix(id, "priv-") || strings.HasPrefix(id, "ga-") })
	lastMember := slices.IndexFunc(order, func(id string) bool { return id == closuretest.UserID("member", seed.Members) })
	assert.Less(t, lastMember, firstPriv)

	var summary *closuretest.Report
	for _, rep := range rg.Rep.Reports() {
		if rep.Kind == "summary" {
			summary = &rep
		}
	}
	require.NotNil(t, summary)
	assert.Equal(t, total, summary.Summary.StepCounts[0])
	assert.Equal(t, evs[len(evs)-1].MAC, summary.Summary.ChainHead.MAC)
	_, locked := rg.Store.LockHolder(tenantID)
	assert.False(t, locked)
}

// TestSyncOffRefusedBecomesGate: a refused sync-off is a gate, not a failure.
func TestSyncOffRefusedBecomesGate(t *testing.T) {
	rg := newRig(t, defaultSeed())
	rg.dir.SyncOffRefused = true
	r := rg.openApproved(t)
	rg.toSteps(t, r.ID)
	r = rg.drive(t, r.ID, atStep(1, closure.StateGate))
	gates := r.BlockingGates()
	require.Len(t, gates, 1)
	assert.Equal(t, closure.GateSyncOff, gates[0].Kind)
	assert.Contains(t, gates[0].Params["error"], "403")
	assert.Contains(t, strings.Join(closure.InstructionFor(gates[0]).Steps, " "), "Set-EntraDirSyncEnabled -EnableDirSync $false")
	assert.Equal(t, closure.StepWaiting, r.StepAt(1).Status)
	// Cloud-only users were deleted meanwhile; synced ones wait.
	left := rg.dir.UserIDs()
	assert.Len(t, left, 1+4, "the kept admin and the synced users")

	rg.dir.TurnSyncOff() // the Hybrid Identity Admin
	r = rg.drive(t, r.ID, atStep(2, closure.StateGate, closure.StateRunning))
	assert.Equal(t, []string{closuretest.KeepID}, rg.dir.UserIDs())
	for _, ev := range rg.events(t, r.ID) {
		assert.NotEqual(t, closure.EvStepFailed, ev.Action)
	}
}

// TestPauseBetweenWrites: a pause clicked while a deletion is in flight
// stops every later write.
func TestPauseBetweenWrites(t *testing.T) {
	ctx := context.Background()
	rg := newRig(t, defaultSeed())
	r := rg.openApproved(t)
	rg.toSteps(t, r.ID)
	n := 0
	rg.dir.BeforeWrite = func(w closuretest.Write) error {
		if w.Op == "delete_user" {
			if n++; n == 3 {
				_, _, err := rg.Svc.Pause(ctx, person(alice), r.ID)
				require.NoError(t, err)
			}
		}
		return nil
	}
	w, err := rg.runner.Advance(ctx, r.ID)
	require.NoError(t, err)
	assert.True(t, w.Stop)
	r = rg.get(t, r.ID)
	assert.Equal(t, closure.StatePaused, r.State)
	assert.Len(t, writesOf(rg.dir.Writes(), "delete_user"), 3, "the write in flight, then none")
	assert.Equal(t, 3, r.StepAt(1).Done, "the in-flight deletion is recorded")

	// More runs while paused write nothing.
	_, err = rg.runner.Advance(ctx, r.ID)
	require.NoError(t, err)
	assert.Len(t, writesOf(rg.dir.Writes(), "delete_user"), 3)

	rg.dir.BeforeWrite = nil
	_, _, err = rg.Svc.Resume(ctx, person(bob), r.ID, closure.Typed)
	require.NoError(t, err)
	if err := rg.runner.Run(cancelWhen(t, rg, r.ID), r.ID); err != nil {
		require.ErrorIs(t, err, context.Canceled)
	}
	r = rg.get(t, r.ID)
	assert.NotEqual(t, closure.StatePending, r.State, "no drift on resume")
	assert.Greater(t, len(writesOf(rg.dir.Writes(), "delete_user")), 3)
}

// cancelWhen returns a context cancelled once the request leaves step 1's
// deletions (the Run test's exit), with the runner's timer advancing the clock.
func cancelWhen(t *testing.T, rg *rig, id string) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	rg.runner.After = func(d time.Duration) <-chan time.Time {
		if r := rg.get(t, id); r.Step >= 2 || r.State == closure.StateGate {
			cancel()
		}
		rg.Clock.Advance(d)
		ch := make(chan time.Time, 1)
		ch <- rg.Clock.Now()
		return ch
	}
	return ctx
}

// TestAbortMidStep1ThenRestore: Restore brings back exactly the users this
// request deleted.
func TestAbortMidStep1ThenRestore(t *testing.T) {
	ctx := context.Background()
	rg := newRig(t, defaultSeed())
	r := rg.openApproved(t)
	rg.toSteps(t, r.ID)
	before := rg.dir.UserIDs()
	n := 0
	rg.dir.BeforeWrite = func(w closuretest.Write) error {
		if w.Op == "delete_user" {
			if n++; n == 7 {
				_, _, err := rg.Svc.Abort(ctx, person(bob), r.ID)
				require.NoError(t, err)
			}
		}
		return nil
	}
	w, err := rg.runner.Advance(ctx, r.ID)
	require.NoError(t, err)
	assert.True(t, w.Stop)
	r = rg.get(t, r.ID)
	require.Equal(t, closure.StateAborted, r.State)
	deleted := rg.dir.DeletedIDs()
	require.Len(t, deleted, 7)
	assert.False(t, r.RestoreDeadline.IsZero())
	// Someone else deletes a user by hand: Restore must leave it deleted.
	rg.dir.HumanDeleteUser(closuretest.UserID("member", 30))

	_, _, err = rg.Svc.Restore(ctx, person(bob), r.ID, closure.Typed)
	require.NoError(t, err)
	rg.dir.BeforeWrite = nil
	w, err = rg.runner.Advance(ctx, r.ID)
	require.NoError(t, err)
	assert.True(t, w.Stop)
	var restored []string
	for _, w := range writesOf(rg.dir.Writes(), "restore_user") {
		restored = append(restored, w.ID)
	}
	slices.Sort(restored)
	assert.Equal(t, deleted, restored, "exactly the users this request deleted")
	assert.Equal(t, []string{closuretest.UserID("member", 30)}, rg.dir.DeletedIDs())
	assert.Len(t, rg.dir.UserIDs(), len(before)-1)
	r = rg.get(t, r.ID)
	assert.Nil(t, r.RestoreRequested)
	assert.False(t, r.RestoredAt.IsZero())
}

// TestCrashResume: a crash between a deletion and its record; a new Runner
// on the same store resumes without repeating or skipping.
func TestCrashResume(t *testing.T) {
	rg := newRig(t, defaultSeed())
	r := rg.openApproved(t)
	rg.toSteps(t, r.ID)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	rg.dir.AfterWrite = func(w closuretest.Write) {
		if w.Op == "delete_user" {
			if n++; n == 5 {
				cancel() // the process dies after Graph deleted the 5th user
			}
		}
	}
	_, err := rg.runner.Advance(ctx, r.ID)
	require.ErrorIs(t, err, context.Canceled)
	r = rg.get(t, r.ID)
	// Completions are group-committed after the answers: the crash loses
	// at least the 5th record, and maybe more of the group before it.
	assert.LessOrEqual(t, r.StepAt(1).Done, 4, "the 5th deletion was not recorded")
	rg.dir.AfterWrite = nil

	rg.runner = rg.newRunner() // a new process
	r = rg.drive(t, r.ID, atStep(2, closure.StateGate, closure.StateRunning))
	assert.Equal(t, []string{closuretest.KeepID}, rg.dir.UserIDs())
	count := map[string]int{}
	for _, w := range writesOf(rg.dir.Writes(), "delete_user") {
		count[w.ID]++
	}
	recorded := map[string]int{}
	for _, ev := range rg.events(t, r.ID) {
		if ev.Action == "step.delete_user" {
			recorded[ev.Detail["id"]]++
		}
	}
	for id, c := range count {
		assert.Equal(t, 1, c, "%s deleted once", id)
		assert.Equal(t, 1, recorded[id], "%s recorded once", id)
	}
	assert.Equal(t, len(count), r.StepAt(1).Done)
	assert.NotEqual(t, closure.StatePending, r.State)
}

// TestDriftBeforeStep1RePends: a new Global Admin during the abort window
// sends the request back to pending before any write.
func TestDriftBeforeStep1RePends(t *testing.T) {
	rg := newRig(t, defaultSeed())
	r := rg.openApproved(t)
	rg.toSteps(t, r.ID)
	rg.dir.AddUser(closure.User{ID: "intruder", UPN: "intruder@contoso.com", UserType: "Member", Enabled: true})
	rg.dir.AddRole(closure.RoleAssignment{ID: "ra-intruder", RoleDefinitionID: closure.RoleGlobalAdministrator, PrincipalID: "intruder",
		DirectoryScopeID: "/", AssignmentType: "Assigned", MemberType: "Direct"}, false)
	w, err := rg.runner.Advance(context.Background(), r.ID)
	require.NoError(t, err)
	assert.True(t, w.Stop)
	r = rg.get(t, r.ID)
	assert.Equal(t, closure.StatePending, r.State)
	require.NotNil(t, r.Interrupted)
	assert.Equal(t, 1, r.Interrupted.Step)
	assert.Contains(t, strings.Join(r.DriftLines, "\n"), "new privileged principal intruder")
	assert.Empty(t, rg.dir.Writes(), "nothing written")
}

// TestProofFailed: a sign-in by someone else, or without MFA, re-pends.
func TestProofFailed(t *testing.T) {
	for name, proof := range map[string]closure.SignInProof{
		"other user": {ObjectID: "someone-else", AMR: []string{"pwd", "mfa"}},
		"no mfa":     {ObjectID: closuretest.KeepID, AMR: []string{"pwd"}},
	} {
		t.Run(name, func(t *testing.T) {
			rg := newRig(t, defaultSeed())
			rg.dir.Proof = proof
			r := rg.openApproved(t)
			w, err := rg.runner.Advance(context.Background(), r.ID)
			require.NoError(t, err)
			assert.True(t, w.Stop)
			r = rg.get(t, r.ID)
			assert.Equal(t, closure.StatePending, r.State)
			assert.NotEmpty(t, r.ProofError)
			assert.Empty(t, rg.dir.Writes())
		})
	}
}
