package msgraph

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/graphtest"
)

func TestReadsReturnSeededTenant(t *testing.T) {
	spec := smallSpec().WithP2(1)
	e := newEnv(t, spec)
	ctx := ctxT(t)
	d, tn := e.d, e.tn
	kept := tn.KeptAdmin()

	org, err := d.Organization(ctx)
	require.NoError(t, err)
	assert.Equal(t, closure.Organization{ID: tn.ID, DisplayName: "Contoso", TenantType: "AAD", SyncEnabled: true, LastSync: org.LastSync}, org)
	assert.False(t, org.LastSync.IsZero(), "onPremisesLastSyncDateTime")

	doms, err := d.Domains(ctx)
	require.NoError(t, err)
	byName := map[string]closure.Domain{}
	for _, dm := range doms {
		byName[dm.ID] = dm
	}
	require.Len(t, doms, 3)
	assert.Equal(t, closure.Domain{ID: tn.Domain, Verified: true, Initial: true}, byName[tn.Domain])
	assert.Equal(t, closure.Domain{ID: "contoso.com", Verified: true, Default: true}, byName["contoso.com"])
	assert.Equal(t, closure.Domain{ID: "corp.contoso.com", Verified: true, Federated: true}, byName["corp.contoso.com"])

	var all []closure.User
	require.NoError(t, d.Users(ctx, func(u closure.User) error { all = append(all, u); return nil }))
	seeded := tn.Users()
	require.Len(t, all, len(seeded))
	guests, synced, disabled := 0, 0, 0
	for _, u := range all {
		if u.UserType == "Guest" {
			guests++
		}
		if u.Synced {
			synced++
		}
		if !u.Enabled {
			disabled++
		}
		assert.NotEmpty(t, u.UPN)
		assert.NotEmpty(t, u.DisplayName)
	}
	assert.Equal(t, spec.Guests, guests, "guests")
	assert.Equal(t, spec.Synced, synced, "synced")
	assert.Equal(t, spec.Disabled, disabled, "disabled")
	for _, r := range requests(e.s, http.MethodGet, "/v1.0/users") {
		assert.Contains(t, r.RawQuery, "$select=", "users are read with $select")
		assert.Contains(t, r.RawQuery, "$top=999")
	}

	u, err := d.User(ctx, kept.UPN)
	require.NoError(t, err)
	assert.Equal(t, closure.User{ID: kept.ID, UPN: kept.UPN, DisplayName: "Kept Admin", UserType: "Member", Enabled: true}, u)

	// A guest's UPN holds '#EXT#': it must be escaped in the path.
	guest := pickUser(t, tn, func(u graphtest.UserInfo) bool { return u.UserType == "Guest" })
	g, err := d.User(ctx, guest.UPN)
	require.NoError(t, err)
	assert.Equal(t, guest.ID, g.ID)
	assert.Equal(t, "Guest", g.UserType)

	active, err := d.RoleAssignments(ctx)
	require.NoError(t, err)
	// kept admin + other GAs + PAAs + user admins (users) + closebot's SP.
	wantUsers := 1 + spec.GlobalAdmins + spec.PrivilegedAuthAdmins + spec.UserAdmins
	kinds := map[string]int{}
	keptGA := false
	for _, a := range active {
		kinds[a.PrincipalType]++
		assert.Equal(t, "Assigned", a.AssignmentType)
		assert.Equal(t, "Direct", a.MemberType)
		assert.Equal(t, "/", a.DirectoryScopeID)
		assert.True(t, a.Permanent())
		if a.PrincipalID == kept.ID && a.RoleDefinitionID == closure.RoleGlobalAdministrator {
			keptGA = true
		}
	}
	assert.Equal(t, map[string]int{closure.PrincipalUser: wantUsers, closure.PrincipalServicePrincipal: 1}, kinds)
	assert.True(t, keptGA, "kept admin's permanent Global Administrator assignment")

	sched, err := d.ActiveSchedules(ctx)
	require.NoError(t, err)
	require.Len(t, sched, len(active))
	for _, a := range sched {
		assert.False(t, a.Start.IsZero(), "a schedule instance has a start")
	}

	eligible, err := d.EligibleAssignments(ctx)
	require.NoError(t, err)
	require.Len(t, eligible, spec.EligibleGlobalAdmins)
	assert.Equal(t, closure.RoleGlobalAdministrator, eligible[0].RoleDefinitionID)
	assert.Equal(t, closure.PrincipalUser, eligible[0].PrincipalType)
	assert.Empty(t, eligible[0].AssignmentType)

	aus, err := d.AdministrativeUnits(ctx)
	require.NoError(t, err)
	require.Len(t, aus, 2)
	sort.Slice(aus, func(i, j int) bool { return aus[i].Restricted })
	assert.True(t, aus[0].Restricted)
	assert.Len(t, aus[0].Members, spec.RestrictedAUMembers)
	for _, m := range aus[0].Members {
		info, ok := tn.User(m)
		assert.True(t, ok && info.Restricted, "member %s restricted", m)
	}
	assert.False(t, aus[1].Restricted)
	assert.Empty(t, aus[1].Members)

	methods, err := d.AuthenticationMethods(ctx, kept.ID)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"#microsoft.graph.passwordAuthenticationMethod",
		"#microsoft.graph.microsoftAuthenticatorAuthenticationMethod", "#microsoft.graph.fido2AuthenticationMethod"}, methods)

	enforced := pickUser(t, tn, func(u graphtest.UserInfo) bool { return u.MFAState == "enforced" })
	state, err := d.PerUserMFA(ctx, enforced.ID)
	require.NoError(t, err)
	assert.Equal(t, "enforced", state)
	state, err = d.PerUserMFA(ctx, kept.ID)
	require.NoError(t, err)
	assert.Equal(t, "disabled", state)
	assert.NotEmpty(t, requests(e.s, http.MethodGet, "/beta/users/"+enforced.ID+"/authentication/requirements"))

	subs, err := d.Subscriptions(ctx)
	require.NoError(t, err)
	require.Len(t, subs, len(spec.Subscriptions))
	bySku := map[string]closure.CompanySubscription{}
	for _, s := range subs {
		bySku[s.SkuPartNumber] = s
		assert.NotEmpty(t, s.ID)
		assert.NotEmpty(t, s.CommerceID)
		assert.NotEmpty(t, s.SkuID)
		assert.False(t, s.NextLifecycle.IsZero(), "nextLifecycleDateTime of %s", s.SkuPartNumber)
		assert.False(t, s.Created.IsZero())
	}
	for _, ss := range spec.Subscriptions {
		got := bySku[ss.SkuPartNumber]
		want := ss.Status
		if want == "" {
			want = "Enabled"
		}
		assert.Equal(t, want, got.Status, ss.SkuPartNumber)
		assert.Equal(t, ss.Licenses, got.TotalLicenses, ss.SkuPartNumber)
		assert.Equal(t, ss.Trial, got.IsTrial, ss.SkuPartNumber)
		if ss.Channel == "csp" {
			assert.NotEqual(t, tn.ID, got.OwnerTenantID, "CSP subscription owned by the partner")
		} else {
			assert.Equal(t, tn.ID, got.OwnerTenantID, ss.SkuPartNumber)
		}
	}

	sd, err := d.SecurityDefaultsEnabled(ctx)
	require.NoError(t, err)
	assert.True(t, sd)

	ca, err := d.ConditionalAccessPolicies(ctx)
	require.NoError(t, err)
	require.Len(t, ca, spec.CAPolicies)
	for _, p := range ca {
		assert.Equal(t, "enabledForReportingButNotEnforced", p.State)
		assert.Equal(t, []string{"All"}, p.IncludeUsers)
		assert.Equal(t, []string{"mfa"}, p.GrantControls)
		assert.NotEmpty(t, p.DisplayName)
	}

	counts, err := d.Counts(ctx)
	require.NoError(t, err)
	assert.Equal(t, closure.DataCounts{Devices: spec.Devices, Groups: spec.M365Groups + spec.SecurityGroups, UnifiedGroups: spec.M365Groups}, counts)

	holds, err := d.LegalHolds(ctx)
	require.NoError(t, err)
	require.Len(t, holds, 3, "a custodian, a non-custodial data source and a hold policy")
	sources := map[string]closure.LegalHold{}
	for _, h := range holds {
		sources[h.Source] = h
		assert.Equal(t, "notApplied", h.HoldStatus, h.Source)
		assert.False(t, h.Active())
		assert.Equal(t, "active", h.CaseStatus)
		assert.NotEmpty(t, h.CaseName)
		assert.NotEmpty(t, h.Name)
	}
	assert.Equal(t, kept.UPN, sources[closure.HoldCustodian].Name)
	assert.Contains(t, sources, closure.HoldNoncustodial)
	assert.Contains(t, sources, closure.HoldPolicy)

	apps, err := d.Applications(ctx)
	require.NoError(t, err)
	require.Len(t, apps, tn.Count("application"))
	multi, closebot := 0, 0
	for _, a := range apps {
		if a.MultiTenant() {
			multi++
		}
		if strings.EqualFold(a.AppID, tn.ClosebotAppID) {
			closebot++
		}
	}
	assert.Equal(t, spec.SingleTenantApps+spec.MultiTenantApps+spec.SAMLApps+1, len(apps))
	assert.Equal(t, spec.MultiTenantApps, multi)
	assert.Equal(t, 1, closebot)

	sps, err := d.ServicePrincipals(ctx)
	require.NoError(t, err)
	require.Len(t, sps, tn.Count("servicePrincipal"))
	types := map[string]int{}
	owned, microsoft := 0, 0
	for _, sp := range sps {
		types[sp.Type]++
		switch sp.AppOwnerOrganizationID {
		case tn.ID:
			owned++
		case "f8cdef31-a31e-4b4a-93e4-5f571e91255a":
			microsoft++
		}
		assert.True(t, sp.AccountEnabled)
	}
	assert.Equal(t, spec.ManagedIdentities, types["ManagedIdentity"])
	assert.Equal(t, spec.LegacySPs, types["Legacy"])
	assert.Equal(t, spec.SingleTenantApps+spec.MultiTenantApps+spec.SAMLApps+1, owned, "tenant-owned SPs")
	assert.Positive(t, microsoft, "Microsoft's SPs")
}

