package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Values that must never appear in any printed form of a Config.
const (
	secretValue = "client-secret-VALUE-0123456789"
	appToken    = "xapp-1-A0CLOSEBOT-1234567890-APPTOKENSECRET"
	botToken    = "xoxb-1234-5678-BOTTOKENSECRET"
	auditKey    = "audit-key-material-that-is-long-enough-0123456789"
)

const goodYAML = `slack:
  team_id: T0ACME
  channels: [C0OPS]
  requesters: [U0ALICE, S0ITOPS]
  approvers: [U0BOB, S0SECLEAD]
approval: {required: 2, disjoint: true, expires_after: 12h, abort_window: 15m, drift_percent: 5}
gates: {recheck_every: 5m, gone_confirmations: 4, gone_span: 2h, stuck_after: 100h}
store: {path: data/closebot.db}
graph: {base_url: https://graph.microsoft.com/v1.0}
tenants:
  - id: 6F1C3A52-8D0E-4B7A-9C21-3E5D4F6A7B80
    domain: Contoso.onmicrosoft.com
    keep: admin@contoso.onmicrosoft.com
    keep_slack_user: U0CAROL
    signin_client_id: 14d82eec-204b-4c2f-b7e8-296a70dab67e
    client_id: 11111111-1111-1111-1111-111111111111
    write_access: just_in_time
    client_secret_env: CONTOSO_CLIENT_SECRET
`

// minimalYAML has only what has no default.
const minimalYAML = `slack:
  team_id: T0ACME
  channels: [C0OPS]
  requesters: [S0ITOPS]
  approvers: [S0SECLEAD]
tenants:
  - id: 6f1c3a52-8d0e-4b7a-9c21-3e5d4f6a7b80
    domain: contoso.onmicrosoft.com
    keep: admin@contoso.onmicrosoft.com
    keep_slack_user: U0CAROL
    signin_client_id: 14d82eec-204b-4c2f-b7e8-296a70dab67e
    client_id: 11111111-1111-1111-1111-111111111111
    client_secret_env: CONTOSO_CLIENT_SECRET
`

// fixture is a working directory with a config file, an audit key and an
// environment; tests change pieces of it.
type fixture struct {
	dir  string
	env  map[string]string
	file string
}

func newFixture(t *testing.T, yamlText string) *fixture {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	f := &fixture{dir: dir, file: filepath.Join(dir, "closebot.yaml")}
	f.write(t, "audit.key", auditKey+"\n")
	f.write(t, "closebot.yaml", yamlText)
	f.env = map[string]string{
		EnvSlackAppToken:        appToken,
		EnvSlackBotToken:        botToken,
		EnvAuditKeyFile:         filepath.Join(dir, "audit.key"),
		"CONTOSO_CLIENT_SECRET": secretValue,
	}
	return f
}

// write creates a file in the fixture's directory (t may be nil inside
// table setups; a failure then panics).
func (f *fixture) write(t *testing.T, name, content string) string {
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		if t == nil {
			panic(err)
		}
		t.Fatal(err)
	}
	return p
}

func (f *fixture) getenv(k string) string { return f.env[k] }

func (f *fixture) load(t *testing.T) (*Config, error) {
	t.Helper()
	return Load(f.file, f.getenv)
}

// replace edits the YAML text, failing if old is not there.
func replace(t *testing.T, text, old, new string) string {
	t.Helper()
	if !strings.Contains(text, old) {
		t.Fatalf("fixture has no %q", old)
	}
	return strings.Replace(text, old, new, 1)
}
