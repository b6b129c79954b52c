package run_test

// Issue 11 (safety): a re-approval is a full approval, every writer stops.
// Each test fails on the code before its fix.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/closuretest"
)

// deletedUsers lists the user ids the fake directory deleted.
func deletedUsers(rg *rig) []string {
	var out []string
	for _, w := range writesOf(rg.dir.Writes(), "delete_user") {
		out = append(out, w.ID)
	}
	return out
}

// TestKeptAdminRenamedAtGateNeedsNewProof (item 1): the kept admin's UPN is
// renamed while the request waits at a gate. The next drift check re-runs
// the preflight items: the kept admin is missing, so the request goes back
// for approval naming it, and no approval can be prepared until it is
// fixed. Once fixed, the re-approval needs a new proof of life and abort
// window before the interrupted step goes on; the kept admin is never
// deleted.
func TestKeptAdminRenamedAtGateNeedsNewProof(t *testing.T) {
	ctx := context.Background()
	rg := newRig(t, defaultSeed())
	r := toStep2Gate(t, rg)
	require.Equal(t, closuretest.KeepID, r.ProvenKeep)
	rg.dir.UpdateUser(closuretest.KeepID, func(u *closure.User) { u.UPN = "renamed@" + domain })

	rg.runner = rg.newRunner() // a restart: every Run re-checks the plan
	_, err := rg.runner.Advance(ctx, r.ID)
	require.NoError(t, err)
	r = rg.get(t, r.ID)
	require.Equal(t, closure.StatePending, r.State)
	assert.Contains(t, strings.Join(r.DriftLines, "\n"), "preflight: the kept admin admin@"+domain+" does not exist")
	assert.Empty(t, r.ProvenKeep, "whoever is kept now must prove a sign-in")

	_, err = rg.runner.PrepareApproval(ctx, r.ID)
	var pf *closure.PreflightError
	require.ErrorAs(t, err, &pf)
	assert.True(t, pf.Has(closure.RefuseKeepMissing))
	_, _, err = rg.Svc.Approve(ctx, person(bob), r.ID, closure.ApproveInput{Version: r.Version, PlanDigest: r.PlanDigest})
	requireRule(t, closure.RuleNoKeep, err)

	// Fixed in the tenant: the approver approves the re-read plan.
	rg.dir.UpdateUser(closuretest.KeepID, func(u *closure.User) { u.UPN = "admin@" + domain })
	r, err = rg.runner.PrepareApproval(ctx, r.ID)
	require.NoError(t, err)
	require.Equal(t, closuretest.KeepID, r.Facts.KeepObjectID)
	r = rg.Approve(t, bob, r)
	require.Equal(t, closure.StateApproved, r.State, "a new proof of life first")
	proofsBefore := countEvents(rg.events(t, r.ID), "proof.passed")
	rg.toSteps(t, r.ID)
	assert.Equal(t, proofsBefore+1, countEvents(rg.events(t, r.ID), "proof.passed"))
	r = rg.drive(t, r.ID, func(r *closure.Request) bool { return r.State == closure.StateGate || r.State == closure.StateRunning })
	assert.Equal(t, 2, r.Step, "back at the interrupted step")
	assert.NotContains(t, deletedUsers(rg), closuretest.KeepID)
}

// TestKeptAdminChangedNoDeletionBeforeNewProof (item 1): keep: is edited to
// another Global Administrator while step 1 waits. The re-approval does not
// return straight to step 1: nothing is deleted before the new kept admin
// proves a sign-in.
func TestKeptAdminChangedNoDeletionBeforeNewProof(t *testing.T) {
	ctx := context.Background()
	seed := defaultSeed()
	rg := newRig(t, seed)
	r := rg.openApproved(t)
	rg.toSteps(t, r.ID)
	// Another GA becomes the kept admin (config edited, closebot restarted).
	other := closuretest.UserID("ga", 1)
	rg.dir.UpdateUser(other, func(u *closure.User) { u.UPN = "ga1@" + domain })
	rg.dir.SetMethods(other, closuretest.Password, closuretest.Authenticator, closuretest.Phone)
	rg.Pol.Tenants[0].Keep = "ga1@" + domain
	rg.runner = rg.newRunner()
	_, err := rg.runner.Advance(ctx, r.ID)
	require.NoError(t, err)
	r = rg.get(t, r.ID)
	require.Equal(t, closure.StatePending, r.State)
	require.Empty(t, deletedUsers(rg))

	r, err = rg.runner.PrepareApproval(ctx, r.ID)
	require.NoError(t, err)
	r = rg.Approve(t, dave, r)
	require.Equal(t, closure.StateApproved, r.State)
	rg.dir.Proof = closure.SignInProof{ObjectID: closuretest.KeepID, TenantID: tenantID, AMR: []string{"pwd", "mfa"}}
	_, err = rg.runner.Advance(ctx, r.ID)
	require.NoError(t, err)
	r = rg.get(t, r.ID)
	assert.Equal(t, closure.StatePending, r.State, "the old kept admin's sign-in proves nothing for the new one")
	assert.Empty(t, deletedUsers(rg), "nothing deleted before the new kept admin's proof")
}