func TestLegalHoldApplied(t *testing.T) {
	spec := smallSpec()
	spec.LegalHold = true
	e := newEnv(t, spec)
	holds, err := e.d.LegalHolds(ctxT(t))
	require.NoError(t, err)
	active := map[string]string{}
	for _, h := range holds {
		if h.Active() {
			active[h.Source] = h.HoldStatus
		}
	}
	assert.Equal(t, map[string]string{closure.HoldCustodian: "applied"}, active)
}

// Every hold source and every hold status the domain refuses on reaches it
// from the real SDK: non-custodial sources' holdStatus and hold policies'
// isEnabled/status mapped to a holdStatus.
func TestLegalHoldSourcesAndStatuses(t *testing.T) {
	e := newEnv(t, smallSpec())
	caseID := e.tn.CaseIDs()[0]
	for _, tc := range []struct{ source, status string }{
		{graphtest.HoldNoncustodial, "applied"}, {graphtest.HoldNoncustodial, "applying"}, {graphtest.HoldNoncustodial, "removing"},
		{graphtest.HoldPolicy, "applied"}, {graphtest.HoldPolicy, "applying"}, {graphtest.HoldPolicy, "removing"},
		{graphtest.HoldPolicy, "partial"}, {graphtest.HoldPolicy, "notApplied"},
	} {
		require.NoError(t, e.tn.ReleaseHold(caseID))
		require.NoError(t, e.tn.SetHold(caseID, tc.source, tc.status))
		holds, err := e.d.LegalHolds(ctxT(t))
		require.NoError(t, err)
		got := ""
		for _, h := range holds {
			if h.Source == tc.source {
				got = h.HoldStatus
				assert.Equal(t, tc.status != "notApplied", h.Active(), "%s %s", tc.source, tc.status)
			}
		}
		assert.Equal(t, tc.status, got, tc.source)
	}
}

