package commands_test

import (
	"errors"
	"fmt"

	"github.com/closebot/closebot/commands"
)

// config is the bot's side of commands.Lookup: configured tenants and the store.
type config struct{ tenants []commands.Tenant }

func (c config) Tenant(arg string) (commands.Tenant, bool) {
	return commands.FindTenant(c.tenants, arg)
}
func (c config) RequestExists(id string) bool { return id == "CT-12" }

func ExampleParse() {
	l := config{tenants: []commands.Tenant{
		{ID: "7f8c2a10-1b2c-4d5e-8f90-a1b2c3d4e5f6", Domain: "contoso.onmicrosoft.com"},
	}}
	for _, text := range []string{
		`Contoso.onmicrosoft.com "Company dissolved, ticket OPS-1234"`,
		"status ct-12",
		"stauts CT-12",
		"<@U0ALICE> Company dissolved",
	} {
		c, err := commands.Parse(text, l)
		var e *commands.Error
		if errors.As(err, &e) {
			fmt.Printf("%s: %s\n", e.Code, e.Message)
			continue
		}
		switch c.Kind {
		case commands.Open:
			fmt.Printf("open %s, reason %q\n", c.Tenant.Domain, c.Reason)
		default:
			fmt.Println(c.String())
		}
	}
	// Output:
	// open contoso.onmicrosoft.com, reason "Company dissolved, ticket OPS-1234"
	// status CT-12
	// unknown_verb: "stauts" is not a command. Did you mean status?
	// bad_tenant_form: The tenant was given as a Slack user mention, not as a tenant. Write the tenant's initial domain, like contoso.onmicrosoft.com, or its tenant id, like 00000000-0000-0000-0000-000000000000.
}