func countEvents(evs []closure.Event, action closure.EventAction) int {
	n := 0
	for _, ev := range evs {
		if ev.Action == action {
			n++
		}
	}
	return n
}

// TestHoldPlacedDuringWindowStopsStep1 (item 2): a legal hold applied during
// the abort window is seen by the check right before step 1: nothing is
// written and the request goes back for approval naming the hold.
func TestHoldPlacedDuringWindowStopsStep1(t *testing.T) {
	rg := newRig(t, defaultSeed())
	r := rg.openApproved(t)
	rg.toSteps(t, r.ID)
	rg.dir.AddHold(closure.LegalHold{CaseName: "Smith v. Contoso", Source: closure.HoldNoncustodial, Name: "Finance site", HoldStatus: "applying"})
	_, err := rg.runner.Advance(context.Background(), r.ID)
	require.NoError(t, err)
	r = rg.get(t, r.ID)
	assert.Equal(t, closure.StatePending, r.State)
	assert.Contains(t, strings.Join(r.DriftLines, "\n"), "Finance site")
	assert.Empty(t, rg.dir.Writes())
}

// TestHoldPlacedMidStep1StopsTheNextBatch (item 2): a hold placed while
// step 1 deletes stops the deletions at the next batch.
func TestHoldPlacedMidStep1StopsTheNextBatch(t *testing.T) {
	seed := defaultSeed()
	seed.Members, seed.SyncEnabled, seed.Synced = 260, false, 0
	rg := newRig(t, seed)
	r := rg.openApproved(t)
	rg.toSteps(t, r.ID)
	n := 0
	rg.dir.AfterWrite = func(w closuretest.Write) {
		if w.Op == "delete_user" {
			if n++; n == 10 {
				rg.dir.AddHold(closure.LegalHold{CaseName: "Audit", Source: closure.HoldCustodian, Name: "cfo@contoso.com", HoldStatus: "applied"})
			}
		}
	}
	_, err := rg.runner.Advance(context.Background(), r.ID)
	require.NoError(t, err)
	r = rg.get(t, r.ID)
	assert.Equal(t, closure.StatePending, r.State)
	assert.LessOrEqual(t, len(deletedUsers(rg)), 100, "stopped at the next batch")
	assert.Contains(t, strings.Join(r.DriftLines, "\n"), "cfo@contoso.com")
}

// TestEmergencyStopHaltsEveryWriter (item 4): PauseAll pauses a stuck
// request too (its gate re-checks write), and the runner's halt keeps
// every writer from Graph, a Restore included, until it is lifted.
func TestEmergencyStopHaltsEveryWriter(t *testing.T) {
	ctx := context.Background()
	rg := newRig(t, defaultSeed())
	r := toStep2Gate(t, rg)
	rg.Clock.Advance(400 * 24 * time.Hour)
	r = rg.Sys(t, r.ID, closure.System.MarkStuck)
	require.Equal(t, closure.StateStuck, r.State)
	paused, err := rg.Svc.PauseAll(ctx, "stop file")
	require.NoError(t, err)
	assert.Equal(t, []string{r.ID}, paused)
	r = rg.get(t, r.ID)
	assert.Equal(t, closure.StatePaused, r.State)
	assert.Equal(t, closure.StateStuck, r.PausedFrom)

	// An aborted request's Restore is a writer too.
	rg = newRig(t, defaultSeed())
	r = toStep2Gate(t, rg)
	r, _, err = rg.Svc.Abort(ctx, person(bob), r.ID)
	require.NoError(t, err)
	r, _, err = rg.Svc.Restore(ctx, person(bob), r.ID, r.Version)
	require.NoError(t, err)
	before := len(rg.dir.Writes())
	rg.runner.Halt(true)
	w, err := rg.runner.Advance(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, "emergency stop", w.Reason)
	assert.Len(t, rg.dir.Writes(), before, "no Graph write while halted")
	rg.runner.Halt(false)
	_, err = rg.runner.Advance(ctx, r.ID)
	require.NoError(t, err)
	assert.Greater(t, len(writesOf(rg.dir.Writes(), "restore_user")), 0, "the restore goes on once lifted")
}

