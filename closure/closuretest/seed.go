package closuretest

import (
	"fmt"
	"time"

	"github.com/closebot/closebot/closure"
)

// Well-known ids of a seeded tenant.
const (
	KeepID           = "00000000-0000-4000-8000-00000000kee0"
	KeepAssignmentID = "ra-keep-ga"
	MicrosoftTenant  = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
	OtherPublisher   = "99999999-0000-4000-8000-000000000999"
	PartnerTenant    = "77777777-0000-4000-8000-000000000777"
	// Authenticator is the @odata.type of an MFA method.
	Authenticator = "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod"
	Password      = "#microsoft.graph.passwordAuthenticationMethod"
	Phone         = "#microsoft.graph.phoneAuthenticationMethod"
	Email         = "#microsoft.graph.emailAuthenticationMethod"
	UserAdminRole = "fe930be7-5e62-47db-91af-98c3a49a38b1"
)

// Seed describes a tenant to build: counts of each kind of user, and
// whether directory sync is on. Every seeded tenant also has the kept admin
// (permanent direct Global Administrator with Authenticator and per-user
// MFA enforced), subscriptions of every channel, app registrations and
// service principals of every kind (closebot's, Microsoft's, another
// publisher's, a managed identity), security defaults on and one
// conditional-access policy.
type Seed struct {
	TenantID, Domain, Keep, ClosebotAppID string
	Members, Guests, Synced               int
	Privileged                            int // users with an active User Administrator role
	OtherGlobalAdmins                     int // users with an active Global Administrator role
	EligibleGlobalAdmins                  int // users with a PIM-eligible Global Administrator role
	Restricted                            int // members of a restricted-management admin unit
	SyncEnabled                           bool
}

// UserID is the id of the n-th seeded user of a kind.
func UserID(kind string, n int) string { return fmt.Sprintf("%s-%04d", kind, n) }

