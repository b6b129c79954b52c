package msgraph

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/closebot/closebot/closure"
)

// PermissionKind says how a permission is granted.
type PermissionKind string

const (
	// ApplicationPermission is a Microsoft Graph application permission
	// (app role), granted with admin consent.
	ApplicationPermission PermissionKind = "application permission"
	// DirectoryRole is an Entra directory role assigned to closebot's
	// service principal.
	DirectoryRole PermissionKind = "directory role"
)

// Permission is one grant closebot's app needs in a tenant.
type Permission struct {
	Permission string // e.g. User.ReadWrite.All, or the role's display name
	Kind       PermissionKind
	Why        string
	// RoleTemplateID is the directory role's template id (DirectoryRole only).
	RoleTemplateID string
	// Write marks what closebot needs only to write: with write_access
	// just_in_time the kept admin grants it for one closure and removes
	// it after step 5's last write.
	Write bool
	// AppRoleID is Microsoft Graph's app role id of a Write application
	// permission, for the PowerShell lines (Learn: "Microsoft Graph
	// permissions reference").
	AppRoleID string
	// ReadAtRest is the read-only application permission that covers a
	// Write permission's reads between closures ("" when it has none).
	ReadAtRest string
}

// WriteGrants are the Write rows of Permissions as the core names them.
func WriteGrants() []closure.WriteGrant {
	var out []closure.WriteGrant
	for _, p := range Permissions {
		if p.Write {
			out = append(out, closure.WriteGrant{Name: p.Permission, AppRoleID: p.AppRoleID, RoleTemplateID: p.RoleTemplateID, ReadAtRest: p.ReadAtRest})
		}
	}
	return out
}

// Permissions is every grant the adapter's calls need: the README's table
// and what `config check --online` verifies. Each application permission is
// the least privileged one that covers every call closebot makes on its
// resource (calls below; the Learn page of each call lists the accepted
// permissions), so removing any one of them makes some call fail.
var Permissions = []Permission{
	{Permission: "Organization.ReadWrite.All", Kind: ApplicationPermission, Write: true,
		AppRoleID: "292d869f-3427-49a8-9dab-8c70152b74e9", ReadAtRest: "Organization.Read.All",
		Why: "read the organization and /directory/subscriptions; turn directory synchronization off (beta PATCH /organization, step 1)"},
	{Permission: "Domain.Read.All", Kind: ApplicationPermission,
		Why: "list verified and federated domains (preflight, plan)"},
	{Permission: "User.ReadWrite.All", Kind: ApplicationPermission, Write: true,
		AppRoleID: "741f803b-c850-494e-b5df-cde7c675a1ca", ReadAtRest: "User.Read.All",
		Why: "list and read users and soft-deleted users, delete users (step 1)"},
	{Permission: "User.DeleteRestore.All", Kind: ApplicationPermission, Write: true,
		AppRoleID: "eccc023d-eccf-4e7b-9683-8813ab36cecc",
		Why:       "restore and purge soft-deleted users (Restore, Purge deleted objects)"},
	{Permission: "RoleManagement.Read.Directory", Kind: ApplicationPermission,
		Why: "read role assignments on every licence, and PIM's assignment and eligibility schedule instances where Entra ID P2 exists"},
	{Permission: "AdministrativeUnit.Read.All", Kind: ApplicationPermission,
		Why: "find restricted-management administrative units and their members"},
	{Permission: "UserAuthenticationMethod.Read.All", Kind: ApplicationPermission,
		Why: "check that the kept admin has at least two MFA-capable sign-in methods (preflight)"},
	{Permission: "Policy.Read.All", Kind: ApplicationPermission,
		Why: "read security defaults, conditional-access policies and per-user MFA state (beta authentication/requirements)"},
	{Permission: "Policy.ReadWrite.AuthenticationMethod", Kind: ApplicationPermission, Write: true,
		AppRoleID: "29c18626-4985-4dcd-85c0-193eef327366",
		Why:       "set leftover per-user MFA to disabled (step 4, beta authentication/requirements)"},
	{Permission: "Device.Read.All", Kind: ApplicationPermission,
		Why: "count devices (data at stake in the plan)"},
	{Permission: "GroupMember.Read.All", Kind: ApplicationPermission,
		Why: "count groups and Microsoft 365 groups (data at stake in the plan)"},
	{Permission: "eDiscovery.Read.All", Kind: ApplicationPermission,
		Why: "read eDiscovery custodians, non-custodial data sources and hold policies (preflight: an active legal hold is a hard stop)"},
	{Permission: "Application.ReadWrite.All", Kind: ApplicationPermission, Write: true,
		AppRoleID: "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", ReadAtRest: "Application.Read.All",
		Why: "list app registrations and service principals; delete those the tenant owns and disable those it cannot delete (step 5)"},
	{Permission: "Privileged Authentication Administrator", Kind: DirectoryRole, Write: true,
		RoleTemplateID: closure.RolePrivilegedAuthenticationAdministrator,
		Why:            "delete users who hold admin roles: User.ReadWrite.All alone cannot (step 1)"},
}

