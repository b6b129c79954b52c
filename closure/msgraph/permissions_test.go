package msgraph

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/closebot/closebot/closure"
)

func TestPermissionsTable(t *testing.T) {
	seen := map[string]bool{}
	roles := 0
	for _, p := range Permissions {
		assert.NotEmpty(t, p.Permission)
		assert.NotEmpty(t, p.Why, p.Permission)
		assert.False(t, seen[p.Permission], "%s listed twice", p.Permission)
		seen[p.Permission] = true
		switch p.Kind {
		case ApplicationPermission:
			assert.Empty(t, p.RoleTemplateID, p.Permission)
		case DirectoryRole:
			roles++
			assert.Equal(t, closure.RolePrivilegedAuthenticationAdministrator, p.RoleTemplateID)
		default:
			t.Errorf("%s: kind %q", p.Permission, p.Kind)
		}
	}
	assert.Equal(t, 1, roles, "Privileged Authentication Administrator, to delete admins")
	// Every write the adapter makes has its permission.
	for _, need := range []string{"User.ReadWrite.All", "User.DeleteRestore.All", "Organization.ReadWrite.All",
		"Policy.ReadWrite.AuthenticationMethod", "Application.ReadWrite.All"} {
		assert.True(t, seen[need], need)
	}
}
