package run_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/closuretest"
	"github.com/closebot/closebot/closure/run"
)

func keepTenant() closure.TenantPolicy { return runnerPolicy().Tenants[0] }

// TestPreflightRefusals: each refusal of DESIGN §5, named with what to fix.
func TestPreflightRefusals(t *testing.T) {
	ga := func(f func(*closure.RoleAssignment)) func(*closuretest.Directory) {
		return func(d *closuretest.Directory) {
			d.RemoveRoles(closuretest.KeepID)
			a := closure.RoleAssignment{ID: "ra-x", RoleDefinitionID: closure.RoleGlobalAdministrator, PrincipalID: closuretest.KeepID,
				DirectoryScopeID: "/", AssignmentType: "Assigned", MemberType: "Direct"}
			f(&a)
			d.AddRole(a, false)
		}
	}
	cases := []struct {
		name   string
		code   string
		mutate func(*closuretest.Directory)
		tenant func(*closure.TenantPolicy)
	}{
		{"tenant type", closure.RefuseTenantType, func(d *closuretest.Directory) {
			d.SetOrganization(closure.Organization{ID: tenantID, TenantType: "AADB2C"})
		}, nil},
		{"keep missing", closure.RefuseKeepMissing, nil, func(tp *closure.TenantPolicy) { tp.Keep = "nobody@" + domain }},
		{"keep guest", closure.RefuseKeepGuest, func(d *closuretest.Directory) {
			d.UpdateUser(closuretest.KeepID, func(u *closure.User) { u.UserType = "Guest" })
		}, nil},
		{"keep synced", closure.RefuseKeepSynced, func(d *closuretest.Directory) {
			d.UpdateUser(closuretest.KeepID, func(u *closure.User) { u.Synced = true })
		}, nil},
		{"keep disabled", closure.RefuseKeepDisabled, func(d *closuretest.Directory) {
			d.UpdateUser(closuretest.KeepID, func(u *closure.User) { u.Enabled = false })
		}, nil},
		{"keep federated", closure.RefuseKeepFederated, func(d *closuretest.Directory) {
			d.UpdateUser(closuretest.KeepID, func(u *closure.User) { u.UPN = "boss@contoso.com" })
		}, func(tp *closure.TenantPolicy) { tp.Keep = "boss@contoso.com" }},
		{"keep in restricted unit", closure.RefuseKeepRestricted, func(d *closuretest.Directory) {
			d.AddUnit(closure.AdministrativeUnit{ID: "au-x", DisplayName: "Locked", Restricted: true, Members: []string{closuretest.KeepID}})
		}, nil},
		{"keep not GA", closure.RefuseKeepNotGA, func(d *closuretest.Directory) { d.RemoveRoles(closuretest.KeepID) }, nil},
		{"keep GA only eligible", closure.RefuseKeepNotGA, func(d *closuretest.Directory) {
			d.RemoveRoles(closuretest.KeepID)
			d.AddRole(closure.RoleAssignment{ID: "re-keep", RoleDefinitionID: closure.RoleGlobalAdministrator, PrincipalID: closuretest.KeepID,
				DirectoryScopeID: "/", AssignmentType: "Assigned", MemberType: "Direct"}, true)
		}, nil},
		{"keep GA time-bound", closure.RefuseKeepNotGA, ga(func(a *closure.RoleAssignment) { a.End = t0.Add(24 * time.Hour) }), nil},
		{"keep GA through a group", closure.RefuseKeepNotGA, ga(func(a *closure.RoleAssignment) { a.MemberType = "Group" }), nil},
		{"keep GA activated", closure.RefuseKeepNotGA, ga(func(a *closure.RoleAssignment) { a.AssignmentType = "Activated" }), nil},
		{"keep GA scoped", closure.RefuseKeepNotGA, ga(func(a *closure.RoleAssignment) { a.DirectoryScopeID = "/administrativeUnits/au-open" }), nil},
		{"keep without MFA", closure.RefuseKeepNoMFA, func(d *closuretest.Directory) {
			d.SetMethods(closuretest.KeepID, closuretest.Password)
		}, nil},
		{"keep with one MFA method", closure.RefuseKeepNoMFA, func(d *closuretest.Directory) {
			d.SetMethods(closuretest.KeepID, closuretest.Password, closuretest.Authenticator)
		}, nil},
		{"keep with email but one MFA method", closure.RefuseKeepNoMFA, func(d *closuretest.Directory) {
			d.SetMethods(closuretest.KeepID, closuretest.Password, closuretest.Email, closuretest.Phone)
		}, nil},
		{"legal hold", closure.RefuseLegalHold, func(d *closuretest.Directory) {
			d.AddHold(closure.LegalHold{CaseID: "c1", CaseName: "Smith v. Contoso", Source: closure.HoldCustodian, Name: "member1@contoso.com", HoldStatus: "applied"})
		}, nil},
		{"closebot app unknown", closure.RefuseClosebotUnknown, nil, func(tp *closure.TenantPolicy) { tp.ClientID = "" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock := closuretest.NewClock(t0)
			dir := closuretest.SeedTenant(clock, defaultSeed())
			tp := keepTenant()
			if c.mutate != nil {
				c.mutate(dir)
			}
			if c.tenant != nil {
				c.tenant(&tp)
			}
			p, err := run.Preflight(context.Background(), dir, tp, clock.Now())
			assert.Nil(t, p)
			var pe *closure.PreflightError
			require.True(t, errors.As(err, &pe), "want a PreflightError, got %v", err)
			require.True(t, pe.Has(c.code), "items: %+v", pe.Items)
			for _, it := range pe.Items {
				assert.NotEmpty(t, it.Problem)
				assert.NotEmpty(t, it.Fix)
			}
			assert.Contains(t, err.Error(), "fix:")
			assert.Empty(t, dir.Writes(), "preflight is read-only")
		})
	}
}

