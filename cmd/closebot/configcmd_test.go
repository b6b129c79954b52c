package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/internal/demo"
)

const cliConfig = `slack:
  team_id: T0ACME
  channels: [C0OPS]
  requesters: [S0ITOPS]
  approvers: [S0SECLEAD]
approval: {required: 2, disjoint: true}
store: {path: closebot.db}
tenants:
  - id: 6f1c3a52-8d0e-4b7a-9c21-3e5d4f6a7b80
    domain: contoso.onmicrosoft.com
    keep: admin@contoso.onmicrosoft.com
    keep_slack_user: U0CAROL
    signin_client_id: 14d82eec-204b-4c2f-b7e8-296a70dab67e
    client_id: 11111111-1111-1111-1111-111111111111
    write_access: just_in_time
    client_secret_env: CONTOSO_CLIENT_SECRET
`

const (
	cliSecret   = "the-client-secret-VALUE"
	cliBotToken = "xoxb-1-BOTTOKEN"
)

// configEnv writes cliConfig (edited by replacements) into a temporary
// working directory and sets a complete environment.
func configEnv(t *testing.T, replacements ...string) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	text := cliConfig
	for i := 0; i+1 < len(replacements); i += 2 {
		require.Contains(t, text, replacements[i])
		text = strings.Replace(text, replacements[i], replacements[i+1], 1)
	}
	path := filepath.Join(dir, "closebot.yaml")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	key := filepath.Join(dir, "audit.key")
	require.NoError(t, os.WriteFile(key, []byte(testAuditKey+"\n"), 0o600))
	for k, v := range map[string]string{
		"CLOSEBOT_CONFIG": "", "CLOSEBOT_AUDIT_KEY_FILE": key,
		"SLACK_APP_TOKEN": "xapp-1-A0-APPTOKEN", "SLACK_BOT_TOKEN": cliBotToken,
		"SLACK_API_URL": "", "AZURE_AUTHORITY_HOST": "", "CONTOSO_CLIENT_SECRET": cliSecret,
	} {
		t.Setenv(k, v)
	}
	return path
}

func TestConfigCheckGood(t *testing.T) {
	path := configEnv(t)
	code, out, errs := runCLI(t, "config", "check", "--config", path)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, path+": ok\n")
	assert.Contains(t, out, "approval: 2 required, disjoint; expires after 24h0m0s; abort window 30m0s; drift 10%")
	assert.Contains(t, out, "store: "+filepath.Join(filepath.Dir(path), "closebot.db"))
	assert.Contains(t, out, "graph: https://graph.microsoft.com/v1.0 (beta https://graph.microsoft.com/beta)")
	assert.Contains(t, out, "tenant contoso.onmicrosoft.com (6f1c3a52-8d0e-4b7a-9c21-3e5d4f6a7b80): keep admin@contoso.onmicrosoft.com, Slack user U0CAROL; client 11111111-1111-1111-1111-111111111111 with client secret from $CONTOSO_CLIENT_SECRET")
	assert.NotContains(t, out, "warning:")
	assert.NotContains(t, out+errs, cliSecret)
	assert.NotContains(t, out+errs, cliBotToken)

	// CLOSEBOT_CONFIG, then the default closebot.yaml in the working directory.
	t.Setenv("CLOSEBOT_CONFIG", path)
	code, _, errs = runCLI(t, "config", "check")
	assert.Equal(t, 0, code, errs)
	t.Setenv("CLOSEBOT_CONFIG", "")
	code, _, errs = runCLI(t, "config", "check")
	assert.Equal(t, 0, code, errs)
}

func TestConfigCheckWarns(t *testing.T) {
	path := configEnv(t, "approval: {required: 2, disjoint: true}", "approval: {required: 1, abort_window: 0s}")
	code, out, errs := runCLI(t, "config", "check", "--config", path)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "warning: approval.abort_window is 0s")
	assert.Contains(t, out, "warning: approval.required is 1 and approval.disjoint is false")
}

func TestConfigCheckListsEveryProblem(t *testing.T) {
	path := configEnv(t,
		"team_id: T0ACME", "team_id: acme",
		"approvers: [S0SECLEAD]", "approvers: ['@bob']",
		"approval: {required: 2, disjoint: true}", "approval: {required: 0, expires_after: 1d}",
		"    client_secret_env: CONTOSO_CLIENT_SECRET\n", "    client_secret_env: CONTOSO_CLIENT_SECRET\n    workload_identity: true\n",
	)
	t.Setenv("SLACK_APP_TOKEN", cliBotToken)
	code, out, errs := runCLI(t, "config", "check", "--config", path)
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	assert.Contains(t, errs, "6 problems")
	for _, want := range []string{
		"  - slack.team_id: \"acme\" is not a workspace id",
		"  - slack.approvers[0]: \"@bob\" is not a Slack user or user-group id",
		"  - approval.required: is 0",
		"  - approval.expires_after: \"1d\" is not a duration",
		"  - tenants[0]: client_secret_env and workload_identity are both given",
		"  - SLACK_APP_TOKEN: holds a xoxb- token",
	} {
		assert.Contains(t, errs, want)
	}
	assert.NotContains(t, errs, cliBotToken)
}

func TestConfigUsage(t *testing.T) {
	configEnv(t)
	for _, args := range [][]string{{"config"}, {"config", "lint"}, {"config", "check", "extra"}} {
		code, _, errs := runCLI(t, args...)
		assert.Equal(t, 1, code, args)
		assert.NotEmpty(t, errs, args)
	}
	code, _, _ := runCLI(t, "config", "check", "-h")
	assert.Equal(t, 0, code)
}

// TestEmulatedWorldConfigChecks: the configuration and environment that
// `closebot emulate` prints pass `config check`, with the emulator warnings.
func TestEmulatedWorldConfigChecks(t *testing.T) {
	w, err := demo.StartWorld(demo.Options{Users: 5, Scale: 1})
	require.NoError(t, err)
	defer w.Close()
	path := configEnv(t)
	require.NoError(t, os.WriteFile(path, []byte(w.ConfigYAML("closebot.db")), 0o600))
	for _, kv := range w.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	code, out, errs := runCLI(t, "config", "check", "--config", path)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "warning: graph.base_url is "+w.Graph().GraphURL())
	assert.Contains(t, out, "warning: SLACK_API_URL is "+w.Slack().APIURL())
	assert.NotContains(t, out, w.Secret())
}
