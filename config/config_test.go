package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

func TestLoadGood(t *testing.T) {
	f := newFixture(t, goodYAML)
	c, err := f.load(t)
	require.NoError(t, err)

	assert.Equal(t, f.file, c.File)
	assert.Equal(t, Slack{TeamID: "T0ACME", Channels: []string{"C0OPS"},
		Requesters: []string{"U0ALICE", "S0ITOPS"}, Approvers: []string{"U0BOB", "S0SECLEAD"}}, c.Slack)
	assert.Equal(t, Approval{Required: 2, Disjoint: true, ExpiresAfter: 12 * time.Hour, AbortWindow: 15 * time.Minute, DriftPercent: 5}, c.Approval)
	assert.Equal(t, Gates{RecheckEvery: 5 * time.Minute, GoneConfirmations: 4, GoneSpan: 2 * time.Hour, StuckAfter: 100 * time.Hour}, c.Gates)
	assert.Equal(t, "https://graph.microsoft.com/v1.0", c.Graph.BaseURL)
	assert.Equal(t, "https://graph.microsoft.com/beta", c.Graph.BetaURL)
	require.Len(t, c.Tenants, 1)
	tn := c.Tenants[0]
	// GUIDs and the domain are normalised to lower case.
	assert.Equal(t, "6f1c3a52-8d0e-4b7a-9c21-3e5d4f6a7b80", tn.ID)
	assert.Equal(t, "contoso.onmicrosoft.com", tn.Domain)
	assert.Equal(t, "CONTOSO_CLIENT_SECRET", tn.ClientSecretEnv)
	assert.Equal(t, closure.WriteJustInTime, tn.WriteAccess)
	assert.True(t, c.Policy().Tenants[0].JustInTime())
	assert.Equal(t, secretValue, tn.ClientSecret.Reveal())
	assert.Equal(t, appToken, c.Env.SlackAppToken.Reveal())
	assert.Equal(t, botToken, c.Env.SlackBotToken.Reveal())
	assert.Equal(t, []byte(auditKey), c.AuditKey(), "trailing newline trimmed")
	assert.Equal(t, DefaultAuthorityHost, c.Env.AuthorityHost)
	assert.Empty(t, c.Env.SlackAPIURL)
	got, ok := c.Tenant("CONTOSO.onmicrosoft.com")
	assert.True(t, ok)
	assert.Equal(t, tn.ID, got.ID)
	assert.Empty(t, c.Warnings(), "required 2 and disjoint true deserve no warning")
}

func TestDefaults(t *testing.T) {
	f := newFixture(t, minimalYAML)
	c, err := f.load(t)
	require.NoError(t, err)
	assert.Equal(t, Approval{Required: 1, Disjoint: false, ExpiresAfter: 24 * time.Hour, AbortWindow: 30 * time.Minute, DriftPercent: 10}, c.Approval)
	assert.Equal(t, Gates{RecheckEvery: 10 * time.Minute, GoneConfirmations: 3, GoneSpan: time.Hour, StuckAfter: 336 * time.Hour}, c.Gates)
	assert.Equal(t, filepath.Join(f.dir, "closebot.db"), c.Store.Path)
	assert.Equal(t, Graph{BaseURL: DefaultGraphBaseURL, BetaURL: "https://graph.microsoft.com/beta"}, c.Graph)
	assert.Equal(t, "https://login.microsoftonline.com/", c.Env.AuthorityHost)
	require.NoError(t, func() error { p := c.Policy(); return p.Validate() }())
}

func TestRelativePathsFollowTheWorkingDirectory(t *testing.T) {
	f := newFixture(t, replace(t, minimalYAML, "    client_secret_env: CONTOSO_CLIENT_SECRET\n", "    client_certificate_file: certs/contoso.pem\n")+"store: {path: data/closebot.db}\n")
	require.NoError(t, os.Mkdir(filepath.Join(f.dir, "certs"), 0o700))
	f.write(t, "certs/contoso.pem", "-----BEGIN CERTIFICATE-----\n")
	// The config file lives elsewhere: paths still follow the working directory.
	other := t.TempDir()
	moved := filepath.Join(other, "closebot.yaml")
	data, err := os.ReadFile(f.file)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(moved, data, 0o600))

	c, err := Load(moved, f.getenv)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(f.dir, "data", "closebot.db"), c.Store.Path)
	assert.Equal(t, filepath.Join(f.dir, "certs", "contoso.pem"), c.Tenants[0].ClientCertificateFile)

	sp, err := StorePath(moved, f.getenv)
	require.NoError(t, err)
	assert.Equal(t, c.Store.Path, sp)
}

func TestPathFromEnvironment(t *testing.T) {
	f := newFixture(t, goodYAML)
	assert.Equal(t, "x.yaml", ResolvePath("x.yaml", f.getenv))
	assert.Equal(t, DefaultPath, ResolvePath("", f.getenv))
	f.env[EnvConfig] = f.file
	assert.Equal(t, f.file, ResolvePath("", f.getenv))
	c, err := Load("", f.getenv)
	require.NoError(t, err)
	assert.Equal(t, f.file, c.File)
}