// TestPreflightListsEveryItem: several failures are all named at once.
func TestPreflightListsEveryItem(t *testing.T) {
	clock := closuretest.NewClock(t0)
	dir := closuretest.SeedTenant(clock, defaultSeed())
	dir.UpdateUser(closuretest.KeepID, func(u *closure.User) { u.Enabled = false })
	dir.SetMethods(closuretest.KeepID, closuretest.Password)
	dir.AddHold(closure.LegalHold{CaseName: "Audit", Source: closure.HoldCustodian, Name: "x@contoso.com", HoldStatus: "applying"})
	_, err := run.Preflight(context.Background(), dir, keepTenant(), clock.Now())
	var pe *closure.PreflightError
	require.True(t, errors.As(err, &pe))
	assert.Len(t, pe.Items, 3)
	assert.True(t, pe.Has(closure.RefuseKeepDisabled) && pe.Has(closure.RefuseKeepNoMFA) && pe.Has(closure.RefuseLegalHold))
}

// TestPlanContents: the plan of DESIGN §5 and its facts.
func TestPlanContents(t *testing.T) {
	clock := closuretest.NewClock(t0)
	seed := defaultSeed()
	seed.Restricted = 2
	dir := closuretest.SeedTenant(clock, seed)
	dir.AddHold(closure.LegalHold{CaseName: "Old", Source: closure.HoldCustodian, Name: "x@contoso.com", HoldStatus: "notApplied"})
	p, err := run.Preflight(context.Background(), dir, keepTenant(), clock.Now())
	require.NoError(t, err)

	assert.Equal(t, tenantID, p.TenantID)
	assert.Equal(t, "Contoso Ltd", p.TenantName)
	assert.Equal(t, "AAD", p.TenantType)
	assert.ElementsMatch(t, []string{domain, "contoso.com"}, p.VerifiedDomains)
	assert.Equal(t, []string{"contoso.com"}, p.FederatedDomains)
	assert.Equal(t, closuretest.KeepID, p.Keep.ID)
	assert.Equal(t, closuretest.KeepAssignmentID, p.KeepAssignmentID)

	assert.Equal(t, seed.Members+seed.Restricted, p.CountKind(closure.KindMember))
	assert.Equal(t, seed.Guests, p.CountKind(closure.KindGuest))
	assert.Equal(t, seed.Synced, p.CountKind(closure.KindSynced))
	assert.Equal(t, seed.Privileged+seed.OtherGlobalAdmins+seed.EligibleGlobalAdmins, p.CountKind(closure.KindPrivileged))
	assert.Equal(t, []string{closuretest.UserID("eligible", 1)}, p.EligibleGlobalAdmins)
	assert.Equal(t, closure.KindPrivileged, p.Users[len(p.Users)-1].Kind, "privileged users last")
	require.Len(t, p.RestrictedUnits, 1)
	assert.Equal(t, []string{"restricted1@contoso.com", "restricted2@contoso.com"}, p.RestrictedUnits[0].Members)

	channels := map[string]string{}
	for _, s := range p.Subscriptions {
		channels[s.ID] = s.Channel
	}
	assert.Equal(t, map[string]string{"sub-direct": "direct", "sub-csp": "csp", "sub-mca": "direct", "sub-old": "direct"}, channels)
	assert.Equal(t, 12, p.Counts.Devices)
	assert.Equal(t, 4, p.Counts.UnifiedGroups)

	del := map[string]bool{}
	multi := map[string]bool{}
	for _, a := range p.Apps {
		del[a.ID], multi[a.ID] = a.Delete, a.MultiTenant
	}
	assert.Equal(t, map[string]bool{"app-hr": true, "app-saas": true, "app-closebot": false}, del)
	assert.True(t, multi["app-saas"])
	var sps []string
	for _, sp := range p.ServicePrincipals {
		sps = append(sps, sp.ID)
	}
	assert.ElementsMatch(t, []string{"sp-hr", "sp-saas"}, sps)
	require.Len(t, p.OtherServicePrincipals, 1, "another publisher's enabled app blocks the tenant's deletion")
	assert.Equal(t, "sp-zoom", p.OtherServicePrincipals[0].ID)
	assert.Equal(t, 4, p.KeptServicePrincipals, "Microsoft's, closebot's and the managed identity")

	assert.True(t, p.SecurityDefaults)
	require.Len(t, p.BlockingCAPolicies, 1, "the MFA-only policy cannot block a kept admin with MFA")
	assert.Equal(t, "ca-block-legacy", p.BlockingCAPolicies[0].ID)

	users := len(p.Users)
	assert.Equal(t, 1+users+2+2, p.Budget.Writes, "sync-off, users, service principals, apps")
	assert.Equal(t, closure.WritesETA(p.Budget.Writes), p.Budget.ETA)
	assert.Equal(t, 3*time.Second, closure.WritesETA(41))
	assert.Equal(t, t0.Add(closure.RestoreWindow), p.RestoreDeadline)

	f := p.Facts()
	assert.Equal(t, seed.Members+seed.Restricted+seed.Guests+seed.Synced, f.OrdinaryUsers)
	assert.Contains(t, f.Privileged, closuretest.KeepID)
	assert.Contains(t, f.Privileged, closuretest.UserID("eligible", 1))
	assert.Len(t, f.Subscriptions, 4)
	assert.Len(t, f.Apps, 3)
	assert.True(t, f.SyncEnabled)
	assert.Equal(t, f.Digest(), p.Facts().Digest(), "stable digest")
}

// TestRunnerPlanIsReadOnly: `plan` needs a configured tenant and writes nothing.
func TestRunnerPlanIsReadOnly(t *testing.T) {
	rg := newRig(t, defaultSeed())
	_, err := rg.runner.Plan(context.Background(), "fabrikam.onmicrosoft.com")
	requireRule(t, closure.RuleUnknownTenant, err)
	p, err := rg.runner.Plan(context.Background(), tenantID)
	require.NoError(t, err)
	assert.NotEmpty(t, p.Users)
	assert.Empty(t, rg.dir.Writes())
	list, err := rg.Store.List(context.Background(), false, 0)
	require.NoError(t, err)
	assert.Empty(t, list, "no request")
}
