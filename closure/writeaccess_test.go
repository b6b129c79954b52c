package closure_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/closuretest"
)

func TestMissingAndHeldGrants(t *testing.T) {
	all := closuretest.HarnessWriteGrants()
	noRole := func(string) bool { return false }
	hasPAA := func(id string) bool { return id == closure.RolePrivilegedAuthenticationAdministrator }

	missing := closure.MissingGrants(all, []string{"user.readwrite.all", "Domain.Read.All"}, noRole)
	assert.Equal(t, "Organization.ReadWrite.All, User.DeleteRestore.All, Policy.ReadWrite.AuthenticationMethod, Application.ReadWrite.All, Privileged Authentication Administrator (directory role)",
		closure.GrantNames(missing), "names compare case-insensitively, as Entra's do")
	assert.Empty(t, closure.MissingGrants(all, closuretest.DefaultPermissions, hasPAA))
	assert.Equal(t, "none", closure.GrantNames(closure.HeldGrants(all, []string{"User.Read.All"}, noRole)))
	assert.Equal(t, "Privileged Authentication Administrator (directory role)", closure.GrantNames(closure.HeldGrants(all, nil, hasPAA)))
}

func TestWriteGrantParamsAskOnlyForWhatIsMissing(t *testing.T) {
	all := closuretest.HarnessWriteGrants()
	tn := closure.TenantPolicy{Domain: "contoso.onmicrosoft.com", ClientID: "11111111-1111-1111-1111-111111111111"}
	onlyRole := all[len(all)-1:]
	p := closure.WriteGrantParams(tn, all, onlyRole, false)
	assert.Equal(t, "(none missing)", p["permissions"])
	assert.NotContains(t, p["powershell"], "New-MgServicePrincipalAppRoleAssignment")
	assert.Contains(t, p["powershell"], "New-MgRoleManagementDirectoryRoleAssignment -PrincipalId $sp.Id -RoleDefinitionId "+closure.RolePrivilegedAuthenticationAdministrator)
	assert.Equal(t, "Organization.Read.All, User.Read.All, Application.Read.All", p["read_at_rest"])

	p = closure.WriteGrantParams(tn, all, all[:2], true)
	assert.Equal(t, "Organization.ReadWrite.All, User.ReadWrite.All", p["held"])
	assert.Contains(t, p["powershell"], "'292d869f-3427-49a8-9dab-8c70152b74e9','741f803b-c850-494e-b5df-cde7c675a1ca'")
	assert.Contains(t, p["powershell"], "Remove-MgServicePrincipalAppRoleAssignment")
	assert.NotContains(t, p["powershell"], "RoleManagementDirectoryRoleAssignment", "the role is not held")
	in := closure.InstructionFor(closure.Gate{Kind: closure.GateRemoveWriteAccess, Params: p})
	assert.NotRegexp(t, `\{[a-z_]+\}`, strings.Join(in.Steps, " ")+in.Done, "every placeholder filled")
}
