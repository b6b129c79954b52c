package msgraph

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

var guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// TestWriteGrantsCoverWritesAndLeaveReads: with write_access just_in_time
// closebot holds the Write rows only during a closure, so every write call
// must need a Write row, every Write application permission needs its app
// role id (for the PowerShell lines), and every read a Write row covers must
// be covered at rest by its ReadAtRest, which the route accepts.
func TestWriteGrantsCoverWritesAndLeaveReads(t *testing.T) {
	write := map[string]Permission{}
	for _, p := range Permissions {
		if !p.Write {
			continue
		}
		write[p.Permission] = p
		if p.Kind == ApplicationPermission && !guidRE.MatchString(p.AppRoleID) {
			t.Errorf("%s: app role id %q is not a GUID", p.Permission, p.AppRoleID)
		}
		if p.Kind == DirectoryRole && !guidRE.MatchString(p.RoleTemplateID) {
			t.Errorf("%s: role template id %q is not a GUID", p.Permission, p.RoleTemplateID)
		}
	}
	for _, c := range calls {
		isWrite := !strings.HasPrefix(c.route, "GET ")
		p, covered := write[c.permission]
		switch {
		case isWrite && !covered:
			t.Errorf("%s (%s) writes with %s, which is not a Write row", c.op, c.route, c.permission)
		case !isWrite && covered && !slices.Contains(c.accepted, p.ReadAtRest):
			t.Errorf("%s (%s) reads with %s; its ReadAtRest %q is not accepted there (%v)", c.op, c.route, c.permission, p.ReadAtRest, c.accepted)
		}
	}
	if got := WriteGrants(); len(got) != len(write) {
		t.Errorf("WriteGrants has %d, Permissions %d Write rows", len(got), len(write))
	}
}
