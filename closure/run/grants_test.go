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

// jitRig is a rig whose tenant runs write_access just_in_time, with
// closebot's app read-only at rest.
func jitRig(t *testing.T) *rig {
	t.Helper()
	rg := newRig(t, defaultSeed())
	rg.Svc.Policy.Tenants[0].WriteAccess = closure.WriteJustInTime
	rg.Svc.Policy.WriteGrants = closuretest.HarnessWriteGrants()
	rg.dir.ReadOnlyAtRest(rg.Svc.Policy.WriteGrants)
	return rg
}

var closebotPAA = closure.RoleAssignment{ID: "ra-closebot-paa", RoleDefinitionID: closure.RolePrivilegedAuthenticationAdministrator,
	PrincipalID: "sp-closebot", PrincipalType: closure.PrincipalServicePrincipal, DirectoryScopeID: "/", AssignmentType: "Assigned", MemberType: "Direct"}

func gateText(g closure.Gate) string {
	in := closure.InstructionFor(g)
	return in.Title + "\n" + strings.Join(in.Steps, "\n") + "\n" + in.Done
}

// TestJustInTimeGrantArrivesLate: with write_access just_in_time, step 1
// writes nothing until closebot's app holds every write grant. The grant
// gate names what is missing (with the admin-center path and the Graph
// PowerShell lines), waits while the kept admin grants part of it and says
// what is still missing, and lets step 1 write once a token issued now
// carries all of it. After step 5's last write it asks for the removal and
// opens the tenant deletion's gate only once the removal shows.
func TestJustInTimeGrantArrivesLate(t *testing.T) {
	ctx := context.Background()
	rg := jitRig(t)
	r := rg.openApproved(t)
	rg.toSteps(t, r.ID)

	r = rg.drive(t, r.ID, atStep(1, closure.StateGate))
	gates := r.BlockingGates()
	require.Len(t, gates, 1)
	g := gates[0]
	assert.Equal(t, closure.GateGrantWriteAccess, g.Kind)
	assert.Equal(t, carol, g.Assignee)
	assert.Empty(t, rg.dir.Writes(), "no write before the grant")
	text := gateText(g)
	for _, want := range []string{
		"User.ReadWrite.All", "Organization.ReadWrite.All", "User.DeleteRestore.All", "Policy.ReadWrite.AuthenticationMethod",
		"Application.ReadWrite.All", "Privileged Authentication Administrator",
		"App registrations", "Grant admin consent", "Roles & admins",
		"New-MgServicePrincipalAppRoleAssignment", "741f803b-c850-494e-b5df-cde7c675a1ca",
		"New-MgRoleManagementDirectoryRoleAssignment -PrincipalId $sp.Id -RoleDefinitionId 7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
		"appId eq '" + closebotApp + "'",
	} {
		assert.Contains(t, text, want)
	}

	// The kept admin grants part of it: closebot still waits, and says
	// what is still missing.
	rg.dir.GrantPermission("User.ReadWrite.All")
	rg.dir.GrantPermission("Organization.ReadWrite.All")
	rg.Clock.Advance(10 * time.Minute)
	w, err := rg.runner.Advance(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, "gate", w.Reason)
	r = rg.get(t, r.ID)
	assert.Equal(t, closure.StateGate, r.State)
	g, _ = r.Gate(g.ID)
	assert.NotContains(t, g.Params["missing"], "User.ReadWrite.All")
	assert.Contains(t, g.Params["missing"], "Privileged Authentication Administrator")
	assert.NotContains(t, g.Params["powershell"], "741f803b-c850-494e-b5df-cde7c675a1ca", "only what is missing")
	evs := rg.events(t, r.ID)
	last := evs[len(evs)-1]
	assert.Equal(t, closure.EvGateProgress, last.Action)
	assert.Contains(t, last.Detail["note"], "still missing: User.DeleteRestore.All")
	assert.Empty(t, rg.dir.Writes(), "still no write")

	// The rest arrives: the next re-check lets step 1 write.
	for _, p := range []string{"User.DeleteRestore.All", "Policy.ReadWrite.AuthenticationMethod", "Application.ReadWrite.All"} {
		rg.dir.GrantPermission(p)
	}
	rg.dir.AddRole(closebotPAA, false)
	r = rg.drive(t, r.ID, atStep(2, closure.StateGate, closure.StateRunning))
	assert.False(t, r.WriteGrantedAt.IsZero())
	g, _ = r.Gate(g.ID)
	assert.False(t, g.IsOpen())
	evs = rg.events(t, r.ID)
	granted := slices.IndexFunc(evs, func(e closure.Event) bool { return e.Action == closure.EvWriteGranted })
	firstIntent := slices.IndexFunc(evs, func(e closure.Event) bool { return e.Action.Kind() == closure.IntentEvent })
	require.GreaterOrEqual(t, granted, 0)
	assert.Less(t, granted, firstIntent, "verified before the first write")
	assert.Contains(t, evs[granted].Detail["granted"], "Privileged Authentication Administrator")
	assert.Equal(t, []string{closuretest.KeepID}, rg.dir.UserIDs())

	// Steps 2-4 as usual.
	for _, id := range []string{"sub-direct", "sub-csp", "sub-mca"} {
		rg.dir.SetSubscription(id, "Suspended", rg.Clock.Now().AddDate(0, 0, 90))
	}
	_, _, err = rg.Svc.Attest(ctx, person(carol), r.ID, "2.azure", closure.SentenceNoAzure)
	require.NoError(t, err)
	r = rg.drive(t, r.ID, atStep(3, closure.StateGate, closure.StateRunning))
	for _, id := range []string{"sub-direct", "sub-csp", "sub-mca"} {
		rg.dir.SetSubscription(id, "Deleted", time.Time{})
	}
	r = rg.drive(t, r.ID, atStep(4, closure.StateGate))
	_, _, err = rg.Svc.Attest(ctx, person(carol), r.ID, "4.legacy_mfa", closure.SentenceNoLegacyMFA)
	require.NoError(t, err)
	r = rg.drive(t, r.ID, func(r *closure.Request) bool { return r.AwaitingConfirmation() })
	_, _, err = rg.Svc.Confirm(ctx, person(bob), r.ID, r.Version)
	require.NoError(t, err)

	// Step 5's last write done: the removal is asked for, not yet the
	// tenant's deletion.
	r = rg.drive(t, r.ID, atStep(5, closure.StateGate))
	gates = r.BlockingGates()
	require.Len(t, gates, 1)
	rm := gates[0]
	assert.Equal(t, closure.GateRemoveWriteAccess, rm.Kind)
	_, ok := r.Gate("5.delete_tenant")
	assert.False(t, ok, "the deletion's gate waits for the removal")
	text = gateText(rm)
	for _, want := range []string{"Revoke admin consent", "Remove-MgServicePrincipalAppRoleAssignment", "Remove-MgRoleManagementDirectoryRoleAssignment",
		"741f803b-c850-494e-b5df-cde7c675a1ca", "7be44c8a-adaf-4e2a-84d6-ab2649e08a13", "User.Read.All"} {
		assert.Contains(t, text, want)
	}
	writes := len(rg.dir.Writes())

	// The kept admin removes the permissions, then the role.
	for _, gr := range rg.Svc.Policy.WriteGrants {
		if !gr.IsRole() {
			rg.dir.RevokePermission(gr.Name)
		}
	}
	rg.Clock.Advance(10 * time.Minute)
	_, err = rg.runner.Advance(ctx, r.ID)
	require.NoError(t, err)
	r = rg.get(t, r.ID)
	rm, _ = r.Gate(rm.ID)
	assert.True(t, rm.IsOpen(), "the role is still held")
	assert.Equal(t, "Privileged Authentication Administrator (directory role)", rm.Params["held"])
	rg.dir.RemoveRole("sp-closebot", closure.RolePrivilegedAuthenticationAdministrator)
	r = rg.drive(t, r.ID, func(r *closure.Request) bool { _, ok := r.Gate("5.delete_tenant"); return ok })
	assert.True(t, r.WriteAccessRemoved())
	dg, _ := r.Gate("5.delete_tenant")
	assert.Equal(t, closebotApp, dg.Params["closebot_app"], "the deletion's words carried over")
	assert.NotEmpty(t, dg.Params["refused"])
	assert.Len(t, rg.dir.Writes(), writes, "no write after the removal was asked for")

	// Purge needs write access: refused now, with where to do it instead.
	_, _, err = rg.Svc.Purge(ctx, person(dave), r.ID, closure.Typed)
	requireRule(t, closure.RuleWriteRemoved, err)
	assert.Contains(t, err.Error(), "Deleted users")

	require.NoError(t, rg.dir.DeleteTenant(closebotApp))
	rg.drive(t, r.ID, func(r *closure.Request) bool { return r.State == closure.StateClosed })
}

