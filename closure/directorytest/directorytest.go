// Package directorytest is the contract every closure.Directory keeps, as
// the domain sees it: error predicates (IsRefused, IsUnlicensed,
// IsPermissionDenied), statuses and returned values, never a backend's
// internals. It imports testing and is used only from tests: the in-memory
// fake (closure/closuretest) and the Graph adapter over the emulator
// (closure/msgraph over closure/graphtest) both run it. Where they
// disagree the emulator, which cites Microsoft's documentation
// (closure/graphtest/FIDELITY.md), is the reference.
package directorytest

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

// Fixture is one seeded tenant behind a closure.Directory, with handles on
// the seeded objects the cases need and the tenant conditions they flip.
//
// The tenant it seeds: directory sync on; Microsoft Entra ID P2 (PIM
// answers) and eDiscovery (Premium); a kept admin holding a permanent
// direct Global Administrator role with a password and an Authenticator
// app; at least one PIM-eligible Global Administrator; an active
// legal hold; closebot's app holding every permission it needs.
type Fixture interface {
	// Directory is the implementation under test; after RevokePermission
	// it may be a new one (a fresh token).
	Directory() closure.Directory
	TenantID() string
	KeepID() string  // the kept admin's object id
	KeepUPN() string // and userPrincipalName
	// PlainUserID is an ordinary cloud-only member: no role, no
	// restricted unit, enabled.
	PlainUserID() string
	SyncedUserID() string     // a user mastered on-premises
	RestrictedUserID() string // a member of a restricted-management administrative unit
	EligibleUserID() string   // a user with a PIM-eligible Global Administrator role
	// PrivilegedUserID is a user with an active, permanent, direct admin
	// role other than Global Administrator (User Administrator, say).
	PrivilegedUserID() string
	// OwnedAppID is the object id of a single-tenant app registration the
	// tenant owns (not closebot's), with its service principal.
	OwnedAppID() string
	// DeletableSPID is another publisher's service principal Graph deletes;
	// UndeletableSPID one it refuses to delete (to be disabled instead);
	// MicrosoftGraphSPID Microsoft Graph's own service principal.
	DeletableSPID() string
	UndeletableSPID() string
	MicrosoftGraphSPID() string

	// TurnSyncOff is a Hybrid Identity Administrator turning directory
	// sync off; synced users become cloud-only at once.
	TurnSyncOff()
	// RemoveFromRestrictedUnits is an administrator scoped to the units
	// taking a user out of every restricted-management unit.
	RemoveFromRestrictedUnits(userID string)
	// DropEntraPremium removes the tenant's Entra ID P1 and P2 (the
	// subscription that carried them deleted); eDiscovery (Premium) stays.
	DropEntraPremium()
	// RefuseSyncOff makes Graph refuse closebot's sync-off PATCH (403) though
	// its app holds the permission.
	RefuseSyncOff()
	// ReleaseHolds releases every eDiscovery hold (Purview).
	ReleaseHolds()
	// RevokePermission withdraws one of closebot's application permissions.
	RevokePermission(perm string)
	// DeleteTenant deletes the tenant, whatever is left in it.
	DeleteTenant()
}

// Run runs every case on a fresh fixture.
func Run(t *testing.T, newFixture func(t *testing.T) Fixture) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, newFixture) })
	}
}

type dirCase struct {
	name string
	run  func(t *testing.T, newFixture func(t *testing.T) Fixture)
}

// one adapts a case that needs a single fixture.
func one(f func(t *testing.T, fx Fixture)) func(*testing.T, func(*testing.T) Fixture) {
	return func(t *testing.T, newFixture func(*testing.T) Fixture) { f(t, newFixture(t)) }
}