// graphCall is one kind of call the adapter makes: the op its errors carry
// (a prefix of APIError.Op), the Graph route, the application permissions
// the route's Learn page accepts (least privileged first) and the one of
// Permissions that covers it.
type graphCall struct {
	op, route  string
	accepted   []string
	permission string
}

var (
	usersRead = []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	appsRead  = []string{"Application.Read.All", "Application.ReadWrite.OwnedBy", "Application.ReadWrite.All",
		"Directory.Read.All", "Directory.ReadWrite.All"}
	appsWrite  = []string{"Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.ReadWrite.All"}
	rolesRead  = []string{"RoleManagement.Read.Directory", "RoleManagement.Read.All", "Directory.Read.All", "RoleManagement.ReadWrite.Directory", "Directory.ReadWrite.All"}
	auRead     = []string{"AdministrativeUnit.Read.All", "Directory.Read.All", "AdministrativeUnit.ReadWrite.All", "Directory.ReadWrite.All"}
	eDiscovery = []string{"eDiscovery.Read.All", "eDiscovery.ReadWrite.All"}
	groupsRead = []string{"Group-NestingSupport.ReadWrite.All", "GroupMember.Read.All", "Group.Read.All", "Directory.Read.All",
		"Group.ReadWrite.All", "Group.ManageProtection.All", "Directory.ReadWrite.All"}
)

