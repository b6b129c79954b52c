package closure

import (
	"context"
	"fmt"
	"strings"
)

// RoleView is what closebot knows of directory roles: the active
// assignments every licence can read, refined by PIM where the tenant has
// it (Entra ID P2 or ID Governance), and the PIM-eligible ones.
type RoleView struct {
	Active   []RoleAssignment
	Eligible []RoleAssignment
	// PIM reports whether the PIM routes answered; without them every
	// assignment is permanent and none is eligible.
	PIM bool
}

// ReadRoles reads the role assignments (DESIGN §5: /roleAssignments on
// every licence, PIM only when it answers; the two cases are told apart by
// the licence error, anything else is a failure).
func ReadRoles(ctx context.Context, dir Directory) (RoleView, error) {
	active, err := dir.RoleAssignments(ctx)
	if err != nil {
		return RoleView{}, fmt.Errorf("read role assignments: %w", err)
	}
	v := RoleView{Active: active}
	sched, err := dir.ActiveSchedules(ctx)
	switch {
	case IsUnlicensed(err):
		return v, nil
	case err != nil:
		return RoleView{}, fmt.Errorf("read role assignment schedules: %w", err)
	}
	eligible, err := dir.EligibleAssignments(ctx)
	switch {
	case IsUnlicensed(err):
		// Licence lost between the two reads: treat as no PIM.
		return v, nil
	case err != nil:
		return RoleView{}, fmt.Errorf("read role eligibility: %w", err)
	}
	v.PIM, v.Eligible = true, eligible
	v.Active = overlaySchedules(active, sched)
	return v, nil
}

// overlaySchedules gives each active assignment PIM's view of it: an
// activation (AssignmentType Activated) or a time-bound assignment has an
// End and is not permanent. Schedule instances with no match in the
// assignments (a role held through a group, shown per member) are added.
func overlaySchedules(active, sched []RoleAssignment) []RoleAssignment {
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

// permanentGlobalAdmin reports whether a is an active, permanent, direct
// Global Administrator assignment at directory scope for principal id.
func permanentGlobalAdmin(a RoleAssignment, id string) bool {
	return strings.EqualFold(a.PrincipalID, id) && a.RoleDefinitionID == RoleGlobalAdministrator &&
		a.AssignmentType == "Assigned" && a.MemberType == "Direct" && a.DirectoryScopeID == "/" && a.Permanent()
}
