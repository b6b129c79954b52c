package closure

import "strings"

// RoleView is what closebot knows of directory roles (run.ReadRoles reads
// it): the active assignments every licence can read, refined by PIM where
// the tenant has it (Entra ID P2 or ID Governance), and the PIM-eligible
// ones.
type RoleView struct {
	Active   []RoleAssignment
	Eligible []RoleAssignment
	// PIM reports whether the PIM routes answered; without them every
	// assignment is permanent and none is eligible.
	PIM bool
}

// OverlaySchedules gives each active assignment PIM's view of it: an
// activation (AssignmentType Activated) or a time-bound assignment has an
// End and is not permanent. Schedule instances with no match in the
// assignments (a role held through a group, shown per member) are added.
func OverlaySchedules(active, sched []RoleAssignment) []RoleAssignment {
	key := func(a RoleAssignment) string {
		return lower(a.PrincipalID) + "|" + lower(a.RoleDefinitionID) + "|" + a.DirectoryScopeID
	}
	byKey := map[string]RoleAssignment{}
	for _, s := range sched {
		if s.MemberType == "" || s.MemberType == "Direct" {
			byKey[key(s)] = s
		}
	}
	out := make([]RoleAssignment, 0, len(active)+len(sched))
	seen := map[string]bool{}
	for _, a := range active {
		if s, ok := byKey[key(a)]; ok {
			a.AssignmentType, a.Start, a.End = s.AssignmentType, s.Start, s.End
			if s.MemberType != "" {
				a.MemberType = s.MemberType
			}
		}
		seen[key(a)] = true
		out = append(out, a)
	}
	for _, s := range sched {
		if s.MemberType != "" && s.MemberType != "Direct" && !seen[key(s)+"|"+s.MemberType] {
			seen[key(s)+"|"+s.MemberType] = true
			out = append(out, s)
		}
	}
	return out
}

// PermanentGlobalAdmin reports whether a is an active, permanent, direct
// Global Administrator assignment at directory scope for principal id.
func PermanentGlobalAdmin(a RoleAssignment, id string) bool {
	return strings.EqualFold(a.PrincipalID, id) && a.RoleDefinitionID == RoleGlobalAdministrator &&
		a.AssignmentType == "Assigned" && a.MemberType == "Direct" && a.DirectoryScopeID == "/" && a.Permanent()
}