// On the default licence mix (Microsoft 365 E3 + Office 365 E5, no P2) role
// assignments answer, PIM refuses with a licence error the domain
// recognises, and conditional access answers (P1).
func TestLicenceRefusalsAreUnlicensed(t *testing.T) {
	e := newEnv(t, smallSpec())
	ctx := ctxT(t)
	active, err := e.d.RoleAssignments(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, active)
	for _, get := range []func(context.Context) ([]closure.RoleAssignment, error){e.d.ActiveSchedules, e.d.EligibleAssignments} {
		_, err := get(ctx)
		require.Error(t, err)
		assert.True(t, closure.IsUnlicensed(err), "%v", err)
		ae, _ := closure.AsAPIError(err)
		assert.Equal(t, 400, ae.Status)
		assert.Equal(t, "AadPremiumLicenseRequired", ae.Code)
	}
	_, err = e.d.ConditionalAccessPolicies(ctx)
	require.NoError(t, err)

	bs := smallSpec()
	bs.Subscriptions = graphtest.BusinessStandard(10)
	e = newEnv(t, bs)
	_, err = e.d.ConditionalAccessPolicies(ctx)
	assert.True(t, closure.IsUnlicensed(err), "%v", err)
	_, err = e.d.LegalHolds(ctx)
	require.Error(t, err)
	ae, _ := closure.AsAPIError(err)
	assert.Equal(t, 403, ae.Status, "eDiscovery without Premium (assumed refusal)")
}