var cases = []dirCase{
	{"Organization", one(organization)},
	{"UsersAndUser", one(usersAndUser)},
	{"MissingUserIs404", one(missingUser)},
	{"RestrictedUnitMemberDeleteRefused403", one(restrictedMember)},
	{"SyncedUserDeleteRefused400WhileSyncOn", one(syncedUser)},
	{"DeleteOfMissingObjectIsDone", one(deleteMissing)},
	{"DeleteRestorePurge", one(deleteRestorePurge)},
	{"RoleAssignmentsOnEveryLicence", one(roleAssignments)},
	{"PIMWithP2", one(pimWithP2)},
	{"WithoutEntraPremiumIsUnlicensed", one(withoutPremium)},
	{"SyncOffRefused403", one(syncOffRefused)},
	{"DeletedUserLeavesRoleAssignments", one(deletedUserLeavesRoles)},
	{"MissingPermissionIsPermissionDenied", missingPermission},
	{"GrantedPermissionsFollowConsent", one(grantedPermissions)},
	{"AdministrativeUnits", one(administrativeUnits)},
	{"AuthenticationMethods", one(authMethods)},
	{"PerUserMFAGetSet", one(perUserMFA)},
	{"Subscriptions", one(subscriptions)},
	{"LegalHolds", one(legalHolds)},
	{"DeleteApplication", one(deleteApplication)},
	{"ServicePrincipalDeleteAndDisable", one(servicePrincipals)},
	{"MicrosoftServicePrincipalDeleteRefused", one(microsoftSP)},
	{"TenantGone", one(tenantGone)},
}

// missingID is an object id no tenant has.
const missingID = "0badc0de-0000-4000-8000-00000000dead"

