package msgraph

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/graphtest"
)

func appPermissions() []string {
	var out []string
	for _, p := range Permissions {
		if p.Kind == ApplicationPermission {
			out = append(out, p.Permission)
		}
	}
	return out
}

func TestPermissionsTable(t *testing.T) {
	seen := map[string]bool{}
	roles := 0
	for _, p := range Permissions {
		assert.NotEmpty(t, p.Permission)
		assert.NotEmpty(t, p.Why, p.Permission)
		assert.False(t, seen[p.Permission], "%s listed twice", p.Permission)
		seen[p.Permission] = true
		switch p.Kind {
		case ApplicationPermission:
			assert.Empty(t, p.RoleTemplateID, p.Permission)
		case DirectoryRole:
			roles++
			assert.Equal(t, closure.RolePrivilegedAuthenticationAdministrator, p.RoleTemplateID)
		default:
			t.Errorf("%s: kind %q", p.Permission, p.Kind)
		}
	}
	assert.Equal(t, 1, roles, "Privileged Authentication Administrator, to delete admins")
}

// Every call names a table permission that covers it, and each table
// permission is the only one covering some call, so withdrawing any one of
// them breaks a call.
func TestCallsTableMatchesPermissions(t *testing.T) {
	perms := appPermissions()
	used := map[string]bool{}
	for _, c := range calls {
		assert.Contains(t, perms, c.permission, c.op)
		assert.Contains(t, c.accepted, c.permission, "%s: %s is not among the route's permissions", c.op, c.permission)
		var covering []string
		for _, p := range perms {
			if slices.Contains(c.accepted, p) {
				covering = append(covering, p)
			}
		}
		if len(covering) == 1 {
			used[covering[0]] = true
		}
	}
	for _, p := range perms {
		assert.True(t, used[p], "%s is the only permission of no call: drop it from Permissions", p)
	}
	got, ok := callFor("turn off directory sync for organization 42")
	assert.True(t, ok)
	assert.Equal(t, "Organization.ReadWrite.All", got.permission)
	got, _ = callFor("list role assignment schedule instances")
	assert.Equal(t, "list role assignment schedule instances", got.op)
}

// The emulator's default roles for closebot's client are exactly the
// application permissions of the table.
func TestEmulatorDefaultRolesArePermissions(t *testing.T) {
	assert.ElementsMatch(t, appPermissions(), graphtest.DefaultAppRoles())
}

// exercise makes every call the adapter has against the tenant and returns
// the permission refusals.
func exercise(t *testing.T, e *env) []*closure.APIError {
	t.Helper()
	ctx := ctxT(t)
	d, tn := e.d, e.tn
	var denied []*closure.APIError
	note := func(err error) {
		if closure.IsPermissionDenied(err) {
			ae, _ := closure.AsAPIError(err)
			denied = append(denied, ae)
		}
	}
	user := pickUser(t, tn, ordinary)
	kept := tn.KeptAdmin()
	_, err := d.Organization(ctx)
	note(err)
	_, err = d.Domains(ctx)
	note(err)
	note(d.Users(ctx, func(closure.User) error { return nil }))
	_, err = d.User(ctx, kept.ID)
	note(err)
	for _, f := range []func(context.Context) ([]closure.RoleAssignment, error){d.RoleAssignments, d.ActiveSchedules, d.EligibleAssignments} {
		_, err = f(ctx)
		note(err)
	}
	_, err = d.AdministrativeUnits(ctx)
	note(err)
	_, err = d.AuthenticationMethods(ctx, kept.ID)
	note(err)
	_, err = d.PerUserMFA(ctx, kept.ID)
	note(err)
	note(d.SetPerUserMFA(ctx, kept.ID, "disabled"))
	_, err = d.Subscriptions(ctx)
	note(err)
	_, err = d.SecurityDefaultsEnabled(ctx)
	note(err)
	_, err = d.ConditionalAccessPolicies(ctx)
	note(err)
	_, err = d.Counts(ctx)
	note(err)
	_, err = d.LegalHolds(ctx)
	note(err)
	apps, err := d.Applications(ctx)
	note(err)
	sps, err := d.ServicePrincipals(ctx)
	note(err)
	_, err = d.DeletedUsers(ctx)
	note(err)
	note(d.DisableSync(ctx, tn.ID))
	note(d.DeleteUser(ctx, user.ID))
	note(d.RestoreUser(ctx, user.ID))
	note(d.DeleteUser(ctx, user.ID))
	note(d.PurgeDeleted(ctx, user.ID))
	app, sp := "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002"
	for _, a := range apps {
		if !strings.EqualFold(a.AppID, tn.ClosebotAppID) && !a.MultiTenant() {
			app = a.ID
		}
	}
	for _, s := range sps {
		if s.DisplayName == "Fabrikam SaaS 1" {
			sp = s.ID
		}
	}
	note(d.DisableServicePrincipal(ctx, sp))
	note(d.DeleteServicePrincipal(ctx, sp))
	note(d.DeleteApplication(ctx, app))
	return denied
}

