package commands

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseValid(t *testing.T) {
	cases := []struct {
		in   string
		want Command
	}{
		// open
		{"contoso.onmicrosoft.com Company dissolved, ticket OPS-1234", Command{Kind: Open, Tenant: contoso, Reason: "Company dissolved, ticket OPS-1234"}},
		{"CONTOSO.OnMicrosoft.COM. Company dissolved", Command{Kind: Open, Tenant: contoso, Reason: "Company dissolved"}},
		{"7F8C2A10-1B2C-4D5E-8F90-A1B2C3D4E5F6 Company dissolved", Command{Kind: Open, Tenant: contoso, Reason: "Company dissolved"}},
		{"0a1b2c3d-4e5f-6789-abcd-ef0123456789 merger", Command{Kind: Open, Tenant: fabrikam, Reason: "merger"}},
		{"fabrikam.onmicrosoft.com merger", Command{Kind: Open, Tenant: fabrikam, Reason: "merger"}},
		{`contoso.onmicrosoft.com "Company dissolved, ticket OPS-1234"`, Command{Kind: Open, Tenant: contoso, Reason: "Company dissolved, ticket OPS-1234"}},
		{`contoso.onmicrosoft.com 'Company dissolved'`, Command{Kind: Open, Tenant: contoso, Reason: "Company dissolved"}},
		{`contoso.onmicrosoft.com "  padded  "`, Command{Kind: Open, Tenant: contoso, Reason: "padded"}},
		{`contoso.onmicrosoft.com "say \"bye\" \\o/"`, Command{Kind: Open, Tenant: contoso, Reason: `say "bye" \o/`}},
		{`contoso.onmicrosoft.com 'it'\''s over'`, Command{Kind: Open, Tenant: contoso, Reason: "it's over"}},
		{`contoso.onmicrosoft.com "Company" dissolved`, Command{Kind: Open, Tenant: contoso, Reason: `"Company" dissolved`}},
		{`contoso.onmicrosoft.com customer's request, it's over`, Command{Kind: Open, Tenant: contoso, Reason: "customer's request, it's over"}},
		{`contoso.onmicrosoft.com C:\temp\x "quoted" \n`, Command{Kind: Open, Tenant: contoso, Reason: `C:\temp\x "quoted" \n`}},
		{"  contoso.onmicrosoft.com \t reason  with  spaces \n ", Command{Kind: Open, Tenant: contoso, Reason: "reason  with  spaces"}},
		{"contoso.onmicrosoft.com line one\nline two", Command{Kind: Open, Tenant: contoso, Reason: "line one\nline two"}},
		{"contoso.onmicrosoft.com <!channel> <@U0BOB> & friends", Command{Kind: Open, Tenant: contoso, Reason: "<!channel> <@U0BOB> & friends"}},
		{"contoso.onmicrosoft.com\u00a0non-breaking space", Command{Kind: Open, Tenant: contoso, Reason: "non-breaking space"}},
		{"contoso.onmicrosoft.com שלום\u200f עולם", Command{Kind: Open, Tenant: contoso, Reason: "שלום\u200f עולם"}},
		{`"contoso.onmicrosoft.com" Company dissolved`, Command{Kind: Open, Tenant: contoso, Reason: "Company dissolved"}},
		{`contoso\.onmicrosoft.com Company dissolved`, Command{Kind: Open, Tenant: contoso, Reason: "Company dissolved"}},
		{"contoso.onmicrosoft.com " + strings.Repeat("é", MaxReasonLen), Command{Kind: Open, Tenant: contoso, Reason: strings.Repeat("é", MaxReasonLen)}},
		// plan
		{"plan contoso.onmicrosoft.com", Command{Kind: Plan, Tenant: contoso}},
		{"PLAN Fabrikam.onmicrosoft.com.", Command{Kind: Plan, Tenant: fabrikam}},
		{"plan '0A1B2C3D-4E5F-6789-ABCD-EF0123456789'", Command{Kind: Plan, Tenant: fabrikam}},
		// status, list
		{"status", Command{Kind: Status}},
		{"Status CT-12", Command{Kind: Status, RequestID: "CT-12"}},
		{"status ct-12", Command{Kind: Status, RequestID: "CT-12"}},
		{`status "CT-7"`, Command{Kind: Status, RequestID: "CT-7"}},
		{"status CT-007", Command{Kind: Status, RequestID: "CT-7"}},
		{"list", Command{Kind: List}},
		{"  LIST  ", Command{Kind: List}},
		// pause, resume, abort
		{"pause CT-3", Command{Kind: Pause, RequestID: "CT-3"}},
		{"resume ct-3", Command{Kind: Resume, RequestID: "CT-3"}},
		{"abort Ct-10", Command{Kind: Abort, RequestID: "CT-10"}},
		// help
		{"help", Command{Kind: Help}},
		{"HELP me please", Command{Kind: Help}},
		{"?", Command{Kind: Help}},
		{"-h", Command{Kind: Help}},
		{"--help", Command{Kind: Help}},
		{"", Command{Kind: Help}},
		{" \t\n ", Command{Kind: Help}},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in, testLookup{})
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseMalformed(t *testing.T) {
	cases := []struct {
		in   string
		code Code
		sugg string
		msg  string
	}{
		{"stauts", UnknownVerb, "status", "\"stauts\" is not a command. Did you mean status?"},
		{"lsit", UnknownVerb, "list", "\"lsit\" is not a command. Did you mean list?"},
		{"paln", UnknownVerb, "plan", "\"paln\" is not a command. Did you mean plan?"},
		{"stat", UnknownVerb, "status", "\"stat\" is not a command. Did you mean status?"},
		{"abrot", UnknownVerb, "abort", "\"abrot\" is not a command. Did you mean abort?"},
		{"resme", UnknownVerb, "resume", "\"resme\" is not a command. Did you mean resume?"},
		{"hlep", UnknownVerb, "help", "\"hlep\" is not a command. Did you mean help?"},
		{"pasue", UnknownVerb, "pause", "\"pasue\" is not a command. Did you mean pause?"},
		{"STAUTS CT-1", UnknownVerb, "status", "\"STAUTS\" is not a command. Did you mean status?"},
		{"close", UnknownVerb, "", "\"close\" is neither a command nor a tenant. To open a request, give the tenant and a reason, like: contoso.onmicrosoft.com Company dissolved, ticket OPS-1234. The commands are plan, status, list, pause, resume, abort and help."},
		{"cancel CT-1", UnknownVerb, "", "\"cancel\" is not a command: use the button on the request's message in the channel. The commands are plan, status, list, pause, resume, abort and help."},
		{"p", UnknownVerb, "", "\"p\" is neither a command nor a tenant. To open a request, give the tenant and a reason, like: contoso.onmicrosoft.com Company dissolved, ticket OPS-1234. The commands are plan, status, list, pause, resume, abort and help."},
		{"contoso.onmicrosoft.com", MissingReason, "", "A reason is required after the tenant, like: contoso.onmicrosoft.com Company dissolved, ticket OPS-1234."},
		{"contoso.onmicrosoft.com \"\"", MissingReason, "", "A reason is required after the tenant, like: contoso.onmicrosoft.com Company dissolved, ticket OPS-1234."},
		{"contoso.onmicrosoft.com \"   \"", MissingReason, "", "A reason is required after the tenant, like: contoso.onmicrosoft.com Company dissolved, ticket OPS-1234."},
		{"nowhere.onmicrosoft.com Company dissolved", UnknownTenant, "", "nowhere.onmicrosoft.com is not a tenant closebot is configured to close. Check the spelling; the tenant must be in closebot's configuration, by its initial domain (like contoso.onmicrosoft.com) or its tenant id."},
		{"contoso.com Company dissolved", UnknownTenant, "", "contoso.com is not a tenant closebot is configured to close. Use the tenant's initial domain (the one ending in .onmicrosoft.com, like contoso.onmicrosoft.com), not a custom domain, or its tenant id."},
		{"11111111-2222-3333-4444-555555555555 Company dissolved", UnknownTenant, "", "11111111-2222-3333-4444-555555555555 is not the id of a tenant closebot is configured to close. Check the id, or write the tenant's initial domain, like contoso.onmicrosoft.com."},
		{"admin@contoso.onmicrosoft.com Company dissolved", BadTenantForm, "contoso.onmicrosoft.com", "\"admin@contoso.onmicrosoft.com\" looks like a person's sign-in name, not a tenant. Write the tenant's initial domain, like contoso.onmicrosoft.com, or its tenant id, like 00000000-0000-0000-0000-000000000000. Did you mean contoso.onmicrosoft.com?"},
		{"@alice Company dissolved", BadTenantForm, "", "\"@alice\" looks like an @-mention, not a tenant. Write the tenant's initial domain, like contoso.onmicrosoft.com, or its tenant id, like 00000000-0000-0000-0000-000000000000."},
		{"<@U0ALICE> Company dissolved", BadTenantForm, "", "The tenant was given as a Slack user mention, not as a tenant. Write the tenant's initial domain, like contoso.onmicrosoft.com, or its tenant id, like 00000000-0000-0000-0000-000000000000."},
		{"<#C0OPS|ops> Company dissolved", BadTenantForm, "", "The tenant was given as a Slack channel link, not as a tenant. Write the tenant's initial domain, like contoso.onmicrosoft.com, or its tenant id, like 00000000-0000-0000-0000-000000000000."},
		{"<!channel> Company dissolved", BadTenantForm, "", "The tenant was given as a Slack group or special mention, not as a tenant. Write the tenant's initial domain, like contoso.onmicrosoft.com, or its tenant id, like 00000000-0000-0000-0000-000000000000."},
		{"<!subteam^S0ITOPS|@itops> Company dissolved", BadTenantForm, "", "The tenant was given as a Slack group or special mention, not as a tenant. Write the tenant's initial domain, like contoso.onmicrosoft.com, or its tenant id, like 00000000-0000-0000-0000-000000000000."},
		{"<mailto:admin@contoso.onmicrosoft.com|admin@contoso.onmicrosoft.com> Company dissolved", BadTenantForm, "contoso.onmicrosoft.com", "The tenant was given as an email link, not as a tenant. Write the tenant's initial domain, like contoso.onmicrosoft.com, or its tenant id, like 00000000-0000-0000-0000-000000000000. Did you mean contoso.onmicrosoft.com?"},
		{"<https://contoso.onmicrosoft.com|contoso.onmicrosoft.com> Company dissolved", BadTenantForm, "contoso.onmicrosoft.com", "The tenant was given as a web link, not as a tenant. Write the tenant's initial domain, like contoso.onmicrosoft.com, or its tenant id, like 00000000-0000-0000-0000-000000000000. Did you mean contoso.onmicrosoft.com?"},
		{"<http://contoso.onmicrosoft.com> Company dissolved", BadTenantForm, "contoso.onmicrosoft.com", "The tenant was given as a web link, not as a tenant. Write the tenant's initial domain, like contoso.onmicrosoft.com, or its tenant id, like 00000000-0000-0000-0000-000000000000. Did you mean contoso.onmicrosoft.com?"},
		{"plan <@U0ALICE>", BadTenantForm, "", "The tenant was given as a Slack user mention, not as a tenant. Write the tenant's initial domain, like contoso.onmicrosoft.com, or its tenant id, like 00000000-0000-0000-0000-000000000000."},
		{"\"<@U0ALICE>\" Company dissolved", BadTenantForm, "", "The tenant was given as a Slack user mention, not as a tenant. Write the tenant's initial domain, like contoso.onmicrosoft.com, or its tenant id, like 00000000-0000-0000-0000-000000000000."},
		{"x<@U1> Company dissolved", BadTenantForm, "", "The tenant was given as a Slack user mention, not as a tenant. Write the tenant's initial domain, like contoso.onmicrosoft.com, or its tenant id, like 00000000-0000-0000-0000-000000000000."},
		{"plan <https://example.com|some label>", BadTenantForm, "", "The tenant was given as a web link, not as a tenant. Write the tenant's initial domain, like contoso.onmicrosoft.com, or its tenant id, like 00000000-0000-0000-0000-000000000000."},
		{"https://contoso.onmicrosoft.com/ Company dissolved", BadTenantForm, "contoso.onmicrosoft.com", "\"https://contoso.onmicrosoft.com/\" looks like a web address, not a tenant. Write the tenant's initial domain, like contoso.onmicrosoft.com, or its tenant id, like 00000000-0000-0000-0000-000000000000. Did you mean contoso.onmicrosoft.com?"},
		{"0000000-00000-0000-0000-000000000000 Company dissolved", BadTenantForm, "", "\"0000000-00000-0000-0000-000000000000\" is not a valid tenant id: a tenant id has the form 00000000-0000-0000-0000-000000000000 (8-4-4-4-12 hexadecimal digits)."},
		{"contoso_corp.onmicrosoft.com Company dissolved", BadTenantForm, "", "\"contoso_corp.onmicrosoft.com\" is neither a domain nor a tenant id. Write the tenant's initial domain, like contoso.onmicrosoft.com, or its tenant id, like 00000000-0000-0000-0000-000000000000."},
		{"plan", MissingTenant, "", "plan needs a tenant, like: plan contoso.onmicrosoft.com. Write the tenant's initial domain, like contoso.onmicrosoft.com, or its tenant id, like 00000000-0000-0000-0000-000000000000."},
		{"plan contoso.onmicrosoft.com now", ExtraArgs, "", "Unexpected \"now\": plan takes only a tenant (to open a request, leave out the word plan)."},
		{"plan nowhere.onmicrosoft.com", UnknownTenant, "", "nowhere.onmicrosoft.com is not a tenant closebot is configured to close. Check the spelling; the tenant must be in closebot's configuration, by its initial domain (like contoso.onmicrosoft.com) or its tenant id."},
		{"plan contoso", BadTenantForm, "", "\"contoso\" is neither a domain nor a tenant id. Write the tenant's initial domain, like contoso.onmicrosoft.com, or its tenant id, like 00000000-0000-0000-0000-000000000000."},
		{"status CT-99", UnknownRequest, "", "There is no request CT-99. The status command lists the open requests, and list the recent ones."},
		{"status CT-1 CT-2", ExtraArgs, "", "Unexpected \"CT-2\": status takes at most one request id, like CT-12."},
		{"list all", ExtraArgs, "", "Unexpected \"all\": list takes no arguments."},
		{"pause", MissingRequestID, "", "pause needs a request id, like: pause CT-12. The status command lists the open requests."},
		{"resume", MissingRequestID, "", "resume needs a request id, like: resume CT-12. The status command lists the open requests."},
		{"abort", MissingRequestID, "", "abort needs a request id, like: abort CT-12. The status command lists the open requests."},
		{"abort CT-1 now", ExtraArgs, "", "Unexpected \"now\": abort takes one request id, like CT-12."},
		{"status CT-0", BadRequestID, "", "\"CT-0\" is not a request id: request numbers start at 1. A request id is CT- followed by its number, like CT-12."},
		{"status CT-abc", BadRequestID, "", "\"CT-abc\" is not a request id: the part after CT- must be a number. A request id is CT- followed by its number, like CT-12."},
		{"status CT-", BadRequestID, "", "\"CT-\" has no number. A request id is CT- followed by its number, like CT-12."},
		{"status CT-1234567890", BadRequestID, "", "\"CT-1234567890\" is not a request id: the number is too large. A request id is CT- followed by its number, like CT-12."},
		{"status 12", BadRequestID, "CT-12", "\"12\" is not a request id. A request id is CT- followed by its number, like CT-12. Did you mean CT-12?"},
		{"status #12", BadRequestID, "CT-12", "\"#12\" is not a request id. A request id is CT- followed by its number, like CT-12. Did you mean CT-12?"},
		{"status CT12", BadRequestID, "CT-12", "\"CT12\" is not a request id. A request id is CT- followed by its number, like CT-12. Did you mean CT-12?"},
		{"status CT–12", BadRequestID, "CT-12", "\"CT–12\" is not a request id. A request id is CT- followed by its number, like CT-12. Did you mean CT-12?"},
		{"status contoso.onmicrosoft.com", BadRequestID, "", "\"contoso.onmicrosoft.com\" looks like a tenant, not a request id. A request id is CT- followed by its number, like CT-12."},
		{"status <@U1>", BadRequestID, "", "A Slack mention or link is not a request id. A request id is CT- followed by its number, like CT-12."},
		{"pause ct-000", BadRequestID, "", "\"ct-000\" is not a request id: request numbers start at 1. A request id is CT- followed by its number, like CT-12."},
		{"status \"CT-1", BadQuoting, "", "A double quote (\") is not closed. Close it, or leave out the quotes."},
		{"contoso.onmicrosoft.com \"Company dissolved", BadQuoting, "", "A double quote (\") is not closed. Close it, or leave out the quotes."},
		{"'contoso.onmicrosoft.com Company dissolved", BadQuoting, "", "A single quote (') is not closed. Close it, or leave out the quotes."},
		{"status CT-1\\", BadQuoting, "", "The text ends with a backslash (\\) that escapes nothing. Remove it, or write \\\\ for a backslash."},
		{"status\x00", BadCharacters, "", "The text contains a control character (U+0000). Type it again rather than pasting it."},
		{"contoso.onmicrosoft.com Company dissolved\a", BadCharacters, "", "The text contains a control character (U+0007). Type it again rather than pasting it."},
		{"status \xff", BadCharacters, "", "The text is not valid UTF-8. Type it again rather than pasting it."},
		{"contoso.onmicrosoft.com Company \u202edissolved", BadCharacters, "", "The text contains an invisible text-direction character (U+202E), which would make the record read differently from what it holds. Type it again rather than pasting it."},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in, testLookup{})
			require.Error(t, err)
			assert.Equal(t, Command{}, got)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.code, e.Code, "code")
			assert.Equal(t, tc.sugg, e.Suggestion, "suggestion")
			assert.Equal(t, tc.msg, e.Message, "message")
			assert.Equal(t, tc.msg, err.Error())
			assert.True(t, errors.Is(err, &Error{Code: tc.code}))
		})
	}
}
