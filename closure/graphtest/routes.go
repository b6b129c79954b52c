package graphtest

// The route table: every Graph call closebot makes (DESIGN §4–§5), under
// /v1.0 and /beta alike unless betaOnly.

import "strings"

type route struct {
	method   string
	pattern  []string // literal segments; "{}" matches one segment
	betaOnly bool
	h        func(d *directory, c *call)
	// perms are the application permissions Graph accepts for the call,
	// least privileged first, as the route's Learn page lists them; nil
	// means the handler checks them per object (directory/deletedItems).
	perms []string
	// feature is the licence the route needs ("" none).
	feature string
}

func rte(method, pattern string, h func(d *directory, c *call), perms ...string) route {
	return route{method: method, pattern: strings.Split(strings.Trim(pattern, "/"), "/"), h: h, perms: perms}
}

func beta(rt route) route { rt.betaOnly = true; return rt }

func needs(feature string, rt route) route { rt.feature = feature; return rt }

// Application permissions per resource, least privileged first (Learn
// pages cited in FIDELITY.md, "Application permissions").
var (
	permUsersRead       = []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permUsersDelete     = []string{"User.ReadWrite.All"}
	permAuthMethodsRead = []string{"UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All"}
	permMFARead         = []string{"Policy.Read.All", "Policy.ReadWrite.AuthenticationMethod"}
	permMFAWrite        = []string{"Policy.ReadWrite.AuthenticationMethod"}
	permOrgRead         = []string{"Organization.Read.All", "Directory.Read.All", "Organization.ReadWrite.All", "Directory.ReadWrite.All"}
	permOrgWrite        = []string{"Organization.ReadWrite.All"}
	permDomainsRead     = []string{"Domain.Read.All", "Directory.Read.All", "Domain.ReadWrite.All", "Directory.ReadWrite.All"}
	permRolesRead       = []string{"RoleManagement.Read.Directory", "RoleManagement.Read.All", "Directory.Read.All",
		"RoleManagement.ReadWrite.Directory", "Directory.ReadWrite.All"}
	permAssignmentSchedules = []string{"RoleAssignmentSchedule.Read.Directory", "RoleManagement.Read.Directory",
		"RoleManagement.Read.All", "RoleAssignmentSchedule.ReadWrite.Directory", "RoleManagement.ReadWrite.Directory"}
	permEligibilitySchedules = []string{"RoleEligibilitySchedule.Read.Directory", "RoleManagement.Read.Directory",
		"RoleManagement.Read.All", "RoleEligibilitySchedule.ReadWrite.Directory", "RoleManagement.ReadWrite.Directory"}
	permDirectoryRoles = []string{"RoleManagement.Read.Directory", "Directory.Read.All", "RoleManagement.ReadWrite.Directory", "Directory.ReadWrite.All"}
	permAUsRead        = []string{"AdministrativeUnit.Read.All", "Directory.Read.All", "AdministrativeUnit.ReadWrite.All", "Directory.ReadWrite.All"}
	permSubsRead       = []string{"Organization.Read.All", "Directory.Read.All", "Organization.ReadWrite.All"}
	permSkusRead       = []string{"LicenseAssignment.Read.All", "Organization.Read.All", "Directory.Read.All",
		"Organization.ReadWrite.All", "LicenseAssignment.ReadWrite.All", "Directory.ReadWrite.All"}
	permSecDefaultsRead  = []string{"Policy.Read.All", "Policy.ReadWrite.SecurityDefaults"}
	permSecDefaultsWrite = []string{"Policy.ReadWrite.SecurityDefaults", "Policy.ReadWrite.ConditionalAccess"}
	permCARead           = []string{"Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"}
	permCAWrite          = []string{"Policy.ReadWrite.ConditionalAccess"}
	permDevicesRead      = []string{"Device.Read.All", "Directory.Read.All", "Device.ReadWrite.All", "Directory.ReadWrite.All"}
	permGroupsRead       = []string{"Group-NestingSupport.ReadWrite.All", "GroupMember.Read.All", "Group.Read.All", "Directory.Read.All",
		"Group.ReadWrite.All", "Group.ManageProtection.All", "Directory.ReadWrite.All"}
	permEDiscoveryRead = []string{"eDiscovery.Read.All", "eDiscovery.ReadWrite.All"}
	permAppsRead       = []string{"Application.Read.All", "Application.ReadWrite.OwnedBy", "Application.ReadWrite.All",
		"Directory.Read.All", "Directory.ReadWrite.All"}
	permAppsWrite = []string{"Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.ReadWrite.All"}
)

