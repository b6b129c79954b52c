package config

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/closebot/closebot/closure"
)

// TestRefusals: every missing or invalid setting is refused, and the
// problem names the key (or environment variable) to fix.
func TestRefusals(t *testing.T) {
	type edit struct{ old, new string }
	cases := []struct {
		name  string
		edits []edit
		env   map[string]string // "" deletes
		setup func(f *fixture)
		want  []string // all in one problem
	}{
		// slack
		{name: "team_id missing", edits: []edit{{"  team_id: T0ACME\n", ""}}, want: []string{"slack.team_id: missing"}},
		{name: "team_id a name", edits: []edit{{"team_id: T0ACME", "team_id: acme"}}, want: []string{"slack.team_id: ", `"acme" is not a workspace id`, "line 2"}},
		{name: "slack missing", edits: []edit{{goodYAML[:strings.Index(goodYAML, "approval:")], ""}}, want: []string{"slack: missing"}},
		{name: "channels missing", edits: []edit{{"  channels: [C0OPS]\n", ""}}, want: []string{"slack.channels: missing"}},
		{name: "channels empty", edits: []edit{{"channels: [C0OPS]", "channels: []"}}, want: []string{"slack.channels: missing"}},
		{name: "channels a name", edits: []edit{{"channels: [C0OPS]", "channels: [C0OPS, '#it-ops']"}}, want: []string{"slack.channels[1]: ", "channel names are refused"}},
		{name: "channels a DM", edits: []edit{{"channels: [C0OPS]", "channels: [D0DM]"}}, want: []string{"slack.channels[0]: ", "not a channel id"}},
		{name: "channels a scalar", edits: []edit{{"channels: [C0OPS]", "channels: C0OPS"}}, want: []string{"slack.channels: must be a list"}},
		{name: "requesters @name", edits: []edit{{"requesters: [U0ALICE, S0ITOPS]", "requesters: [U0ALICE, '@alice']"}}, want: []string{"slack.requesters[1]: ", "@names are refused", "Copy member ID"}},
		{name: "requesters missing", edits: []edit{{"  requesters: [U0ALICE, S0ITOPS]\n", ""}}, want: []string{"slack.requesters: missing"}},
		{name: "approvers display name", edits: []edit{{"approvers: [U0BOB, S0SECLEAD]", "approvers: [Bob Smith]"}}, want: []string{"slack.approvers[0]: ", "display names"}},
		{name: "approvers a channel", edits: []edit{{"approvers: [U0BOB, S0SECLEAD]", "approvers: [C0OPS]"}}, want: []string{"slack.approvers[0]: ", "that is a channel id"}},
		{name: "approvers empty", edits: []edit{{"approvers: [U0BOB, S0SECLEAD]", "approvers: []"}}, want: []string{"slack.approvers: missing"}},
		// approval
		{name: "required 0", edits: []edit{{"required: 2", "required: 0"}}, want: []string{"approval.required: is 0"}},
		{name: "required not a number", edits: []edit{{"required: 2", "required: two"}}, want: []string{"approval.required: ", "not a whole number"}},
		{name: "required beyond approvers", edits: []edit{{"approvers: [U0BOB, S0SECLEAD]", "approvers: [U0BOB, U0DAVE]"}, {"required: 2", "required: 3"}}, want: []string{"approval.required: is 3", "no request could ever be approved"}},
		{name: "disjoint not a bool", edits: []edit{{"disjoint: true", "disjoint: maybe"}}, want: []string{"approval.disjoint: ", "not true or false"}},
		{name: "expires_after zero", edits: []edit{{"expires_after: 12h", "expires_after: 0s"}}, want: []string{"approval.expires_after: is 0s; it must be positive"}},
		{name: "expires_after days", edits: []edit{{"expires_after: 12h", "expires_after: 1d"}}, want: []string{"approval.expires_after: ", "not a duration", "no days"}},
		{name: "expires_after bare number", edits: []edit{{"expires_after: 12h", "expires_after: 12"}}, want: []string{"approval.expires_after: ", "not a duration"}},
		{name: "abort_window negative", edits: []edit{{"abort_window: 15m", "abort_window: -5m"}}, want: []string{"approval.abort_window: is -5m0s"}},
		{name: "drift_percent above 100", edits: []edit{{"drift_percent: 5", "drift_percent: 150"}}, want: []string{"approval.drift_percent: is 150"}},
		{name: "drift_percent negative", edits: []edit{{"drift_percent: 5", "drift_percent: -1"}}, want: []string{"approval.drift_percent: is -1"}},
		{name: "drift_percent with %", edits: []edit{{"drift_percent: 5", "drift_percent: 5%"}}, want: []string{"approval.drift_percent: ", "without %"}},
		// gates
		{name: "recheck_every zero", edits: []edit{{"recheck_every: 5m", "recheck_every: 0s"}}, want: []string{"gates.recheck_every: is 0s"}},
		{name: "gone_span negative", edits: []edit{{"gone_span: 2h", "gone_span: -1h"}}, want: []string{"gates.gone_span: is -1h0m0s"}},
		{name: "stuck_after garbage", edits: []edit{{"stuck_after: 100h", "stuck_after: forever"}}, want: []string{"gates.stuck_after: ", "not a duration"}},
		{name: "gone_confirmations zero", edits: []edit{{"gone_confirmations: 4", "gone_confirmations: 0"}}, want: []string{"gates.gone_confirmations: is 0"}},
		// store
		{name: "store.path in a missing directory", edits: []edit{{"path: data/closebot.db", "path: nowhere/closebot.db"}}, want: []string{"store.path: directory ", "does not exist"}},
		{name: "store.path a directory", edits: []edit{{"path: data/closebot.db", "path: data"}}, want: []string{"store.path: ", "is a directory"}},
		{name: "store.path empty", edits: []edit{{"path: data/closebot.db", "path: ''"}}, want: []string{"store.path: must not be empty"}},
		// graph
		{name: "graph http", edits: []edit{{"https://graph.microsoft.com/v1.0", "http://graph.example.com/v1.0"}}, want: []string{"graph.base_url: ", "must use https"}},
		{name: "graph not v1.0", edits: []edit{{"https://graph.microsoft.com/v1.0", "https://graph.microsoft.com/beta"}}, want: []string{"graph.base_url: ", "must end with the path segment v1.0"}},
		{name: "graph relative", edits: []edit{{"https://graph.microsoft.com/v1.0", "graph.microsoft.com/v1.0"}}, want: []string{"graph.base_url: ", "not an absolute URL"}},
		{name: "graph with query", edits: []edit{{"https://graph.microsoft.com/v1.0", "'https://graph.microsoft.com/v1.0?x=1'"}}, want: []string{"graph.base_url: ", "query"}},
		// tenants
		{name: "tenants missing", edits: []edit{{goodYAML[strings.Index(goodYAML, "tenants:"):], ""}}, want: []string{"tenants: missing"}},
		{name: "tenants empty", edits: []edit{{goodYAML[strings.Index(goodYAML, "tenants:"):], "tenants: []\n"}}, want: []string{"tenants: is empty"}},
		{name: "tenant id not a GUID", edits: []edit{{"id: 6F1C3A52-8D0E-4B7A-9C21-3E5D4F6A7B80", "id: contoso"}}, want: []string{"tenants[0].id: ", "not a GUID"}},
		{name: "tenant id missing", edits: []edit{{"  - id: 6F1C3A52-8D0E-4B7A-9C21-3E5D4F6A7B80\n    domain", "  - domain"}}, want: []string{"tenants[0].id: missing"}},
		{name: "domain custom", edits: []edit{{"domain: Contoso.onmicrosoft.com", "domain: contoso.com"}}, want: []string{"tenants[0].domain: ", "not an initial domain"}},
		{name: "domain mail routing", edits: []edit{{"domain: Contoso.onmicrosoft.com", "domain: contoso.mail.onmicrosoft.com"}}, want: []string{"tenants[0].domain: ", "not an initial domain"}},
		{name: "domain missing", edits: []edit{{"    domain: Contoso.onmicrosoft.com\n", ""}}, want: []string{"tenants[0].domain: missing"}},
		{name: "keep not a UPN", edits: []edit{{"keep: admin@contoso.onmicrosoft.com", "keep: admin"}}, want: []string{"tenants[0].keep: ", "not a userPrincipalName"}},
		{name: "keep missing", edits: []edit{{"    keep: admin@contoso.onmicrosoft.com\n", ""}}, want: []string{"tenants[0].keep: missing"}},
		{name: "keep_slack_user a name", edits: []edit{{"keep_slack_user: U0CAROL", "keep_slack_user: '@carol'"}}, want: []string{"tenants[0].keep_slack_user: ", "@names are refused"}},
		{name: "keep_slack_user a group", edits: []edit{{"keep_slack_user: U0CAROL", "keep_slack_user: S0SECLEAD"}}, want: []string{"tenants[0].keep_slack_user: ", "not a Slack user id"}},
		{name: "signin_client_id bad", edits: []edit{{"signin_client_id: 14d82eec-204b-4c2f-b7e8-296a70dab67e", "signin_client_id: graph-cli"}}, want: []string{"tenants[0].signin_client_id: ", "not a GUID"}},
		{name: "client_id missing", edits: []edit{{"    client_id: 11111111-1111-1111-1111-111111111111\n", ""}}, want: []string{"tenants[0].client_id: missing"}},
		{name: "client_secret_env holds a secret", edits: []edit{{"client_secret_env: CONTOSO_CLIENT_SECRET", "client_secret_env: 'abc~DEF.123'"}}, want: []string{"tenants[0].client_secret_env: ", "NAME of the variable"}},
		{name: "client_secret_env unset", env: map[string]string{"CONTOSO_CLIENT_SECRET": ""}, want: []string{"tenants[0].client_secret_env: environment variable CONTOSO_CLIENT_SECRET is not set"}},
		{name: "write_access unknown", edits: []edit{{"write_access: just_in_time", "write_access: sometimes"}}, want: []string{"tenants[0].write_access: ", "not just_in_time or standing"}},
		{name: "client_secret in file", edits: []edit{{"client_secret_env: CONTOSO_CLIENT_SECRET", "client_secret: s3cret"}}, want: []string{"tenants[0].client_secret: unknown key", "never read from the configuration file"}},
		{name: "certificate unreadable", edits: []edit{{"client_secret_env: CONTOSO_CLIENT_SECRET", "client_certificate_file: missing.pem"}}, want: []string{"tenants[0].client_certificate_file: cannot read ", "missing.pem"}},
		{name: "certificate empty", edits: []edit{{"client_secret_env: CONTOSO_CLIENT_SECRET", "client_certificate_file: empty.pem"}},
			setup: func(f *fixture) { f.write(nil, "empty.pem", "") }, want: []string{"tenants[0].client_certificate_file: ", "is empty"}},
		{name: "workload identity without token file", edits: []edit{{"client_secret_env: CONTOSO_CLIENT_SECRET", "workload_identity: true"}}, want: []string{"tenants[0].workload_identity: needs AZURE_FEDERATED_TOKEN_FILE"}},
		{name: "workload identity token file missing", edits: []edit{{"client_secret_env: CONTOSO_CLIENT_SECRET", "workload_identity: true"}},
			env: map[string]string{EnvFederatedTokenFile: "/nonexistent/token"}, want: []string{"tenants[0].workload_identity: AZURE_FEDERATED_TOKEN_FILE: cannot read"}},
		{name: "duplicate tenant id", edits: []edit{{"    client_secret_env: CONTOSO_CLIENT_SECRET\n", "    client_secret_env: CONTOSO_CLIENT_SECRET\n" +
			"  - {id: 6f1c3a52-8d0e-4b7a-9c21-3e5d4f6a7b80, domain: fabrikam.onmicrosoft.com, keep: a@fabrikam.onmicrosoft.com, keep_slack_user: U0CAROL, signin_client_id: 14d82eec-204b-4c2f-b7e8-296a70dab67e, client_id: 11111111-1111-1111-1111-111111111111, client_secret_env: CONTOSO_CLIENT_SECRET}\n"}},
			want: []string{"tenants[1].id: ", "already configured as tenants[0]"}},
		{name: "duplicate tenant domain", edits: []edit{{"    client_secret_env: CONTOSO_CLIENT_SECRET\n", "    client_secret_env: CONTOSO_CLIENT_SECRET\n" +
			"  - {id: 7f1c3a52-8d0e-4b7a-9c21-3e5d4f6a7b80, domain: CONTOSO.onmicrosoft.com, keep: a@fabrikam.onmicrosoft.com, keep_slack_user: U0CAROL, signin_client_id: 14d82eec-204b-4c2f-b7e8-296a70dab67e, client_id: 11111111-1111-1111-1111-111111111111, client_secret_env: CONTOSO_CLIENT_SECRET}\n"}},
			want: []string{"tenants[1].domain: ", "already configured as tenants[0]"}},
		// strictness
		{name: "unknown top-level key", edits: []edit{{"slack:\n", "slak: {}\nslack:\n"}}, want: []string{"slak: unknown key; did you mean slack?"}},
		{name: "unknown nested key", edits: []edit{{"required: 2", "required: 2, requried: 3"}}, want: []string{"approval.requried: unknown key; did you mean approval.required?"}},
		{name: "token in file", edits: []edit{{"  team_id: T0ACME\n", "  team_id: T0ACME\n  bot_token: xoxb-1\n"}}, want: []string{"slack.bot_token: unknown key", "SLACK_BOT_TOKEN"}},
		{name: "duplicate key", edits: []edit{{"  team_id: T0ACME\n", "  team_id: T0ACME\n  team_id: T0OTHER\n"}}, want: []string{"slack.team_id: given twice"}},
		{name: "list where a value belongs", edits: []edit{{"team_id: T0ACME", "team_id: [T0ACME]"}}, want: []string{"slack.team_id: must be a single value"}},
		// environment
		{name: "app token missing", env: map[string]string{EnvSlackAppToken: ""}, want: []string{"SLACK_APP_TOKEN: not set", "xapp-"}},
		{name: "app token is a bot token", env: map[string]string{EnvSlackAppToken: botToken}, want: []string{"SLACK_APP_TOKEN: holds a xoxb- token", "must start with xapp-"}},
		{name: "bot token missing", env: map[string]string{EnvSlackBotToken: ""}, want: []string{"SLACK_BOT_TOKEN: not set", "xoxb-"}},
		{name: "bot token is a user token", env: map[string]string{EnvSlackBotToken: "xoxp-USERTOKEN"}, want: []string{"SLACK_BOT_TOKEN: holds a xoxp- token"}},
		{name: "slack api url without slash", env: map[string]string{EnvSlackAPIURL: "http://127.0.0.1:9/api"}, want: []string{"SLACK_API_URL: ", "must end with /"}},
		{name: "slack api url http remote", env: map[string]string{EnvSlackAPIURL: "http://slack.example.com/api/"}, want: []string{"SLACK_API_URL: ", "must use https"}},
		{name: "authority http", env: map[string]string{EnvAuthorityHost: "http://127.0.0.1:8/"}, want: []string{"AZURE_AUTHORITY_HOST: ", "must use https"}},
		{name: "authority garbage", env: map[string]string{EnvAuthorityHost: "login"}, want: []string{"AZURE_AUTHORITY_HOST: ", "not an absolute URL"}},
		{name: "audit key unset", env: map[string]string{EnvAuditKeyFile: ""}, want: []string{"CLOSEBOT_AUDIT_KEY_FILE: not set"}},
		{name: "audit key missing file", env: map[string]string{EnvAuditKeyFile: "/nonexistent/audit.key"}, want: []string{"CLOSEBOT_AUDIT_KEY_FILE: cannot read /nonexistent/audit.key"}},
		{name: "audit key short", setup: func(f *fixture) { f.env[EnvAuditKeyFile] = f.write(nil, "short.key", "0123456789\n") },
			want: []string{"CLOSEBOT_AUDIT_KEY_FILE: ", "audit key too short: 10 bytes, need at least 32"}},
		// Issue 11 item 7: a key its group or others can read is refused, with the fix.
		{name: "audit key readable by others", setup: func(f *fixture) {
			p := f.write(nil, "loose.key", auditKey+"\n")
			if err := chmod(p, 0o644); err != nil {
				panic(err)
			}
			f.env[EnvAuditKeyFile] = p
		}, want: []string{"CLOSEBOT_AUDIT_KEY_FILE: audit key file is open to group or others: ", "loose.key has mode 0644; run: chmod 600 "}},
		{name: "audit key readable by group", setup: func(f *fixture) {
			p := f.write(nil, "group.key", auditKey+"\n")
			if err := chmod(p, 0o640); err != nil {
				panic(err)
			}
			f.env[EnvAuditKeyFile] = p
		}, want: []string{"group.key has mode 0640; run: chmod 600 "}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := goodYAML
			for _, e := range c.edits {
				text = replace(t, text, e.old, e.new)
			}
			f := newFixture(t, text)
			for k, v := range c.env {
				if v == "" {
					delete(f.env, k)
				} else {
					f.env[k] = v
				}
			}
			if c.setup != nil {
				c.setup(f)
			}
			cfg, err := f.load(t)
			assert.Nil(t, cfg)
			requireProblem(t, err, c.want...)
			// No problem ever quotes a secret.
			for _, s := range []string{secretValue, appToken, botToken, auditKey, "USERTOKEN"} {
				assert.NotContains(t, err.Error(), s)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	text := replace(t, goodYAML, "required: 2, disjoint: true", "required: 1, disjoint: false")
	text = replace(t, text, "abort_window: 15m", "abort_window: 0s")
	text = replace(t, text, "https://graph.microsoft.com/v1.0", "http://127.0.0.1:8443/graph/v1.0/")
	f := newFixture(t, text)
	f.env[EnvSlackAPIURL] = "http://127.0.0.1:9999/api/"
	f.env[EnvAuthorityHost] = "https://127.0.0.1:8443"
	c, err := f.load(t)
	if !assert.NoError(t, err) {
		return
	}
	assert.Equal(t, time.Duration(0), c.Approval.AbortWindow)
	assert.Equal(t, "http://127.0.0.1:8443/graph/v1.0", c.Graph.BaseURL)
	assert.Equal(t, "http://127.0.0.1:8443/graph/beta", c.Graph.BetaURL)
	assert.Equal(t, "https://127.0.0.1:8443/", c.Env.AuthorityHost)
	w := strings.Join(c.Warnings(), "\n")
	for _, want := range []string{"approval.abort_window is 0s", "approval.required is 1 and approval.disjoint is false",
		"graph.base_url is http://127.0.0.1:8443/graph/v1.0", "SLACK_API_URL is http://127.0.0.1:9999/api/",
		"AZURE_AUTHORITY_HOST is https://127.0.0.1:8443/"} {
		assert.Contains(t, w, want)
	}
	// Standing write access, explicit or by default (configurations written
	// before just_in_time existed keep their behaviour), is warned about.
	for _, text := range []string{replace(t, goodYAML, "write_access: just_in_time", "write_access: standing"),
		replace(t, goodYAML, "    write_access: just_in_time\n", "")} {
		f = newFixture(t, text)
		c, err = f.load(t)
		if assert.NoError(t, err) {
			assert.Equal(t, closure.WriteStanding, c.Tenants[0].WriteAccess)
			assert.Equal(t, closure.WriteStanding, c.Policy().Tenants[0].WriteAccess)
			assert.Contains(t, strings.Join(c.Warnings(), "\n"), "tenants[0].write_access is standing")
		}
	}
	// Disjoint with a person in both lists: that person's approvals never count.
	text = replace(t, goodYAML, "approvers: [U0BOB, S0SECLEAD]", "approvers: [U0ALICE, S0SECLEAD]")
	f = newFixture(t, text)
	c, err = f.load(t)
	if assert.NoError(t, err) {
		assert.Contains(t, strings.Join(c.Warnings(), "\n"), "slack.approvers: U0ALICE is also in slack.requesters")
	}
}

func chmod(path string, mode os.FileMode) error { return os.Chmod(path, mode) }