// TestReApprovalShowsTheReReadPlan (item 5): after a re-pend the card's
// plan is the fresh read, and a plan that changed again while waiting
// starts a new round: a modal opened on the earlier round is refused.
func TestReApprovalShowsTheReReadPlan(t *testing.T) {
	ctx := context.Background()
	rg := newRig(t, defaultSeed())
	r := toStep2Gate(t, rg)
	rg.dir.AddUser(closure.User{ID: "intruder", UPN: "intruder@contoso.com", UserType: "Member", Enabled: true})
	rg.dir.AddRole(closure.RoleAssignment{ID: "ra-x", RoleDefinitionID: closure.RoleGlobalAdministrator, PrincipalID: "intruder",
		DirectoryScopeID: "/", AssignmentType: "Assigned", MemberType: "Direct"}, false)
	rg.runner = rg.newRunner()
	_, err := rg.runner.Advance(ctx, r.ID)
	require.NoError(t, err)
	r = rg.get(t, r.ID)
	require.Equal(t, closure.StatePending, r.State)
	require.NotNil(t, r.Plan)
	assert.Equal(t, 1, r.Plan.UsersToDelete, "the card shows the fresh read: only the intruder is left to delete")
	staleModal := closure.ApproveInput{Version: r.Version, PlanDigest: r.PlanDigest}

	rg.dir.AddUser(closure.User{ID: "late", UPN: "late@contoso.com", UserType: "Member", Enabled: true})
	r, err = rg.runner.PrepareApproval(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, 2, r.Plan.UsersToDelete)
	_, _, err = rg.Svc.Approve(ctx, person(bob), r.ID, staleModal)
	requireRule(t, closure.RuleStaleVersion, err) // a new round: the earlier modal counts for nothing
	r = rg.Approve(t, bob, r)
	assert.Equal(t, closure.StateRunning, r.State)
}

// TestOldClicksRefused (item 7): Retry, Resume, Restore and Purge are bound
// to the state they were drawn in.
func TestOldClicksRefused(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, testPolicy())
	r := h.ToRunning(t)
	r = h.Sys(t, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
		return s.Fail(r, "x")
	})
	firstFailure := r.Version
	r, _, err := h.Svc.Retry(ctx, person(bob), r.ID, firstFailure)
	require.NoError(t, err)
	r = h.Sys(t, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
		return s.Fail(r, "y")
	})
	_, _, err = h.Svc.Retry(ctx, person(bob), r.ID, firstFailure)
	requireRule(t, closure.RuleStaleVersion, err)
	_, _, err = h.Svc.Retry(ctx, person(bob), r.ID, r.Version)
	require.NoError(t, err)

	r, _, err = h.Svc.Pause(ctx, person(alice), r.ID)
	require.NoError(t, err)
	pausedAt := r.Version
	r, _, err = h.Svc.Resume(ctx, person(alice), r.ID, pausedAt)
	require.NoError(t, err)
	r, _, err = h.Svc.Pause(ctx, person(alice), r.ID)
	require.NoError(t, err)
	_, _, err = h.Svc.Resume(ctx, person(alice), r.ID, pausedAt)
	requireRule(t, closure.RuleStaleVersion, err)
}

// TestCancelHalfDoneKeepsRestore (item 7): cancelling a request sent back
// for approval after it deleted users aborts it, so Restore stays offered.
func TestCancelHalfDoneKeepsRestore(t *testing.T) {
	ctx := context.Background()
	rg := newRig(t, defaultSeed())
	r := toStep2Gate(t, rg)
	require.False(t, r.RestoreDeadline.IsZero())
	rg.dir.AddUser(closure.User{ID: "intruder", UPN: "intruder@contoso.com", UserType: "Member", Enabled: true})
	rg.dir.AddRole(closure.RoleAssignment{ID: "ra-x", RoleDefinitionID: closure.RoleGlobalAdministrator, PrincipalID: "intruder",
		DirectoryScopeID: "/", AssignmentType: "Assigned", MemberType: "Direct"}, false)
	rg.runner = rg.newRunner()
	_, err := rg.runner.Advance(ctx, r.ID)
	require.NoError(t, err)
	require.Equal(t, closure.StatePending, rg.get(t, r.ID).State)
	r, _, err = rg.Svc.Cancel(ctx, person(alice), r.ID)
	require.NoError(t, err)
	assert.Equal(t, closure.StateAborted, r.State)
	_, _, err = rg.Svc.Restore(ctx, person(bob), r.ID, r.Version)
	require.NoError(t, err)
}