func TestSelfServiceProductsAndDisable(t *testing.T) {
	spec := smallSpec()
	spec.Subscriptions = append(spec.Subscriptions, graphtest.SubscriptionSpec{SkuPartNumber: "FLOW_FREE", SelfService: true, Licenses: 10000})
	e := newEnv(t, spec)
	ctx := ctxT(t)
	subs, err := e.d.Subscriptions(ctx)
	require.NoError(t, err)
	self := 0
	for _, s := range subs {
		if s.SelfService {
			self++
			assert.Equal(t, "FLOW_FREE", s.SkuPartNumber)
			assert.Equal(t, "User", s.OwnerType)
		}
	}
	assert.Equal(t, 1, self)

	sps, err := e.d.ServicePrincipals(ctx)
	require.NoError(t, err)
	for _, sp := range sps {
		if sp.DisplayName != "Northwind Connector 1" {
			continue
		}
		err := e.d.DeleteServicePrincipal(ctx, sp.ID)
		require.Error(t, err)
		ae, _ := closure.AsAPIError(err)
		assert.Equal(t, 403, ae.Status)
		assert.Empty(t, ae.Permission, "the app role is granted: Graph refused the object, not the permission")
		require.NoError(t, e.d.DisableServicePrincipal(ctx, sp.ID))
		require.NoError(t, e.d.DisableServicePrincipal(ctx, sp.ID), "already disabled is done")
		require.NoError(t, e.d.DisableServicePrincipal(ctx, "00000000-0000-0000-0000-000000000000"), "gone is done")
	}
	after, err := e.d.ServicePrincipals(ctx)
	require.NoError(t, err)
	for _, sp := range after {
		if sp.DisplayName == "Northwind Connector 1" {
			assert.False(t, sp.AccountEnabled)
		}
	}
}

func TestPerUserMFAUnknownFutureValuePassesThrough(t *testing.T) {
	spec := smallSpec()
	spec.PerUserMFAUnknown = 1
	e := newEnv(t, spec)
	u := pickUser(t, e.tn, func(u graphtest.UserInfo) bool { return u.MFAState == "unknownFutureValue" })
	state, err := e.d.PerUserMFA(ctxT(t), u.ID)
	require.NoError(t, err)
	assert.Equal(t, "unknownFutureValue", state)
}

// 1,500 users come in two pages of at most 999, the second through the
// absolute @odata.nextLink.
func TestUsersPageThrough(t *testing.T) {
	spec := graphtest.DefaultTenantSpec(1500)
	e := newEnv(t, spec)
	seen := map[string]bool{}
	require.NoError(t, e.d.Users(ctxT(t), func(u closure.User) error {
		assert.False(t, seen[u.ID], "user %s twice", u.ID)
		seen[u.ID] = true
		return nil
	}))
	assert.Len(t, seen, 1500)
	pages := requests(e.s, http.MethodGet, "/v1.0/users")
	require.Len(t, pages, 2)
	assert.Contains(t, pages[1].RawQuery, "$skiptoken=")

	// fn's error stops the listing and comes back as is.
	stop := assert.AnError
	n := 0
	err := e.d.Users(ctxT(t), func(closure.User) error { n++; return stop })
	assert.ErrorIs(t, err, stop)
	assert.Equal(t, 1, n)
}

func TestUserNotFoundIsAPIError404(t *testing.T) {
	e := newEnv(t, smallSpec())
	_, err := e.d.User(ctxT(t), "00000000-0000-0000-0000-00000000dead")
	ae, ok := closure.AsAPIError(err)
	require.True(t, ok, "error %v", err)
	assert.Equal(t, http.StatusNotFound, ae.Status)
	assert.Equal(t, "Request_ResourceNotFound", ae.Code)
	assert.NotEmpty(t, ae.Message)
	assert.Contains(t, ae.Op, "read user")
}