// SeedTenant builds a Directory from a Seed.
func SeedTenant(clock closure.Clock, s Seed) *Directory {
	d := NewDirectory(s.TenantID, "Contoso Ltd", clock)
	// Role assignments and eligibilities began a year ago: PIM's schedule
	// instances always carry a start.
	since := clock.Now().AddDate(-1, 0, 0)
	d.ConversionDelay = 2 * time.Hour
	d.SetOrganization(closure.Organization{ID: s.TenantID, DisplayName: "Contoso Ltd", TenantType: "AAD", SyncEnabled: s.SyncEnabled})
	d.AddDomain(closure.Domain{ID: s.Domain, Verified: true, Initial: true})
	d.AddDomain(closure.Domain{ID: "contoso.com", Verified: true, Default: true, Federated: true})

	d.AddUser(closure.User{ID: KeepID, UPN: s.Keep, DisplayName: "Kept Admin", UserType: "Member", Enabled: true})
	d.AddRole(closure.RoleAssignment{ID: KeepAssignmentID, RoleDefinitionID: closure.RoleGlobalAdministrator, PrincipalID: KeepID,
		PrincipalType: closure.PrincipalUser, DirectoryScopeID: "/", AssignmentType: "Assigned", MemberType: "Direct", Start: since}, false)
	d.SetMethods(KeepID, Password, Authenticator, Phone)
	d.SetMFA(KeepID, "enforced")

	add := func(kind string, n int, f func(*closure.User)) {
		for i := 1; i <= n; i++ {
			u := closure.User{ID: UserID(kind, i), UPN: fmt.Sprintf("%s%d@contoso.com", kind, i), UserType: "Member", Enabled: true}
			f(&u)
			d.AddUser(u)
			if i%3 == 0 {
				d.SetMFA(u.ID, "enabled")
			}
		}
	}
	add("member", s.Members, func(*closure.User) {})
	add("guest", s.Guests, func(u *closure.User) {
		u.UserType, u.UPN = "Guest", fmt.Sprintf("%s_ext#EXT#@%s", u.ID, s.Domain)
	})
	add("synced", s.Synced, func(u *closure.User) { u.Synced = true })
	add("priv", s.Privileged, func(*closure.User) {})
	add("ga", s.OtherGlobalAdmins, func(*closure.User) {})
	add("eligible", s.EligibleGlobalAdmins, func(*closure.User) {})
	add("restricted", s.Restricted, func(*closure.User) {})
	for i := 1; i <= s.Privileged; i++ {
		d.AddRole(closure.RoleAssignment{ID: "ra-" + UserID("priv", i), RoleDefinitionID: UserAdminRole, PrincipalID: UserID("priv", i),
			PrincipalType: closure.PrincipalUser, DirectoryScopeID: "/", AssignmentType: "Assigned", MemberType: "Direct", Start: since}, false)
	}
	for i := 1; i <= s.OtherGlobalAdmins; i++ {
		d.AddRole(closure.RoleAssignment{ID: "ra-" + UserID("ga", i), RoleDefinitionID: closure.RoleGlobalAdministrator, PrincipalID: UserID("ga", i),
			PrincipalType: closure.PrincipalUser, DirectoryScopeID: "/", AssignmentType: "Assigned", MemberType: "Direct", Start: since}, false)
	}
	for i := 1; i <= s.EligibleGlobalAdmins; i++ {
		d.AddRole(closure.RoleAssignment{ID: "re-" + UserID("eligible", i), RoleDefinitionID: closure.RoleGlobalAdministrator, PrincipalID: UserID("eligible", i),
			PrincipalType: closure.PrincipalUser, DirectoryScopeID: "/", AssignmentType: "Assigned", MemberType: "Direct", Start: since}, true)
	}
	if s.Restricted > 0 {
		au := closure.AdministrativeUnit{ID: "au-restricted", DisplayName: "Executives", Restricted: true}
		for i := 1; i <= s.Restricted; i++ {
			au.Members = append(au.Members, UserID("restricted", i))
		}
		d.AddUnit(au)
	}
	d.AddUnit(closure.AdministrativeUnit{ID: "au-open", DisplayName: "Sales", Members: []string{UserID("member", 1)}})

	now := clock.Now()
	d.AddSubscription(closure.CompanySubscription{ID: "sub-direct", SkuPartNumber: "SPE_E3", Status: "Enabled", OwnerTenantID: s.TenantID,
		OwnerType: "Company", TotalLicenses: 25, NextLifecycle: now.AddDate(0, 6, 0)})
	d.AddSubscription(closure.CompanySubscription{ID: "sub-csp", SkuPartNumber: "O365_BUSINESS_PREMIUM", Status: "Enabled", OwnerTenantID: PartnerTenant,
		OwnerType: "Company", TotalLicenses: 10, NextLifecycle: now.AddDate(0, 2, 0)})
	d.AddSubscription(closure.CompanySubscription{ID: "sub-mca", SkuPartNumber: "ENTERPRISEPACK", Status: "Warning", OwnerTenantID: s.TenantID,
		OwnerType: "Company", TotalLicenses: 5, NextLifecycle: now.AddDate(0, 0, 20)})
	d.AddSubscription(closure.CompanySubscription{ID: "sub-old", SkuPartNumber: "FLOW_FREE", Status: "Deleted", OwnerTenantID: s.TenantID, TotalLicenses: 1})

	d.SetSecurityDefaults(true)
	d.AddCAPolicy(closure.CAPolicy{ID: "ca-block-legacy", DisplayName: "Block legacy auth", State: "enabled",
		IncludeUsers: []string{"All"}, GrantControls: []string{"block"}})
	d.AddCAPolicy(closure.CAPolicy{ID: "ca-mfa-admins", DisplayName: "MFA for admins", State: "enabled",
		IncludeRoles: []string{closure.RoleGlobalAdministrator}, GrantControls: []string{"mfa"}})
	d.SetCounts(closure.DataCounts{Devices: 12, Groups: 9, UnifiedGroups: 4})

	d.AddApp(closure.Application{ID: "app-hr", AppID: "a0000000-0000-4000-8000-0000000000a1", DisplayName: "HR portal", SignInAudience: "AzureADMyOrg"})
	d.AddApp(closure.Application{ID: "app-saas", AppID: "a0000000-0000-4000-8000-0000000000a2", DisplayName: "Partner SaaS", SignInAudience: "AzureADMultipleOrgs"})
	d.AddApp(closure.Application{ID: "app-closebot", AppID: s.ClosebotAppID, DisplayName: "closebot", SignInAudience: "AzureADMyOrg"})
	for _, sp := range []closure.ServicePrincipal{
		{ID: "sp-hr", AppID: "a0000000-0000-4000-8000-0000000000a1", DisplayName: "HR portal", AppOwnerOrganizationID: s.TenantID, Type: "Application", AccountEnabled: true},
		{ID: "sp-saas", AppID: "a0000000-0000-4000-8000-0000000000a2", DisplayName: "Partner SaaS", AppOwnerOrganizationID: s.TenantID, Type: "Application", AccountEnabled: true},
		{ID: "sp-closebot", AppID: s.ClosebotAppID, DisplayName: "closebot", AppOwnerOrganizationID: s.TenantID, Type: "Application", AccountEnabled: true},
		{ID: "sp-graph", AppID: "00000003-0000-0000-c000-000000000000", DisplayName: "Microsoft Graph", AppOwnerOrganizationID: MicrosoftTenant, Type: "Application", AccountEnabled: true},
		{ID: "sp-exo", AppID: "00000002-0000-0ff1-ce00-000000000000", DisplayName: "Office 365 Exchange Online", AppOwnerOrganizationID: MicrosoftTenant, Type: "Application", AccountEnabled: true},
		{ID: "sp-zoom", AppID: "b0000000-0000-4000-8000-0000000000b1", DisplayName: "Zoom", AppOwnerOrganizationID: OtherPublisher, Type: "Application", AccountEnabled: true},
		{ID: "sp-mi", AppID: "c0000000-0000-4000-8000-0000000000c1", DisplayName: "backup-vm", AppOwnerOrganizationID: s.TenantID, Type: "ManagedIdentity", AccountEnabled: true},
	} {
		d.AddSP(sp)
	}
	return d
}