func ctxOf(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// apiError requires err to be an *APIError with status.
func apiError(t *testing.T, err error, status int) *closure.APIError {
	t.Helper()
	require.Error(t, err)
	ae, ok := closure.AsAPIError(err)
	require.True(t, ok, "not an *APIError: %v", err)
	assert.Equal(t, status, ae.Status, "status of %v", err)
	assert.NotEmpty(t, ae.Message, "Graph's words")
	assert.NotEmpty(t, ae.Op, "what closebot tried")
	return ae
}

func users(t *testing.T, d closure.Directory) map[string]closure.User {
	t.Helper()
	out := map[string]closure.User{}
	require.NoError(t, d.Users(ctxOf(t), func(u closure.User) error { out[u.ID] = u; return nil }))
	return out
}

func deletedIDs(t *testing.T, d closure.Directory) []string {
	t.Helper()
	del, err := d.DeletedUsers(ctxOf(t))
	require.NoError(t, err)
	var out []string
	for _, u := range del {
		out = append(out, u.ID)
		assert.False(t, u.DeletedAt.IsZero(), "deleted user %s has deletedDateTime", u.ID)
	}
	return out
}

func sp(t *testing.T, d closure.Directory, id string) (closure.ServicePrincipal, bool) {
	t.Helper()
	sps, err := d.ServicePrincipals(ctxOf(t))
	require.NoError(t, err)
	i := slices.IndexFunc(sps, func(s closure.ServicePrincipal) bool { return s.ID == id })
	if i < 0 {
		return closure.ServicePrincipal{}, false
	}
	return sps[i], true
}

func organization(t *testing.T, fx Fixture) {
	org, err := fx.Directory().Organization(ctxOf(t))
	require.NoError(t, err)
	assert.Equal(t, fx.TenantID(), org.ID)
	assert.Equal(t, "AAD", org.TenantType)
	assert.NotEmpty(t, org.DisplayName)
	assert.True(t, org.SyncEnabled)
	doms, err := fx.Directory().Domains(ctxOf(t))
	require.NoError(t, err)
	initial := 0
	for _, d := range doms {
		if d.Initial {
			initial++
			assert.True(t, d.Verified)
		}
	}
	assert.Equal(t, 1, initial, "one initial domain")
}

func usersAndUser(t *testing.T, fx Fixture) {
	ctx, d := ctxOf(t), fx.Directory()
	all := users(t, d)
	for _, id := range []string{fx.KeepID(), fx.PlainUserID(), fx.SyncedUserID(), fx.RestrictedUserID(), fx.EligibleUserID()} {
		assert.Contains(t, all, id)
	}
	keep := all[fx.KeepID()]
	assert.Equal(t, fx.KeepUPN(), keep.UPN)
	assert.Equal(t, "Member", keep.UserType)
	assert.True(t, keep.Enabled)
	assert.False(t, keep.Synced)
	assert.True(t, keep.DeletedAt.IsZero())
	assert.True(t, all[fx.SyncedUserID()].Synced, "onPremisesSyncEnabled")
	assert.False(t, all[fx.PlainUserID()].Synced)

	byID, err := d.User(ctx, fx.KeepID())
	require.NoError(t, err)
	assert.Equal(t, keep, byID)
	byUPN, err := d.User(ctx, fx.KeepUPN())
	require.NoError(t, err)
	assert.Equal(t, keep, byUPN, "by userPrincipalName")

	stop := errors.New("enough")
	n := 0
	err = d.Users(ctx, func(closure.User) error { n++; return stop })
	assert.ErrorIs(t, err, stop, "fn's error ends the listing and is returned")
	assert.Equal(t, 1, n)
}

func missingUser(t *testing.T, fx Fixture) {
	ctx, d := ctxOf(t), fx.Directory()
	for _, id := range []string{missingID, "nobody@contoso.invalid"} {
		_, err := d.User(ctx, id)
		apiError(t, err, http.StatusNotFound)
		assert.False(t, closure.IsRefused(err))
		assert.False(t, closure.IsPermissionDenied(err))
	}
	_, err := d.AuthenticationMethods(ctx, missingID)
	apiError(t, err, http.StatusNotFound)
	_, err = d.PerUserMFA(ctx, missingID)
	apiError(t, err, http.StatusNotFound)
}

func restrictedMember(t *testing.T, fx Fixture) {
	ctx, d, id := ctxOf(t), fx.Directory(), fx.RestrictedUserID()
	err := d.DeleteUser(ctx, id)
	ae := apiError(t, err, http.StatusForbidden)
	assert.Equal(t, "Authorization_RequestDenied", ae.Code)
	assert.True(t, closure.IsRefused(err), "a refusal opens a gate")
	assert.False(t, closure.IsUnlicensed(err))
	// Permission is not asserted: the adapter cannot tell this 403 from a
	// missing directory role and names Privileged Authentication
	// Administrator; the fake names nothing (the product words both).
	_, err = d.User(ctx, id)
	require.NoError(t, err, "the member is still there")
	assert.NotContains(t, deletedIDs(t, d), id)

	fx.RemoveFromRestrictedUnits(id)
	require.NoError(t, d.DeleteUser(ctx, id), "out of the unit, the user can be deleted")
	assert.Contains(t, deletedIDs(t, d), id)
}

func syncedUser(t *testing.T, fx Fixture) {
	ctx, d, id := ctxOf(t), fx.Directory(), fx.SyncedUserID()
	err := d.DeleteUser(ctx, id)
	ae := apiError(t, err, http.StatusBadRequest)
	assert.Equal(t, "Request_BadRequest", ae.Code)
	assert.True(t, closure.IsRefused(err))
	assert.False(t, closure.IsPermissionDenied(err))
	assert.False(t, closure.IsUnlicensed(err))
	u, err := d.User(ctx, id)
	require.NoError(t, err)
	assert.True(t, u.Synced)

	// closebot turns sync off itself; doing it twice is done.
	require.NoError(t, d.DisableSync(ctx, fx.TenantID()))
	org, err := d.Organization(ctx)
	require.NoError(t, err)
	assert.False(t, org.SyncEnabled)
	require.NoError(t, d.DisableSync(ctx, fx.TenantID()), "already off")
	u, err = d.User(ctx, id)
	require.NoError(t, err)
	assert.False(t, u.Synced, "cloud-only once sync is off")
	require.NoError(t, d.DeleteUser(ctx, id))
	assert.Contains(t, deletedIDs(t, d), id)
}

// deleteMissing: every delete of what is not there (never was, or already
// gone) is done, not an error; the product treats Graph's 404 as success.
func deleteMissing(t *testing.T, fx Fixture) {
	ctx, d := ctxOf(t), fx.Directory()
	assert.NoError(t, d.DeleteUser(ctx, missingID), "delete user")
	assert.NoError(t, d.PurgeDeleted(ctx, missingID), "purge")
	assert.NoError(t, d.DeleteApplication(ctx, missingID), "delete application")
	assert.NoError(t, d.DeleteServicePrincipal(ctx, missingID), "delete service principal")
	assert.NoError(t, d.DisableServicePrincipal(ctx, missingID), "disable service principal")

	id := fx.PlainUserID()
	require.NoError(t, d.DeleteUser(ctx, id))
	require.NoError(t, d.DeleteUser(ctx, id), "already deleted")
	_, err := d.User(ctx, id)
	apiError(t, err, http.StatusNotFound)
	assert.NotContains(t, users(t, d), id)
}

func deleteRestorePurge(t *testing.T, fx Fixture) {
	ctx, d, id := ctxOf(t), fx.Directory(), fx.PlainUserID()
	assert.NotContains(t, deletedIDs(t, d), id)
	before, err := d.User(ctx, id)
	require.NoError(t, err)

	require.NoError(t, d.DeleteUser(ctx, id))
	del, err := d.DeletedUsers(ctx)
	require.NoError(t, err)
	i := slices.IndexFunc(del, func(u closure.User) bool { return u.ID == id })
	require.GreaterOrEqual(t, i, 0, "soft-deleted")
	assert.Equal(t, before.UPN, del[i].UPN)
	assert.False(t, del[i].DeletedAt.IsZero())

	require.NoError(t, d.RestoreUser(ctx, id))
	back, err := d.User(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, before, back, "restored as it was")
	assert.NotContains(t, deletedIDs(t, d), id)

	// Restoring what is not in deleted items is 404, not done.
	err = d.RestoreUser(ctx, id)
	apiError(t, err, http.StatusNotFound)
	err = d.RestoreUser(ctx, missingID)
	apiError(t, err, http.StatusNotFound)

	require.NoError(t, d.DeleteUser(ctx, id))
	require.NoError(t, d.PurgeDeleted(ctx, id))
	assert.NotContains(t, deletedIDs(t, d), id)
	require.NoError(t, d.PurgeDeleted(ctx, id), "already purged")
	err = d.RestoreUser(ctx, id)
	apiError(t, err, http.StatusNotFound)
	_, err = d.User(ctx, id)
	apiError(t, err, http.StatusNotFound)
}

func keepGA(as []closure.RoleAssignment, keep string) (closure.RoleAssignment, bool) {
	i := slices.IndexFunc(as, func(a closure.RoleAssignment) bool {
		return a.PrincipalID == keep && a.RoleDefinitionID == closure.RoleGlobalAdministrator
	})
	if i < 0 {
		return closure.RoleAssignment{}, false
	}
	return as[i], true
}

func roleAssignments(t *testing.T, fx Fixture) {
	ctx, d := ctxOf(t), fx.Directory()
	check := func() {
		active, err := d.RoleAssignments(ctx)
		require.NoError(t, err)
		a, ok := keepGA(active, fx.KeepID())
		require.True(t, ok, "the kept admin's Global Administrator assignment")
		assert.Equal(t, closure.PrincipalUser, a.PrincipalType)
		assert.Equal(t, "/", a.DirectoryScopeID)
		assert.NotEmpty(t, a.ID)
		for _, a := range active {
			assert.Equal(t, "Assigned", a.AssignmentType, a.ID)
			assert.Equal(t, "Direct", a.MemberType, a.ID)
			assert.True(t, a.Permanent(), "without PIM's detail every assignment is permanent")
			assert.NotEqual(t, fx.EligibleUserID(), a.PrincipalID, "an eligible role is not active")
		}
	}
	check()
	fx.DropEntraPremium()
	check() // readable on every licence
}

func pimWithP2(t *testing.T, fx Fixture) {
	ctx, d := ctxOf(t), fx.Directory()
	sched, err := d.ActiveSchedules(ctx)
	require.NoError(t, err)
	a, ok := keepGA(sched, fx.KeepID())
	require.True(t, ok, "the kept admin's assignment as a schedule instance")
	assert.Equal(t, "Assigned", a.AssignmentType)
	assert.Equal(t, "Direct", a.MemberType)
	assert.Equal(t, closure.PrincipalUser, a.PrincipalType)
	assert.Equal(t, "/", a.DirectoryScopeID)
	assert.True(t, a.Permanent())
	assert.False(t, a.Start.IsZero(), "a schedule instance has a start")

	eligible, err := d.EligibleAssignments(ctx)
	require.NoError(t, err)
	i := slices.IndexFunc(eligible, func(a closure.RoleAssignment) bool { return a.PrincipalID == fx.EligibleUserID() })
	require.GreaterOrEqual(t, i, 0, "the eligible Global Administrator")
	e := eligible[i]
	assert.Equal(t, closure.RoleGlobalAdministrator, e.RoleDefinitionID)
	assert.Equal(t, closure.PrincipalUser, e.PrincipalType)
	assert.Equal(t, "/", e.DirectoryScopeID)
	assert.Empty(t, e.AssignmentType, "an eligibility is not an assignment")
	assert.Equal(t, "Direct", e.MemberType)
	assert.False(t, e.Start.IsZero())
}

func withoutPremium(t *testing.T, fx Fixture) {
	ctx, d := ctxOf(t), fx.Directory()
	fx.DropEntraPremium()
	_, err := d.ActiveSchedules(ctx)
	ae := apiError(t, err, http.StatusBadRequest)
	assert.Equal(t, "AadPremiumLicenseRequired", ae.Code)
	assert.True(t, closure.IsUnlicensed(err), "not available on this tenant")
	assert.False(t, closure.IsPermissionDenied(err))
	_, err = d.EligibleAssignments(ctx)
	ae = apiError(t, err, http.StatusBadRequest)
	assert.Equal(t, "AadPremiumLicenseRequired", ae.Code)
	assert.True(t, closure.IsUnlicensed(err))

	// Conditional access needs P1: 403, a licence refusal, not a permission.
	_, err = d.ConditionalAccessPolicies(ctx)
	ae = apiError(t, err, http.StatusForbidden)
	assert.Equal(t, "Authentication_RequestFromNonPremiumTenantOrB2CTenant", ae.Code)
	assert.True(t, closure.IsUnlicensed(err))
	assert.False(t, closure.IsPermissionDenied(err))
	assert.Empty(t, ae.Permission)

	// What every licence reads still answers.
	_, err = d.SecurityDefaultsEnabled(ctx)
	require.NoError(t, err)
	_, err = d.RoleAssignments(ctx)
	require.NoError(t, err)
	_, err = d.LegalHolds(ctx)
	require.NoError(t, err, "eDiscovery (Premium) comes with another licence")
}

func syncOffRefused(t *testing.T, fx Fixture) {
	ctx, d := ctxOf(t), fx.Directory()
	fx.RefuseSyncOff()
	err := d.DisableSync(ctx, fx.TenantID())
	ae := apiError(t, err, http.StatusForbidden)
	assert.Equal(t, "Authorization_RequestDenied", ae.Code)
	assert.True(t, closure.IsRefused(err), "a gate: the admin turns sync off")
	assert.Empty(t, ae.Permission, "the app holds Organization.ReadWrite.All")
	org, err := d.Organization(ctx)
	require.NoError(t, err)
	assert.True(t, org.SyncEnabled)

	fx.TurnSyncOff() // the Hybrid Identity Administrator does it
	org, err = d.Organization(ctx)
	require.NoError(t, err)
	assert.False(t, org.SyncEnabled)
	u, err := d.User(ctx, fx.SyncedUserID())
	require.NoError(t, err)
	assert.False(t, u.Synced)
}

// deletedUserLeavesRoleAssignments: a deleted user's active assignments no
// longer list (Graph removes them with the user).
func deletedUserLeavesRoles(t *testing.T, fx Fixture) {
	ctx, d, id := ctxOf(t), fx.Directory(), fx.PrivilegedUserID()
	holds := func() bool {
		active, err := d.RoleAssignments(ctx)
		require.NoError(t, err)
		return slices.ContainsFunc(active, func(a closure.RoleAssignment) bool { return a.PrincipalID == id })
	}
	require.True(t, holds(), "the privileged user's role")
	require.NoError(t, d.DeleteUser(ctx, id), "closebot's app may delete admins")
	assert.False(t, holds(), "gone with the user")
	sched, err := d.ActiveSchedules(ctx)
	require.NoError(t, err)
	assert.False(t, slices.ContainsFunc(sched, func(a closure.RoleAssignment) bool { return a.PrincipalID == id }))
}

// grantedPermissions: the application permissions a token issued now
// carries, with one withdrawn after RevokePermission (write_access
// just_in_time verifies its grants and their removal with it).
func grantedPermissions(t *testing.T, fx Fixture) {
	ctx := ctxOf(t)
	got, err := fx.Directory().GrantedPermissions(ctx)
	require.NoError(t, err)
	assert.Contains(t, got, "User.ReadWrite.All")
	assert.Contains(t, got, "Domain.Read.All")
	fx.RevokePermission("User.ReadWrite.All")
	got, err = fx.Directory().GrantedPermissions(ctx)
	require.NoError(t, err)
	assert.NotContains(t, got, "User.ReadWrite.All", "a token issued after the removal lacks it")
	assert.Contains(t, got, "Domain.Read.All")
}

// missingPermission: a call whose application permission closebot's app
// lacks answers 403 Authorization_RequestDenied naming the permission to
// grant, and changes nothing.
func missingPermission(t *testing.T, newFixture func(*testing.T) Fixture) {
	for _, c := range []struct {
		perm string
		call func(ctx context.Context, fx Fixture) error
	}{
		{"Policy.ReadWrite.AuthenticationMethod", func(ctx context.Context, fx Fixture) error {
			return fx.Directory().SetPerUserMFA(ctx, fx.KeepID(), "disabled")
		}},
		{"Policy.Read.All", func(ctx context.Context, fx Fixture) error {
			_, err := fx.Directory().SecurityDefaultsEnabled(ctx)
			return err
		}},
		{"UserAuthenticationMethod.Read.All", func(ctx context.Context, fx Fixture) error {
			_, err := fx.Directory().AuthenticationMethods(ctx, fx.KeepID())
			return err
		}},
		{"User.ReadWrite.All", func(ctx context.Context, fx Fixture) error {
			return fx.Directory().DeleteUser(ctx, fx.PlainUserID())
		}},
		{"Organization.ReadWrite.All", func(ctx context.Context, fx Fixture) error {
			return fx.Directory().DisableSync(ctx, fx.TenantID())
		}},
		{"Application.ReadWrite.All", func(ctx context.Context, fx Fixture) error {
			return fx.Directory().DeleteServicePrincipal(ctx, fx.DeletableSPID())
		}},
		{"User.DeleteRestore.All", func(ctx context.Context, fx Fixture) error {
			return fx.Directory().PurgeDeleted(ctx, fx.PlainUserID())
		}},
	} {
		t.Run(c.perm, func(t *testing.T) {
			ctx, fx := ctxOf(t), newFixture(t)
			if c.perm == "User.DeleteRestore.All" {
				require.NoError(t, fx.Directory().DeleteUser(ctx, fx.PlainUserID()))
			}
			fx.RevokePermission(c.perm)
			err := c.call(ctx, fx)
			ae := apiError(t, err, http.StatusForbidden)
			assert.Equal(t, "Authorization_RequestDenied", ae.Code)
			assert.True(t, closure.IsPermissionDenied(err))
			assert.True(t, closure.IsRefused(err))
			assert.False(t, closure.IsUnlicensed(err))
			assert.Equal(t, c.perm, ae.Permission, "the refusal names the permission to grant")
			assert.Contains(t, closure.GrantWords(err), c.perm)
		})
	}
	t.Run("NothingChanged", func(t *testing.T) {
		ctx, fx := ctxOf(t), newFixture(t)
		fx.RevokePermission("Policy.ReadWrite.AuthenticationMethod")
		fx.RevokePermission("Organization.ReadWrite.All")
		d := fx.Directory()
		before, err := d.PerUserMFA(ctx, fx.PlainUserID())
		require.NoError(t, err)
		next := map[string]string{"enforced": "disabled", "enabled": "disabled", "disabled": "enforced"}[before]
		require.Error(t, d.SetPerUserMFA(ctx, fx.PlainUserID(), next))
		require.Error(t, d.DisableSync(ctx, fx.TenantID()))
		state, err := d.PerUserMFA(ctx, fx.PlainUserID())
		require.NoError(t, err)
		assert.Equal(t, before, state)
		// Organization is unreadable without Organization.ReadWrite.All:
		// a synced user still synced says sync is still on.
		u, err := d.User(ctx, fx.SyncedUserID())
		require.NoError(t, err)
		assert.True(t, u.Synced)
	})
}

func administrativeUnits(t *testing.T, fx Fixture) {
	ctx, d := ctxOf(t), fx.Directory()
	units, err := d.AdministrativeUnits(ctx)
	require.NoError(t, err)
	holding := func(units []closure.AdministrativeUnit) []closure.AdministrativeUnit {
		var out []closure.AdministrativeUnit
		for _, u := range units {
			if u.Restricted && slices.Contains(u.Members, fx.RestrictedUserID()) {
				out = append(out, u)
			}
			assert.NotEmpty(t, u.ID)
			assert.NotEmpty(t, u.DisplayName)
		}
		return out
	}
	require.NotEmpty(t, holding(units), "a restricted unit holds the restricted user")
	assert.True(t, slices.ContainsFunc(units, func(u closure.AdministrativeUnit) bool { return !u.Restricted }), "and an ordinary unit")
	fx.RemoveFromRestrictedUnits(fx.RestrictedUserID())
	units, err = d.AdministrativeUnits(ctx)
	require.NoError(t, err)
	assert.Empty(t, holding(units))
}

const (
	authenticatorType = "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod"
	passwordType      = "#microsoft.graph.passwordAuthenticationMethod"
)

func authMethods(t *testing.T, fx Fixture) {
	ms, err := fx.Directory().AuthenticationMethods(ctxOf(t), fx.KeepID())
	require.NoError(t, err)
	assert.Contains(t, ms, authenticatorType)
	assert.Contains(t, ms, passwordType)
	for _, m := range ms {
		assert.Regexp(t, `^#microsoft\.graph\.[A-Za-z0-9]+AuthenticationMethod$`, m)
	}
}

func perUserMFA(t *testing.T, fx Fixture) {
	ctx, d := ctxOf(t), fx.Directory()
	keep, err := d.PerUserMFA(ctx, fx.KeepID())
	require.NoError(t, err)
	assert.Contains(t, []string{"enforced", "enabled", "disabled"}, keep)

	id := fx.PlainUserID()
	for _, s := range []string{"enabled", "enforced", "disabled", "disabled"} {
		require.NoError(t, d.SetPerUserMFA(ctx, id, s), "set %s", s)
		got, err := d.PerUserMFA(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, s, got)
	}
	err = d.SetPerUserMFA(ctx, missingID, "disabled")
	apiError(t, err, http.StatusNotFound)
	require.Error(t, d.SetPerUserMFA(ctx, id, "off"), "not a perUserMfaState")
	got, err := d.PerUserMFA(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "disabled", got, "unchanged")
	got, err = d.PerUserMFA(ctx, fx.KeepID())
	require.NoError(t, err)
	assert.Equal(t, keep, got, "another user's state is untouched")
}

var subscriptionStatuses = []string{"Enabled", "Warning", "Suspended", "LockedOut", "Deleted"}

func subscriptions(t *testing.T, fx Fixture) {
	subs, err := fx.Directory().Subscriptions(ctxOf(t))
	require.NoError(t, err)
	require.NotEmpty(t, subs)
	enabled := 0
	for _, s := range subs {
		assert.NotEmpty(t, s.ID)
		assert.NotEmpty(t, s.SkuPartNumber, s.ID)
		assert.Contains(t, subscriptionStatuses, s.Status, s.ID)
		assert.NotEmpty(t, s.OwnerTenantID, s.ID)
		if s.Status == "Enabled" {
			enabled++
		}
	}
	assert.Positive(t, enabled, "an Enabled subscription")
}

func legalHolds(t *testing.T, fx Fixture) {
	ctx, d := ctxOf(t), fx.Directory()
	holds, err := d.LegalHolds(ctx)
	require.NoError(t, err)
	active := 0
	for _, h := range holds {
		assert.NotEmpty(t, h.CaseID)
		assert.NotEmpty(t, h.CaseName)
		assert.Contains(t, []string{closure.HoldCustodian, closure.HoldNoncustodial, closure.HoldPolicy}, h.Source)
		if h.Active() {
			active++
		}
	}
	require.Positive(t, active, "an active hold")
	fx.ReleaseHolds()
	holds, err = d.LegalHolds(ctx)
	require.NoError(t, err)
	for _, h := range holds {
		assert.False(t, h.Active(), "released: %+v", h)
	}
}

func deleteApplication(t *testing.T, fx Fixture) {
	ctx, d, id := ctxOf(t), fx.Directory(), fx.OwnedAppID()
	apps, err := d.Applications(ctx)
	require.NoError(t, err)
	i := slices.IndexFunc(apps, func(a closure.Application) bool { return a.ID == id })
	require.GreaterOrEqual(t, i, 0)
	app := apps[i]
	assert.False(t, app.MultiTenant())
	sps, err := d.ServicePrincipals(ctx)
	require.NoError(t, err)
	require.True(t, slices.ContainsFunc(sps, func(s closure.ServicePrincipal) bool { return s.AppID == app.AppID }), "its service principal")

	require.NoError(t, d.DeleteApplication(ctx, id))
	require.NoError(t, d.DeleteApplication(ctx, id), "already deleted")
	apps, err = d.Applications(ctx)
	require.NoError(t, err)
	assert.False(t, slices.ContainsFunc(apps, func(a closure.Application) bool { return a.ID == id }))
	sps, err = d.ServicePrincipals(ctx)
	require.NoError(t, err)
	assert.False(t, slices.ContainsFunc(sps, func(s closure.ServicePrincipal) bool { return s.AppID == app.AppID }),
		"deleting an app registration deletes its service principal in the home tenant")
	require.NoError(t, d.PurgeDeleted(ctx, id), "purge the deleted app registration")
	require.NoError(t, d.PurgeDeleted(ctx, id), "already purged")
}

func servicePrincipals(t *testing.T, fx Fixture) {
	ctx, d := ctxOf(t), fx.Directory()
	id := fx.DeletableSPID()
	s, ok := sp(t, d, id)
	require.True(t, ok)
	assert.True(t, s.AccountEnabled)
	require.NoError(t, d.DeleteServicePrincipal(ctx, id))
	_, ok = sp(t, d, id)
	assert.False(t, ok, "deleted")
	require.NoError(t, d.DeleteServicePrincipal(ctx, id), "already deleted")
	require.NoError(t, d.DisableServicePrincipal(ctx, id), "gone is done")

	id = fx.UndeletableSPID()
	err := d.DeleteServicePrincipal(ctx, id)
	ae := apiError(t, err, http.StatusForbidden)
	assert.Equal(t, "Authorization_RequestDenied", ae.Code)
	assert.True(t, closure.IsRefused(err))
	assert.Empty(t, ae.Permission, "the app holds the permission: the object itself is refused")
	s, ok = sp(t, d, id)
	require.True(t, ok, "still there")
	assert.True(t, s.AccountEnabled)
	require.NoError(t, d.DisableServicePrincipal(ctx, id))
	s, ok = sp(t, d, id)
	require.True(t, ok)
	assert.False(t, s.AccountEnabled, "disabled instead")
	require.NoError(t, d.DisableServicePrincipal(ctx, id), "already disabled")
}

func microsoftSP(t *testing.T, fx Fixture) {
	ctx, d, id := ctxOf(t), fx.Directory(), fx.MicrosoftGraphSPID()
	s, ok := sp(t, d, id)
	require.True(t, ok)
	assert.Equal(t, "00000003-0000-0000-c000-000000000000", s.AppID)
	err := d.DeleteServicePrincipal(ctx, id)
	ae := apiError(t, err, http.StatusBadRequest)
	assert.Equal(t, "Request_BadRequest", ae.Code)
	assert.True(t, closure.IsRefused(err))
	_, ok = sp(t, d, id)
	assert.True(t, ok, "Microsoft Graph's service principal stays")
}

func tenantGone(t *testing.T, fx Fixture) {
	ctx, d := ctxOf(t), fx.Directory()
	gone, err := d.TenantGone(ctx)
	require.NoError(t, err)
	assert.False(t, gone)
	fx.DeleteTenant()
	gone, err = d.TenantGone(ctx)
	require.NoError(t, err)
	assert.True(t, gone, "discovery answers AADSTS90002")
	_, err = d.Organization(ctx)
	require.Error(t, err, "Graph no longer answers for it")
	assert.False(t, closure.IsRefused(err), "not a gate: %v", err)
	assert.False(t, closure.IsUnlicensed(err))
}