// TestJustInTimeAlreadyGranted: grants already in place at step 1 are
// verified and recorded without a gate.
func TestJustInTimeAlreadyGranted(t *testing.T) {
	rg := newRig(t, defaultSeed())
	rg.Svc.Policy.Tenants[0].WriteAccess = closure.WriteJustInTime
	rg.Svc.Policy.WriteGrants = closuretest.HarnessWriteGrants()
	rg.dir.AddRole(closebotPAA, false)
	r := rg.openApproved(t)
	rg.toSteps(t, r.ID)
	r = rg.drive(t, r.ID, atStep(2, closure.StateGate, closure.StateRunning))
	assert.False(t, r.WriteGrantedAt.IsZero())
	assert.False(t, hasKind(r, closure.GateGrantWriteAccess))
}

// TestStandingWriteAccessAsksNothing: standing mode (the zero value) opens
// no write-access gate.
func TestStandingWriteAccessAsksNothing(t *testing.T) {
	rg := newRig(t, defaultSeed())
	rg.Svc.Policy.WriteGrants = closuretest.HarnessWriteGrants()
	r := rg.openApproved(t)
	rg.toSteps(t, r.ID)
	r = rg.drive(t, r.ID, atStep(2, closure.StateGate, closure.StateRunning))
	assert.True(t, r.WriteGrantedAt.IsZero())
	assert.False(t, hasKind(r, closure.GateGrantWriteAccess))
}

func hasKind(r *closure.Request, k closure.GateKind) bool {
	return slices.ContainsFunc(r.Gates, func(g closure.Gate) bool { return g.Kind == k })
}
