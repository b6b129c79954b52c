package closure

import (
	"fmt"
	"strings"
)

// Write access only during a closure (write_access: just_in_time, issue
// 15): the kept admin grants closebot's app its write grants before step
// 1's first write and removes them after step 5's last one. This file
// turns the grants into the gates' words; closure/run checks them.

// Gate ids of the two write-access gates; a grant gate is numbered, since
// access removed before step 1 wrote anything is asked for again.
const (
	GrantWriteGatePrefix = "1.grant_write_access"
	RemoveWriteGateID    = "5.remove_write_access"
)

// graphAppID is Microsoft Graph's first-party app id: the resource whose
// app roles the application permissions are.
const graphAppID = "00000003-0000-0000-c000-000000000000"

// MissingGrants returns the grants of want that closebot's app lacks:
// application permissions not in roles (the roles claim of a token issued
// now), directory roles hasRole says it does not hold.
func MissingGrants(want []WriteGrant, roles []string, hasRole func(templateID string) bool) []WriteGrant {
	var out []WriteGrant
	for _, g := range want {
		switch {
		case g.IsRole():
			if !hasRole(g.RoleTemplateID) {
				out = append(out, g)
			}
		case !containsFold(roles, g.Name):
			out = append(out, g)
		}
	}
	return out
}

// HeldGrants returns the grants of want closebot's app still holds.
func HeldGrants(want []WriteGrant, roles []string, hasRole func(templateID string) bool) []WriteGrant {
	missing := MissingGrants(want, roles, hasRole)
	var out []WriteGrant
	for _, g := range want {
		if !containsGrant(missing, g) {
			out = append(out, g)
		}
	}
	return out
}

// GrantNames lists the grants' names, "none" for none.
func GrantNames(gs []WriteGrant) string {
	if len(gs) == 0 {
		return "none"
	}
	names := make([]string, len(gs))
	for i, g := range gs {
		names[i] = g.Name
		if g.IsRole() {
			names[i] += " (directory role)"
		}
	}
	return strings.Join(names, ", ")
}

// WriteGrantParams are the params of a grant or remove gate about gs (the
// grants to act on) out of all: what to click and the equivalent Microsoft
// Graph PowerShell, with Graph's app role ids and the role template id.
func WriteGrantParams(t TenantPolicy, all, gs []WriteGrant, remove bool) map[string]string {
	var perms, ids, atRest []string
	roleID := ""
	for _, g := range gs {
		if g.IsRole() {
			roleID = g.RoleTemplateID
			continue
		}
		perms = append(perms, g.Name)
		ids = append(ids, "'"+g.AppRoleID+"'")
	}
	roleName, roleTemplate := "(no directory role)", ""
	for _, g := range all {
		if g.IsRole() {
			roleName, roleTemplate = g.Name, g.RoleTemplateID
		}
		if g.ReadAtRest != "" && !containsFold(atRest, g.ReadAtRest) {
			atRest = append(atRest, g.ReadAtRest)
		}
	}
	sp := fmt.Sprintf(`$sp = Get-MgServicePrincipal -Filter "appId eq '%s'"`, t.ClientID)
	lines := []string{sp}
	if !remove {
		if len(ids) > 0 {
			lines = append(lines, fmt.Sprintf(`$graph = Get-MgServicePrincipal -Filter "appId eq '%s'"`, graphAppID),
				strings.Join(ids, ",")+` | % { New-MgServicePrincipalAppRoleAssignment -ServicePrincipalId $sp.Id -PrincipalId $sp.Id -ResourceId $graph.Id -AppRoleId $_ }`)
		}
		if roleID != "" {
			lines = append(lines, fmt.Sprintf(`New-MgRoleManagementDirectoryRoleAssignment -PrincipalId $sp.Id -RoleDefinitionId %s -DirectoryScopeId '/'`, roleID))
		}
	} else {
		if len(ids) > 0 {
			lines = append(lines, `Get-MgServicePrincipalAppRoleAssignment -ServicePrincipalId $sp.Id | ? AppRoleId -in `+strings.Join(ids, ",")+
				` | % { Remove-MgServicePrincipalAppRoleAssignment -ServicePrincipalId $sp.Id -AppRoleAssignmentId $_.Id }`)
		}
		if roleID != "" {
			lines = append(lines, `Get-MgRoleManagementDirectoryRoleAssignment -Filter "principalId eq '$($sp.Id)' and roleDefinitionId eq '`+roleID+
				`'" | % { Remove-MgRoleManagementDirectoryRoleAssignment -UnifiedRoleAssignmentId $_.Id }`)
		}
	}
	p := map[string]string{
		"closebot_app": t.ClientID,
		"tenant":       t.Domain,
		"grants":       GrantNames(all),
		"permissions":  "(none missing)",
		"role":         roleName,
		"role_id":      roleTemplate,
		"read_at_rest": "none",
		"powershell":   strings.Join(lines, "\n"),
	}
	if len(perms) > 0 {
		p["permissions"] = strings.Join(perms, ", ")
	}
	if len(atRest) > 0 {
		p["read_at_rest"] = strings.Join(atRest, ", ")
	}
	if remove {
		p["held"] = GrantNames(gs)
	} else {
		p["missing"] = GrantNames(gs)
	}
	return p
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func containsGrant(list []WriteGrant, g WriteGrant) bool {
	for _, v := range list {
		if v.Name == g.Name && v.RoleTemplateID == g.RoleTemplateID {
			return true
		}
	}
	return false
}
