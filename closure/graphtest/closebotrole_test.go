package graphtest

import (
	"net/url"
	"slices"
	"testing"
)

// TestClosebotRoleAssignedAndRemoved: the kept admin assigning a directory
// role to closebot's service principal shows in roleAssignments under that
// principal, and removing it takes it away (write_access just_in_time).
func TestClosebotRoleAssignedAndRemoved(t *testing.T) {
	spec := smallSpec()
	spec.ClosebotRoles = nil
	e := newRawEnv(t, spec, Assumptions{})
	if got := e.t.ClosebotRoles(); len(got) != 0 {
		t.Fatalf("closebot's roles at rest = %v", got)
	}
	if err := e.t.AssignClosebotRole(RolePrivilegedAuthenticationAdmin); err != nil {
		t.Fatal(err)
	}
	if err := e.t.AssignClosebotRole(RolePrivilegedAuthenticationAdmin); err != nil {
		t.Fatal(err) // a second assignment of the same role is no new one
	}
	if got := e.t.ClosebotRoles(); !slices.Equal(got, []string{RolePrivilegedAuthenticationAdmin}) {
		t.Errorf("closebot's roles after the assignment = %v", got)
	}
	var spID string
	for _, v := range values(t, e.do("GET", "v1.0", "/servicePrincipals?$filter="+url.QueryEscape("appId eq '"+spec.ClosebotAppID+"'"), "")) {
		spID, _ = v.(map[string]any)["id"].(string)
	}
	q := "/roleManagement/directory/roleAssignments?$filter=" + url.QueryEscape("principalId eq '"+spID+"'")
	if got := values(t, e.do("GET", "v1.0", q, "")); len(got) != 1 || got[0].(map[string]any)["roleDefinitionId"] != RolePrivilegedAuthenticationAdmin {
		t.Errorf("assignments of closebot's service principal %q = %v", spID, got)
	}
	if err := e.t.RemoveClosebotRole(RolePrivilegedAuthenticationAdmin); err != nil {
		t.Fatal(err)
	}
	if got := values(t, e.do("GET", "v1.0", q, "")); len(got) != 0 {
		t.Errorf("assignments after the removal = %v", got)
	}
}