func TestExampleLoads(t *testing.T) {
	example, err := filepath.Abs("testdata/closebot.example.yaml")
	require.NoError(t, err)
	f := newFixture(t, "")
	c, err := Load(example, f.getenv)
	require.NoError(t, err)
	assert.Equal(t, 2, c.Approval.Required)
	assert.Equal(t, filepath.Join(f.dir, "closebot.db"), c.Store.Path)
	p := c.Policy()
	require.NoError(t, p.Validate())
	assert.Empty(t, c.Warnings())
}

func TestExactlyOneCredential(t *testing.T) {
	const secretLine = "    client_secret_env: CONTOSO_CLIENT_SECRET\n"
	creds := map[string]string{
		"secret":   secretLine,
		"cert":     "    client_certificate_file: contoso.pem\n",
		"workload": "    workload_identity: true\n",
	}
	setup := func(t *testing.T, lines string) *fixture {
		f := newFixture(t, replace(t, minimalYAML, secretLine, lines))
		f.write(t, "contoso.pem", "-----BEGIN CERTIFICATE-----\n")
		f.env[EnvFederatedTokenFile] = f.write(t, "federated.token", "eyJ...")
		return f
	}
	for name, line := range creds {
		t.Run("only "+name, func(t *testing.T) {
			c, err := setup(t, line).load(t)
			require.NoError(t, err)
			tn := c.Tenants[0]
			n := 0
			for _, set := range []bool{tn.ClientSecretEnv != "", tn.ClientCertificateFile != "", tn.WorkloadIdentity} {
				if set {
					n++
				}
			}
			assert.Equal(t, 1, n, tn.Credential())
		})
	}
	for _, pair := range [][2]string{{"secret", "cert"}, {"secret", "workload"}, {"cert", "workload"}} {
		t.Run(pair[0]+" and "+pair[1], func(t *testing.T) {
			_, err := setup(t, creds[pair[0]]+creds[pair[1]]).load(t)
			requireProblem(t, err, "tenants[0]: ", "give exactly one credential")
		})
	}
	t.Run("none", func(t *testing.T) {
		_, err := setup(t, "").load(t)
		requireProblem(t, err, "tenants[0]: no credential")
	})
	t.Run("workload_identity false is none", func(t *testing.T) {
		_, err := setup(t, "    workload_identity: false\n").load(t)
		requireProblem(t, err, "tenants[0]: no credential")
	})
}

// requireProblem checks that err is an *Error with a problem containing all parts.
func requireProblem(t *testing.T, err error, parts ...string) {
	t.Helper()
	var ce *Error
	require.True(t, errors.As(err, &ce), "want *config.Error, got %v", err)
	for _, p := range ce.Problems {
		ok := true
		for _, part := range parts {
			if !strings.Contains(p, part) {
				ok = false
			}
		}
		if ok {
			return
		}
	}
	t.Fatalf("no problem contains %q; got:\n%s", parts, strings.Join(ce.Problems, "\n"))
}

func TestErrorListsEveryProblem(t *testing.T) {
	text := replace(t, goodYAML, "team_id: T0ACME", "team_id: acme")
	text = replace(t, text, "required: 2", "required: 0")
	text = replace(t, text, "gone_span: 2h", "gone_span: 0s")
	text = replace(t, text, "keep_slack_user: U0CAROL", "keep_slack_user: carol")
	f := newFixture(t, text)
	delete(f.env, EnvSlackBotToken)
	_, err := f.load(t)
	var ce *Error
	require.ErrorAs(t, err, &ce)
	assert.Len(t, ce.Problems, 5, strings.Join(ce.Problems, "\n"))
	for _, key := range []string{"slack.team_id: ", "approval.required: ", "gates.gone_span: ", "tenants[0].keep_slack_user: ", "SLACK_BOT_TOKEN: "} {
		assert.Contains(t, err.Error(), key)
	}
	assert.Contains(t, err.Error(), "5 problems")
}

func TestFileLevelRefusals(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"empty", "", "the file is empty"},
		{"comments only", "# nothing\n", "the file is empty"},
		{"not yaml", "slack: [\n", "not valid YAML"},
		{"two documents", goodYAML + "---\n" + goodYAML, "more than one YAML document"},
		{"not a mapping", "- a\n- b\n", "must be a mapping"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, c.text)
			_, err := f.load(t)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	t.Run("missing file", func(t *testing.T) {
		f := newFixture(t, goodYAML)
		_, err := Load(filepath.Join(f.dir, "nope.yaml"), f.getenv)
		require.ErrorIs(t, err, os.ErrNotExist)
		assert.Contains(t, err.Error(), "CLOSEBOT_CONFIG")
	})
}

func TestStorePathOnly(t *testing.T) {
	// StorePath ignores everything but store.path: an auditor's copy of the
	// configuration need not be complete.
	f := newFixture(t, "store: {path: data/x.db}\n")
	sp, err := StorePath(f.file, nil)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(f.dir, "data", "x.db"), sp)

	f = newFixture(t, "slack: {team_id: T0ACME}\n")
	sp, err = StorePath(f.file, nil)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(f.dir, "closebot.db"), sp)

	for _, text := range []string{"store: {path: ''}\n", "store: {pth: x.db}\n", "stor: {path: x.db}\n"} {
		f = newFixture(t, text)
		_, err = StorePath(f.file, nil)
		var ce *Error
		assert.ErrorAs(t, err, &ce, text)
	}
}