// deletedItemPerms are the permissions per object kind for
// /directory/deletedItems (list and get, restore, purge): the Learn pages
// list the least privileged one per resource type.
var deletedItemPerms = map[string]struct{ read, restore, purge []string }{
	"user": {permUsersRead, []string{"User.DeleteRestore.All"}, []string{"User.DeleteRestore.All"}},
	"application": {permAppsRead, []string{"Application.ReadWrite.OwnedBy", "Application.ReadWrite.All"},
		[]string{"Application.ReadWrite.OwnedBy", "Application.ReadWrite.All"}},
	"servicePrincipal": {permAppsRead, []string{"Application.ReadWrite.OwnedBy", "Application.ReadWrite.All"},
		[]string{"Application.ReadWrite.OwnedBy", "Application.ReadWrite.All"}},
	"group":              {permGroupsRead, []string{"Group.ReadWrite.All"}, []string{"Group.ReadWrite.All"}},
	"device":             {permDevicesRead, []string{"Device.ReadWrite.All"}, []string{"Device.ReadWrite.All"}},
	"administrativeUnit": {permAUsRead, []string{"AdministrativeUnit.ReadWrite.All"}, []string{"AdministrativeUnit.ReadWrite.All"}},
}

var routes []route

func init() {
	routes = []route{
		rte("GET", "users", (*directory).listUsers, permUsersRead...),
		rte("GET", "users/$count", (*directory).countUsers, permUsersRead...),
		rte("GET", "users/{}", (*directory).getUser, permUsersRead...),
		rte("DELETE", "users/{}", (*directory).deleteUser, permUsersDelete...),
		rte("GET", "users/{}/authentication/methods", (*directory).listAuthMethods, permAuthMethodsRead...),
		beta(rte("GET", "users/{}/authentication/requirements", (*directory).getRequirements, permMFARead...)),
		beta(rte("PATCH", "users/{}/authentication/requirements", (*directory).patchRequirements, permMFAWrite...)),

		rte("GET", "directory/deletedItems/{}", (*directory).getDeletedItem),
		rte("DELETE", "directory/deletedItems/{}", (*directory).purgeDeletedItem),
		rte("POST", "directory/deletedItems/{}/restore", (*directory).restoreDeletedItem),

		rte("GET", "organization", (*directory).listOrganization, permOrgRead...),
		rte("GET", "organization/{}", (*directory).getOrganization, permOrgRead...),
		rte("PATCH", "organization/{}", (*directory).patchOrganization, permOrgWrite...),
		rte("GET", "domains", (*directory).listDomains, permDomainsRead...),
		rte("GET", "domains/{}", (*directory).getDomain, permDomainsRead...),

		rte("GET", "roleManagement/directory/roleDefinitions", (*directory).listRoleDefinitions, permRolesRead...),
		rte("GET", "roleManagement/directory/roleDefinitions/{}", (*directory).getRoleDefinition, permRolesRead...),
		rte("GET", "roleManagement/directory/roleAssignments", (*directory).listRoleAssignments, permRolesRead...),
		needs(FeatureEntraP2, rte("GET", "roleManagement/directory/roleAssignmentScheduleInstances",
			(*directory).listAssignmentInstances, permAssignmentSchedules...)),
		needs(FeatureEntraP2, rte("GET", "roleManagement/directory/roleEligibilityScheduleInstances",
			(*directory).listEligibilityInstances, permEligibilitySchedules...)),
		rte("GET", "directoryRoles", (*directory).listDirectoryRoles, permDirectoryRoles...),
		rte("GET", "directoryRoles/{}", (*directory).getDirectoryRole, permDirectoryRoles...),
		rte("GET", "directoryRoles/{}/members", (*directory).listDirectoryRoleMembers, permDirectoryRoles...),
		rte("GET", "directory/administrativeUnits", (*directory).listAdminUnits, permAUsRead...),
		rte("GET", "directory/administrativeUnits/{}", (*directory).getAdminUnit, permAUsRead...),
		rte("GET", "directory/administrativeUnits/{}/members", (*directory).listAdminUnitMembers, permAUsRead...),

		rte("GET", "directory/subscriptions", (*directory).listSubscriptions, permSubsRead...),
		rte("GET", "directory/subscriptions/{}", (*directory).getSubscription, permSubsRead...),
		rte("GET", "subscribedSkus", (*directory).listSubscribedSkus, permSkusRead...),

		rte("GET", "policies/identitySecurityDefaultsEnforcementPolicy", (*directory).getSecurityDefaults, permSecDefaultsRead...),
		rte("PATCH", "policies/identitySecurityDefaultsEnforcementPolicy", (*directory).patchSecurityDefaults, permSecDefaultsWrite...),
		needs(FeatureEntraP1, rte("GET", "identity/conditionalAccess/policies", (*directory).listCAPolicies, permCARead...)),
		needs(FeatureEntraP1, rte("GET", "identity/conditionalAccess/policies/{}", (*directory).getCAPolicy, permCARead...)),
		needs(FeatureEntraP1, rte("PATCH", "identity/conditionalAccess/policies/{}", (*directory).patchCAPolicy, permCAWrite...)),
		needs(FeatureEntraP1, rte("DELETE", "identity/conditionalAccess/policies/{}", (*directory).deleteCAPolicy, permCAWrite...)),

		rte("GET", "devices", (*directory).listDevices, permDevicesRead...),
		rte("GET", "devices/$count", (*directory).countDevices, permDevicesRead...),
		rte("GET", "groups", (*directory).listGroups, permGroupsRead...),
		rte("GET", "groups/$count", (*directory).countGroups, permGroupsRead...),

		needs(FeatureEDiscoveryPremium, rte("GET", "security/cases/ediscoveryCases", (*directory).listCases, permEDiscoveryRead...)),
		needs(FeatureEDiscoveryPremium, rte("GET", "security/cases/ediscoveryCases/{}", (*directory).getCase, permEDiscoveryRead...)),
		needs(FeatureEDiscoveryPremium, rte("GET", "security/cases/ediscoveryCases/{}/custodians",
			(*directory).listCustodians, permEDiscoveryRead...)),
		needs(FeatureEDiscoveryPremium, rte("GET", "security/cases/ediscoveryCases/{}/noncustodialDataSources",
			(*directory).listNoncustodialSources, permEDiscoveryRead...)),
		needs(FeatureEDiscoveryPremium, rte("GET", "security/cases/ediscoveryCases/{}/legalHolds",
			(*directory).listHoldPolicies, permEDiscoveryRead...)),

		rte("GET", "applications", (*directory).listApplications, permAppsRead...),
		rte("GET", "applications/{}", (*directory).getApplication, permAppsRead...),
		rte("DELETE", "applications/{}", (*directory).deleteApplication, permAppsWrite...),
		rte("GET", "servicePrincipals", (*directory).listServicePrincipals, permAppsRead...),
		rte("GET", "servicePrincipals/{}", (*directory).getServicePrincipal, permAppsRead...),
		rte("DELETE", "servicePrincipals/{}", (*directory).deleteServicePrincipal, permAppsWrite...),
		rte("PATCH", "servicePrincipals/{}", (*directory).patchServicePrincipal, permAppsWrite...),
	}
}

