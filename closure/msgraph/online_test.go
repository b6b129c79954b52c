package msgraph

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

// The write rows of the table: the directory role and every application
// permission some non-GET call names. A just-in-time setup grants only
// these during a closure.
func TestIsWritePermission(t *testing.T) {
	var writes, reads []string
	for _, p := range Permissions {
		if IsWritePermission(p) {
			writes = append(writes, p.Permission)
		} else {
			reads = append(reads, p.Permission)
		}
	}
	assert.Equal(t, []string{"Organization.ReadWrite.All", "User.ReadWrite.All", "User.DeleteRestore.All",
		"Policy.ReadWrite.AuthenticationMethod", "Application.ReadWrite.All", "Privileged Authentication Administrator"}, writes)
	assert.Equal(t, []string{"Domain.Read.All", "RoleManagement.Read.Directory", "AdministrativeUnit.Read.All",
		"UserAuthenticationMethod.Read.All", "Policy.Read.All", "Device.Read.All", "GroupMember.Read.All", "eDiscovery.Read.All"}, reads)
}

// closebot's own directory roles come from the token's oid with
// RoleManagement.Read.Directory alone; its client secrets need a
// permission that reads applications, and a refusal names it.
func TestOwnRolesAndSecrets(t *testing.T) {
	e := newEnv(t, smallSpec())
	ctx := ctxT(t)
	spID, roles, err := e.d.OwnDirectoryRoles(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, spID)
	assert.Equal(t, []string{closure.RolePrivilegedAuthenticationAdministrator}, roles)

	secrets, err := e.d.OwnClientSecrets(ctx)
	require.NoError(t, err)
	require.Len(t, secrets, 1)
	assert.Equal(t, testSecret[:3], secrets[0].Hint)
	assert.False(t, secrets[0].End.IsZero())
	assert.True(t, CanReadOwnApp([]string{"application.readwrite.all"}))
	assert.False(t, CanReadOwnApp([]string{"User.ReadWrite.All"}))

	e.s.RevokeAppRole(e.tn.ID, e.tn.ClosebotAppID, "Application.ReadWrite.All")
	_, err = e.d.GrantedPermissions(ctx) // the client takes the new token
	require.NoError(t, err)
	_, err = e.d.OwnClientSecrets(ctx)
	ae, ok := closure.AsAPIError(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, http.StatusForbidden, ae.Status)
	assert.Equal(t, "Application.ReadWrite.All", ae.Permission)
	_, roles, err = e.d.OwnDirectoryRoles(ctx)
	require.NoError(t, err)
	assert.Len(t, roles, 1)
}