// calls is every kind of Graph call the adapter makes.
var calls = []graphCall{
	{"read organization", "GET /organization", []string{"Organization.Read.All", "Directory.Read.All", "Organization.ReadWrite.All", "Directory.ReadWrite.All"}, "Organization.ReadWrite.All"},
	{"list subscriptions", "GET /directory/subscriptions", []string{"Organization.Read.All", "Directory.Read.All", "Organization.ReadWrite.All"}, "Organization.ReadWrite.All"},
	{"turn off directory sync", "PATCH beta /organization/{id}", []string{"Organization.ReadWrite.All"}, "Organization.ReadWrite.All"},
	{"list domains", "GET /domains", []string{"Domain.Read.All", "Directory.Read.All", "Domain.ReadWrite.All", "Directory.ReadWrite.All"}, "Domain.Read.All"},
	{"list users", "GET /users", usersRead, "User.ReadWrite.All"},
	{"read user", "GET /users/{id}", usersRead, "User.ReadWrite.All"},
	{"delete user", "DELETE /users/{id}", []string{"User.ReadWrite.All"}, "User.ReadWrite.All"},
	{"list deleted users", "GET /directory/deletedItems/microsoft.graph.user", usersRead, "User.ReadWrite.All"},
	{"restore user", "POST /directory/deletedItems/{id}/restore", []string{"User.DeleteRestore.All"}, "User.DeleteRestore.All"},
	{"purge deleted object", "DELETE /directory/deletedItems/{id}", []string{"User.DeleteRestore.All"}, "User.DeleteRestore.All"},
	{"list role assignments", "GET /roleManagement/directory/roleAssignments", rolesRead, "RoleManagement.Read.Directory"},
	{"list role assignment schedule instances", "GET /roleManagement/directory/roleAssignmentScheduleInstances",
		[]string{"RoleAssignmentSchedule.Read.Directory", "RoleManagement.Read.Directory", "RoleManagement.Read.All",
			"RoleAssignmentSchedule.ReadWrite.Directory", "RoleManagement.ReadWrite.Directory"}, "RoleManagement.Read.Directory"},
	{"list role eligibility schedule instances", "GET /roleManagement/directory/roleEligibilityScheduleInstances",
		[]string{"RoleEligibilitySchedule.Read.Directory", "RoleManagement.Read.Directory", "RoleManagement.Read.All",
			"RoleEligibilitySchedule.ReadWrite.Directory", "RoleManagement.ReadWrite.Directory"}, "RoleManagement.Read.Directory"},
	{"list administrative units", "GET /directory/administrativeUnits", auRead, "AdministrativeUnit.Read.All"},
	{"list members of administrative unit", "GET /directory/administrativeUnits/{id}/members", auRead, "AdministrativeUnit.Read.All"},
	{"list authentication methods of", "GET /users/{id}/authentication/methods",
		[]string{"UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All"}, "UserAuthenticationMethod.Read.All"},
	{"read per-user MFA of", "GET beta /users/{id}/authentication/requirements",
		[]string{"Policy.Read.All", "Policy.ReadWrite.AuthenticationMethod"}, "Policy.Read.All"},
	{"set per-user MFA of", "PATCH beta /users/{id}/authentication/requirements",
		[]string{"Policy.ReadWrite.AuthenticationMethod"}, "Policy.ReadWrite.AuthenticationMethod"},
	{"read security defaults", "GET /policies/identitySecurityDefaultsEnforcementPolicy",
		[]string{"Policy.Read.All", "Policy.ReadWrite.SecurityDefaults"}, "Policy.Read.All"},
	{"list conditional access policies", "GET /identity/conditionalAccess/policies",
		[]string{"Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"}, "Policy.Read.All"},
	{"count devices", "GET /devices/$count", []string{"Device.Read.All", "Directory.Read.All", "Device.ReadWrite.All", "Directory.ReadWrite.All"}, "Device.Read.All"},
	{"count groups", "GET /groups/$count", groupsRead, "GroupMember.Read.All"},
	{"count Microsoft 365 groups", "GET /groups/$count?$filter=groupTypes/any(c:c eq 'Unified')", groupsRead, "GroupMember.Read.All"},
	{"list eDiscovery cases", "GET /security/cases/ediscoveryCases", eDiscovery, "eDiscovery.Read.All"},
	{"list custodians of eDiscovery case", "GET /security/cases/ediscoveryCases/{id}/custodians", eDiscovery, "eDiscovery.Read.All"},
	{"list non-custodial data sources of eDiscovery case", "GET /security/cases/ediscoveryCases/{id}/noncustodialDataSources", eDiscovery, "eDiscovery.Read.All"},
	{"list hold policies of eDiscovery case", "GET /security/cases/ediscoveryCases/{id}/legalHolds", eDiscovery, "eDiscovery.Read.All"},
	{"list applications", "GET /applications", appsRead, "Application.ReadWrite.All"},
	{"list service principals", "GET /servicePrincipals", appsRead, "Application.ReadWrite.All"},
	{"delete application", "DELETE /applications/{id}", appsWrite, "Application.ReadWrite.All"},
	{"delete service principal", "DELETE /servicePrincipals/{id}", appsWrite, "Application.ReadWrite.All"},
	{"disable service principal", "PATCH /servicePrincipals/{id}", appsWrite, "Application.ReadWrite.All"},
}

// callFor finds the call an op belongs to: the longest op prefix that
// ends at a word boundary.
func callFor(op string) (graphCall, bool) {
	var best graphCall
	found := false
	for _, c := range calls {
		if (op == c.op || strings.HasPrefix(op, c.op+" ")) && len(c.op) > len(best.op) {
			best, found = c, true
		}
	}
	return best, found
}

// annotatePermission sets ae.Permission on Graph's 403
// Authorization_RequestDenied: the application permission of Permissions
// that covers the call, unless the token already carries one the route
// accepts. Then the refusal is not about an app role: for a user delete it
// is the directory role (User.ReadWrite.All cannot delete admins); for
// anything else Graph refused the object itself and Permission stays empty.
func (d *Directory) annotatePermission(ctx context.Context, op string, ae *closure.APIError) {
	if ae.Status != http.StatusForbidden || !strings.EqualFold(ae.Code, "Authorization_RequestDenied") {
		return
	}
	c, ok := callFor(op)
	if !ok {
		return
	}
	roles, known := d.tokenRoles(ctx)
	if !known || !slices.ContainsFunc(c.accepted, func(p string) bool { return containsFold(roles, p) }) {
		ae.Permission = c.permission
		return
	}
	if c.op == "delete user" {
		for _, p := range Permissions {
			if p.Kind == DirectoryRole {
				ae.Permission = p.Permission
			}
		}
	}
}

// tokenRoles reads the roles claim of the app-only token the adapter
// sends (azidentity's cache answers; no network call while it is valid).
func (d *Directory) tokenRoles(ctx context.Context) ([]string, bool) {
	tok, err := d.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{GraphScope}, EnableCAE: true})
	if err != nil {
		return nil, false
	}
	return rolesClaim(tok.Token)
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(v string) bool { return strings.EqualFold(v, s) })
}
