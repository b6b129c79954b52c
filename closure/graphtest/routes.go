package graphtest

// The route table: every Graph call closebot makes (DESIGN §4–§5), under
// /v1.0 and /beta alike unless betaOnly.

import "strings"

type route struct {
	method   string
	pattern  []string // literal segments; "{}" matches one segment
	betaOnly bool
	h        func(d *directory, c *call)
}

func rte(method, pattern string, h func(d *directory, c *call)) route {
	return route{method: method, pattern: strings.Split(strings.Trim(pattern, "/"), "/"), h: h}
}

func beta(rt route) route { rt.betaOnly = true; return rt }

var routes []route

func init() {
	routes = []route{
		rte("GET", "users", (*directory).listUsers),
		rte("GET", "users/$count", (*directory).countUsers),
		rte("GET", "users/{}", (*directory).getUser),
		rte("DELETE", "users/{}", (*directory).deleteUser),
		rte("GET", "users/{}/authentication/methods", (*directory).listAuthMethods),
		beta(rte("GET", "users/{}/authentication/requirements", (*directory).getRequirements)),
		beta(rte("PATCH", "users/{}/authentication/requirements", (*directory).patchRequirements)),

		rte("GET", "directory/deletedItems/{}", (*directory).getDeletedItem),
		rte("DELETE", "directory/deletedItems/{}", (*directory).purgeDeletedItem),
		rte("POST", "directory/deletedItems/{}/restore", (*directory).restoreDeletedItem),

		rte("GET", "organization", (*directory).listOrganization),
		rte("GET", "organization/{}", (*directory).getOrganization),
		rte("PATCH", "organization/{}", (*directory).patchOrganization),
		rte("GET", "domains", (*directory).listDomains),
		rte("GET", "domains/{}", (*directory).getDomain),

		rte("GET", "roleManagement/directory/roleDefinitions", (*directory).listRoleDefinitions),
		rte("GET", "roleManagement/directory/roleDefinitions/{}", (*directory).getRoleDefinition),
		rte("GET", "roleManagement/directory/roleAssignments", (*directory).listRoleAssignments),
		rte("GET", "roleManagement/directory/roleAssignmentScheduleInstances", (*directory).listAssignmentInstances),
		rte("GET", "roleManagement/directory/roleEligibilityScheduleInstances", (*directory).listEligibilityInstances),
		rte("GET", "directoryRoles", (*directory).listDirectoryRoles),
		rte("GET", "directoryRoles/{}", (*directory).getDirectoryRole),
		rte("GET", "directoryRoles/{}/members", (*directory).listDirectoryRoleMembers),
		rte("GET", "directory/administrativeUnits", (*directory).listAdminUnits),
		rte("GET", "directory/administrativeUnits/{}", (*directory).getAdminUnit),
		rte("GET", "directory/administrativeUnits/{}/members", (*directory).listAdminUnitMembers),

		rte("GET", "directory/subscriptions", (*directory).listSubscriptions),
		rte("GET", "directory/subscriptions/{}", (*directory).getSubscription),
		rte("GET", "subscribedSkus", (*directory).listSubscribedSkus),

		rte("GET", "policies/identitySecurityDefaultsEnforcementPolicy", (*directory).getSecurityDefaults),
		rte("PATCH", "policies/identitySecurityDefaultsEnforcementPolicy", (*directory).patchSecurityDefaults),
		rte("GET", "identity/conditionalAccess/policies", (*directory).listCAPolicies),
		rte("GET", "identity/conditionalAccess/policies/{}", (*directory).getCAPolicy),
		rte("PATCH", "identity/conditionalAccess/policies/{}", (*directory).patchCAPolicy),
		rte("DELETE", "identity/conditionalAccess/policies/{}", (*directory).deleteCAPolicy),

		rte("GET", "devices", (*directory).listDevices),
		rte("GET", "devices/$count", (*directory).countDevices),
		rte("GET", "groups", (*directory).listGroups),
		rte("GET", "groups/$count", (*directory).countGroups),

		rte("GET", "security/cases/ediscoveryCases", (*directory).listCases),
		rte("GET", "security/cases/ediscoveryCases/{}", (*directory).getCase),
		rte("GET", "security/cases/ediscoveryCases/{}/custodians", (*directory).listCustodians),

		rte("GET", "applications", (*directory).listApplications),
		rte("GET", "applications/{}", (*directory).getApplication),
		rte("DELETE", "applications/{}", (*directory).deleteApplication),
		rte("GET", "servicePrincipals", (*directory).listServicePrincipals),
		rte("GET", "servicePrincipals/{}", (*directory).getServicePrincipal),
		rte("DELETE", "servicePrincipals/{}", (*directory).deleteServicePrincipal),
		rte("PATCH", "servicePrincipals/{}", (*directory).patchServicePrincipal),
	}
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
