package msgraph

import "github.com/closebot/closebot/closure"

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
}

// Permissions is every grant the adapter's calls need: the README's table
// and what `config check --online` verifies.
var Permissions = []Permission{
	{Permission: "Organization.ReadWrite.All", Kind: ApplicationPermission,
		Why: "read the organization and /directory/subscriptions; turn directory synchronization off (step 1)"},
	{Permission: "Domain.Read.All", Kind: ApplicationPermission,
		Why: "list verified and federated domains (preflight, plan)"},
	{Permission: "User.ReadWrite.All", Kind: ApplicationPermission,
		Why: "list and read users, delete users (step 1)"},
	{Permission: "User.DeleteRestore.All", Kind: ApplicationPermission,
		Why: "list, restore and purge soft-deleted users (Restore, Purge deleted objects)"},
	{Permission: "RoleManagement.Read.Directory", Kind: ApplicationPermission,
		Why: "read active and eligible role assignment schedule instances (Global Admins, privileged users)"},
	{Permission: "AdministrativeUnit.Read.All", Kind: ApplicationPermission,
		Why: "find restricted-management administrative units and their members"},
	{Permission: "UserAuthenticationMethod.Read.All", Kind: ApplicationPermission,
		Why: "check that the kept admin has a registered MFA method (preflight)"},
	{Permission: "Policy.Read.All", Kind: ApplicationPermission,
		Why: "read security defaults, conditional-access policies and per-user MFA state (beta authentication/requirements)"},
	{Permission: "Policy.ReadWrite.AuthenticationMethod", Kind: ApplicationPermission,
		Why: "set leftover per-user MFA to disabled (step 4, beta authentication/requirements)"},
	{Permission: "Device.Read.All", Kind: ApplicationPermission,
		Why: "count devices (data at stake in the plan)"},
	{Permission: "Group.Read.All", Kind: ApplicationPermission,
		Why: "count groups and Microsoft 365 groups (data at stake in the plan)"},
	{Permission: "eDiscovery.Read.All", Kind: ApplicationPermission,
		Why: "read eDiscovery custodians' hold status (preflight: active legal hold is a hard stop)"},
	{Permission: "Application.ReadWrite.All", Kind: ApplicationPermission,
		Why: "list and delete tenant-owned app registrations and service principals (step 5)"},
	{Permission: "Privileged Authentication Administrator", Kind: DirectoryRole,
		RoleTemplateID: closure.RolePrivilegedAuthenticationAdministrator,
		Why:            "delete users who hold admin roles: User.ReadWrite.All alone cannot (step 1)"},
}
