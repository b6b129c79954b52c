package closure_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

const closebotApp = "11111111-1111-1111-1111-111111111111"

// buildTenant is the configured tenant the builder tests plan for.
func buildTenant() closure.TenantPolicy {
	tp := testPolicy().Tenants[0]
	tp.ClientID = closebotApp
	tp.Keep = "admin@" + domain
	return tp
}

// buildInput is a small tenant as run.ReadTenant would return it: the kept
// admin (permanent direct Global Administrator with two MFA methods), a
// member, a guest, a synced user and a privileged user; no I/O involved.
func buildInput() closure.TenantRead {
	keepGA := closure.RoleAssignment{ID: "ra-keep", RoleDefinitionID: closure.RoleGlobalAdministrator, PrincipalID: "u-keep",
		DirectoryScopeID: "/", AssignmentType: "Assigned", MemberType: "Direct"}
	return closure.TenantRead{
		Organization: closure.Organization{ID: tenantID, DisplayName: "Contoso Ltd", TenantType: "AAD"},
		Domains: []closure.Domain{
			{ID: domain, Verified: true, Initial: true},
			{ID: "contoso.com", Verified: true, Federated: true},
		},
		Users: []closure.User{
			{ID: "u-priv", UPN: "priv@" + domain, UserType: "Member", Enabled: true},
			{ID: "u-keep", UPN: "admin@" + domain, UserType: "Member", Enabled: true},
			{ID: "u-synced", UPN: "synced@contoso.com", UserType: "Member", Enabled: true, Synced: true},
			{ID: "u-guest", UPN: "guest_x#EXT#@" + domain, UserType: "Guest", Enabled: true},
			{ID: "u-b", UPN: "b@" + domain, UserType: "Member", Enabled: true},
			{ID: "u-a", UPN: "a@" + domain, UserType: "Member", Enabled: true},
		},
		Roles: closure.RoleView{
			Active: []closure.RoleAssignment{keepGA,
				{ID: "ra-priv", RoleDefinitionID: closure.RolePrivilegedAuthenticationAdministrator, PrincipalID: "u-priv",
					DirectoryScopeID: "/", AssignmentType: "Assigned", MemberType: "Direct"}},
			PIM: false,
		},
		Subscriptions: []closure.CompanySubscription{
			{ID: "sub-direct", SkuPartNumber: "SPE_E3", Status: "Enabled", OwnerTenantID: tenantID},
			{ID: "sub-csp", SkuPartNumber: "O365_BUSINESS", Status: "Enabled", OwnerTenantID: "partner"},
		},
		Apps: []closure.Application{
			{ID: "app-hr", AppID: "a-hr", DisplayName: "HR", SignInAudience: "AzureADMyOrg"},
			{ID: "app-closebot", AppID: closebotApp, DisplayName: "closebot", SignInAudience: "AzureADMyOrg"},
		},
		SPs: []closure.ServicePrincipal{
			{ID: "sp-hr", AppID: "a-hr", AppOwnerOrganizationID: tenantID, Type: "Application", AccountEnabled: true},
			{ID: "sp-closebot", AppID: closebotApp, AppOwnerOrganizationID: tenantID, Type: "Application", AccountEnabled: true},
		},
		Counts:      closure.DataCounts{Devices: 3},
		Unavailable: []string{"conditional access (needs Microsoft Entra ID P1)"},
		KeepMethods: []string{"#microsoft.graph.passwordAuthenticationMethod",
			"#microsoft.graph.microsoftAuthenticatorAuthenticationMethod", "#microsoft.graph.fido2AuthenticationMethod"},
	}
}

// TestBuildPlanPure: the plan builder turns a read into the plan and its
// preflight items without any Directory.
func TestBuildPlanPure(t *testing.T) {
	tp := buildTenant()
	in := buildInput()
	p, items := closure.BuildPlan(tp, in, t0)
	require.Empty(t, items)

	assert.Equal(t, tenantID, p.TenantID)
	assert.Equal(t, "Contoso Ltd", p.TenantName)
	assert.Equal(t, t0, p.ReadAt)
	assert.Equal(t, "u-keep", p.Keep.ID)
	assert.Equal(t, closure.KindKeep, p.Keep.Kind)
	assert.Equal(t, "ra-keep", p.KeepAssignmentID)
	assert.Equal(t, []string{"contoso.com"}, p.FederatedDomains)
	assert.False(t, p.PIM)
	var order []string
	for _, u := range p.Users {
		order = append(order, u.ID)
	}
	assert.Equal(t, []string{"u-a", "u-b", "u-guest", "u-synced", "u-priv"}, order, "members, guests, synced, privileged; by UPN")
	assert.Equal(t, closure.KindPrivileged, p.Users[4].Kind)
	assert.Equal(t, "csp", p.Subscriptions[1].Channel)
	require.Len(t, p.ServicePrincipals, 1)
	assert.Equal(t, "sp-hr", p.ServicePrincipals[0].ID)
	assert.Equal(t, 1, p.KeptServicePrincipals)
	assert.Equal(t, []string{"conditional access (needs Microsoft Entra ID P1)",
		"PIM (needs Microsoft Entra ID P2 or ID Governance; every role assignment read is permanent and none eligible)"}, p.Unavailable)
	assert.Equal(t, []string{"conditional access (needs Microsoft Entra ID P1)"}, in.Unavailable, "the input is not changed")
	assert.Equal(t, t0.Add(closure.RestoreWindow), p.RestoreDeadline)

	again, _ := closure.BuildPlan(tp, in, t0)
	assert.Equal(t, p.Facts().Digest(), again.Facts().Digest(), "same input, same plan")
}

// TestBuildPlanItems: the builder lists the preflight items it can tell
// from the read alone.
func TestBuildPlanItems(t *testing.T) {
	tp := buildTenant()
	in := buildInput()
	in.Organization.TenantType = "AADB2C"
	in.Roles.Active = in.Roles.Active[1:]
	in.KeepMethods = []string{"#microsoft.graph.passwordAuthenticationMethod", "#microsoft.graph.emailAuthenticationMethod"}
	in.Holds = []closure.LegalHold{{CaseName: "Audit", Source: closure.HoldCustodian, Name: "a@contoso.com", HoldStatus: "applied"}}
	p, items := closure.BuildPlan(tp, in, t0.Add(time.Hour))
	require.NotNil(t, p, "the plan is built even when items fail")
	var codes []string
	for _, it := range items {
		codes = append(codes, it.Code)
	}
	assert.Equal(t, []string{closure.RefuseTenantType, closure.RefuseKeepNotGA, closure.RefuseKeepNoMFA, closure.RefuseLegalHold}, codes)

	tp.Keep = "nobody@" + domain
	_, items = closure.BuildPlan(tp, buildInput(), t0)
	require.Len(t, items, 1)
	assert.Equal(t, closure.RefuseKeepMissing, items[0].Code)
}