// authorized answers 403 Authorization_RequestDenied when an app-only
// token's roles hold none of perms (Graph checks the application permission
// before anything else; delegated scopes are not checked by the emulator).
func (c *call) authorized(perms []string) bool {
	p := c.r.Principal
	if p.Delegated || c.d.s.opts.SkipPermissionChecks {
		return true
	}
	for _, have := range p.Roles {
		for _, want := range perms {
			if strings.EqualFold(have, want) {
				return true
			}
		}
	}
	c.denied()
	return false
}

// matchRoute finds the route for segs and method. methodOK reports that the
// path exists under another method (405 rather than 400).
func matchRoute(segs []string, method, version string) (rt *route, params []string, methodOK bool) {
	segs = rewriteKeySegments(segs)
	for i := range routes {
		cand := &routes[i]
		if cand.betaOnly && version != "beta" {
			continue
		}
		ps, ok := matchPattern(cand.pattern, segs)
		if !ok {
			continue
		}
		if cand.method != method {
			methodOK = true
			continue
		}
		return cand, ps, true
	}
	return nil, nil, methodOK
}

func matchPattern(pattern, segs []string) ([]string, bool) {
	if len(pattern) != len(segs) {
		return nil, false
	}
	var ps []string
	for i, p := range pattern {
		switch {
		case p == "{}":
			if segs[i] == "" {
				return nil, false
			}
			ps = append(ps, segs[i])
		case p != segs[i]:
			return nil, false
		}
	}
	return ps, true
}

// rewriteKeySegments turns OData key syntax into plain segments:
// subscriptions(commerceSubscriptionId='x') → subscriptions/commerce:x and
// directoryRoles(roleTemplateId='x') → directoryRoles/roleTemplateId=x.
func rewriteKeySegments(segs []string) []string {
	var out []string
	for _, s := range segs {
		open := strings.IndexByte(s, '(')
		if open > 0 && strings.HasSuffix(s, ")") {
			name, key := s[:open], s[open+1:len(s)-1]
			k, v, ok := strings.Cut(key, "=")
			v = strings.Trim(v, "'")
			if ok && name == "subscriptions" && k == "commerceSubscriptionId" {
				out = append(out, name, "commerce:"+v)
				continue
			}
			if ok && name == "directoryRoles" && k == "roleTemplateId" {
				out = append(out, name, "roleTemplateId="+v)
				continue
			}
		}
		out = append(out, s)
	}
	return out
}