// The proof of issue 10: withdrawing any one application permission from
// the app's token makes some call fail with a refusal naming it, and only
// it; with every permission granted nothing is refused.
func TestMissingPermissionIsNamed(t *testing.T) {
	all := newEnv(t, smallSpec().WithP2(1))
	assert.Empty(t, exercise(t, all), "refusals with every permission granted")
	for _, perm := range appPermissions() {
		t.Run(perm, func(t *testing.T) {
			e := newEnv(t, smallSpec().WithP2(1))
			e.s.RevokeAppRole(e.tn.ID, e.tn.ClosebotAppID, perm)
			denied := exercise(t, e)
			require.NotEmpty(t, denied, "nothing failed without %s", perm)
			for _, ae := range denied {
				assert.Equal(t, perm, ae.Permission, "%s: %s", ae.Op, ae.Message)
				assert.Contains(t, ae.Error(), "Insufficient privileges")
			}
		})
	}
}

// Deleting an admin without the directory role is refused with every app
// role granted: the refusal names the role, not an app permission.
func TestAdminDeleteWithoutRoleNamesTheRole(t *testing.T) {
	spec := smallSpec()
	spec.ClosebotRoles = nil
	e := newEnv(t, spec)
	ga := pickUser(t, e.tn, func(u graphtest.UserInfo) bool {
		return slices.Contains(u.Roles, graphtest.RoleGlobalAdministrator) && u.ID != e.tn.KeptAdmin().ID
	})
	err := e.d.DeleteUser(ctxT(t), ga.ID)
	require.True(t, closure.IsPermissionDenied(err), "%v", err)
	ae, _ := closure.AsAPIError(err)
	assert.Equal(t, "Privileged Authentication Administrator", ae.Permission)
}

// A grant or a removal made while closebot runs shows in the next
// GrantedPermissions (a token issued now), and the Graph client then sends
// that token: a just-in-time grant does not wait for the cached token to
// expire.
func TestGrantedPermissionsFollowGrantsAtOnce(t *testing.T) {
	e := newEnv(t, smallSpec())
	ctx := ctxT(t)
	got, err := e.d.GrantedPermissions(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, e.s.AppRoles(e.tn.ID, e.tn.ClosebotAppID), got)

	_, err = e.d.Organization(ctx) // caches a token with every role
	require.NoError(t, err)
	e.s.RevokeAppRole(e.tn.ID, e.tn.ClosebotAppID, "Organization.ReadWrite.All")
	got, err = e.d.GrantedPermissions(ctx)
	require.NoError(t, err)
	assert.NotContains(t, got, "Organization.ReadWrite.All")
	_, err = e.d.Organization(ctx)
	require.True(t, closure.IsPermissionDenied(err), "the client still sends the old token: %v", err)

	e.s.GrantAppRole(e.tn.ID, e.tn.ClosebotAppID, "Organization.ReadWrite.All")
	got, err = e.d.GrantedPermissions(ctx)
	require.NoError(t, err)
	assert.Contains(t, got, "Organization.ReadWrite.All")
	_, err = e.d.Organization(ctx)
	require.NoError(t, err)
}
