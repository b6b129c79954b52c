package commands

import "strconv"

// testLookup is configuration and store for tests: two tenants, requests
// CT-1 to CT-12.
type testLookup struct{}

var testTenants = []Tenant{
	{ID: "7f8c2a10-1b2c-4d5e-8f90-a1b2c3d4e5f6", Domain: "contoso.onmicrosoft.com"},
	{ID: "0A1B2C3D-4E5F-6789-ABCD-EF0123456789", Domain: "Fabrikam.onmicrosoft.com"},
}

var (
	contoso  = Tenant{ID: "7f8c2a10-1b2c-4d5e-8f90-a1b2c3d4e5f6", Domain: "contoso.onmicrosoft.com"}
	fabrikam = Tenant{ID: "0a1b2c3d-4e5f-6789-abcd-ef0123456789", Domain: "fabrikam.onmicrosoft.com"}
)

func (testLookup) Tenant(arg string) (Tenant, bool) { return FindTenant(testTenants, arg) }

func (testLookup) RequestExists(id string) bool {
	for i := 1; i <= 12; i++ {
		if id == "CT-"+strconv.Itoa(i) {
			return true
		}
	}
	return false
}
