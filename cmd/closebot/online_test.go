package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/bot/slacktest"
	"github.com/closebot/closebot/closure/graphtest"
	"github.com/closebot/closebot/closure/msgraph"
	"github.com/closebot/closebot/config"
	"github.com/closebot/closebot/internal/demo"
)

// closebotClientID is the emulated world's app registration (demo's).
const closebotClientID = "11111111-1111-1111-1111-111111111111"

// onlineWorld starts both emulators and writes the world's configuration
// and environment, edited by replacements (pairs of old, new).
func onlineWorld(t *testing.T, spec func(*graphtest.TenantSpec), replacements ...string) (*demo.World, string) {
	t.Helper()
	w, err := demo.StartWorld(demo.Options{Users: 5, Scale: 1, Spec: spec})
	require.NoError(t, err)
	t.Cleanup(w.Close)
	path := configEnv(t)
	text := w.ConfigYAML("closebot.db")
	for i := 0; i+1 < len(replacements); i += 2 {
		require.Contains(t, text, replacements[i])
		text = strings.Replace(text, replacements[i], replacements[i+1], 1)
	}
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	for _, kv := range w.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return w, path
}

// checkOnlineCLI runs `closebot config check --online` against the world,
// as main prints it: its exit code, stdout and stderr.
func checkOnlineCLI(t *testing.T, w *demo.World, path string) (int, string, string) {
	t.Helper()
	var out, errs bytes.Buffer
	err := configCheck(context.Background(), []string{"check", "--online", "--config", path}, &out, &errs,
		onlineDeps{Transport: w.Graph().Client().Transport})
	if err != nil {
		errs.WriteString("closebot config: " + err.Error() + "\n")
		return 1, out.String(), errs.String()
	}
	return 0, out.String(), errs.String()
}

func TestConfigCheckOnlineGreen(t *testing.T) {
	w, path := onlineWorld(t, nil)
	code, out, errs := checkOnlineCLI(t, w, path)
	require.Equal(t, 0, code, errs)
	domain := w.Tenant().Domain
	for _, want := range []string{
		"slack: bot token of workspace T0ACME (Acme), bot user U0CLOSEBOT",
		"slack: the 10 bot scopes of the manifest, no more",
		"tenant " + domain + ": token issued for client " + closebotClientID + " with client secret from $CONTOSO_CLIENT_SECRET",
		"tenant " + domain + ": organization " + w.Tenant().ID,
		"initial domain " + domain,
		"tenant " + domain + ": the 13 application permissions closebot needs at rest, no more",
		"holds Privileged Authentication Administrator",
		"standing write access: Organization.ReadWrite.All, User.ReadWrite.All, User.DeleteRestore.All, Policy.ReadWrite.AuthenticationMethod, Application.ReadWrite.All, Privileged Authentication Administrator",
		// The default seed is Microsoft 365 E3 + Office 365 E5: P1, no P2.
		"Microsoft Entra ID P2 absent: no PIM reads",
		"Microsoft Entra ID P1 present",
		"audit key " + w.KeyFile() + ": 64 bytes (at least 32), mode 0600",
		"online: ok",
	} {
		assert.Contains(t, out, want)
	}
	assert.Regexp(t, `client secret "secret 1" \(id [0-9a-f-]{36}\) expires on \d{4}-\d\d-\d\d, in 7(29|30) days`, out)
	assert.NotContains(t, out+errs, w.Secret())
	assert.NotContains(t, out+errs, w.Secret()[:3]+"…") // not even the hint is printed as such
	assert.Empty(t, errs)
}

// With P2 the licence line says what PIM adds.
func TestConfigCheckOnlineWithP2(t *testing.T) {
	w, path := onlineWorld(t, func(s *graphtest.TenantSpec) { s.Subscriptions = graphtest.E5(20) })
	code, out, errs := checkOnlineCLI(t, w, path)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "Microsoft Entra ID P2 (or ID Governance) present: PIM is read")
}

// Every problem at once, each named with what to do: a missing and a
// superfluous Graph permission, the directory role not held, a secret
// ending within 30 days, a missing and a superfluous Slack scope.
func TestConfigCheckOnlineNamesEveryProblem(t *testing.T) {
	w, path := onlineWorld(t, func(s *graphtest.TenantSpec) { s.ClosebotRoles = nil })
	tn := w.Tenant()
	w.Graph().RevokeAppRole(tn.ID, closebotClientID, "Device.Read.All")
	w.Graph().GrantAppRole(tn.ID, closebotClientID, "Directory.Read.All")
	require.NoError(t, w.Graph().SetClientSecretEnd(tn.ID, closebotClientID, w.Secret(), time.Now().Add(10*24*time.Hour+time.Hour)))
	scopes := slices.DeleteFunc(slacktest.DefaultBotScopes(), func(s string) bool { return s == "files:write" })
	w.Slack().SetBotScopes(append(scopes, "channels:manage")...)

	code, out, errs := checkOnlineCLI(t, w, path)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "(online): 6 problems")
	for _, want := range []string{
		"  - slack: missing bot scope files:write (attach what is too long for a message (the full plan, the audit export)): api.slack.com/apps → closebot → OAuth & Permissions → Bot Token Scopes",
		"  - slack: superfluous bot scope channels:manage: closebot calls nothing that needs it; remove it",
		"  - tenant " + tn.Domain + ": missing application permission Device.Read.All (count devices (data at stake in the plan)): Entra admin center → App registrations → closebot → API permissions → Add a permission → Microsoft Graph → Application permissions → Device.Read.All, then Grant admin consent",
		"  - tenant " + tn.Domain + ": superfluous application permission Directory.Read.All: closebot makes no call that needs it; remove it",
		"  - tenant " + tn.Domain + ": closebot's service principal",
		"does not hold the Privileged Authentication Administrator role, needed to delete users who hold admin roles",
		"Roles & admins → Privileged Authentication Administrator → Add assignments → closebot",
		`  - tenant ` + tn.Domain + `: client secret "secret 1"`,
		"expires on " + time.Now().Add(10*24*time.Hour+time.Hour).UTC().Format("2006-01-02") + ", in 10 days (less than 30 days): add a new client secret (Certificates & secrets → New client secret), put its Value in $CONTOSO_CLIENT_SECRET",
	} {
		assert.Contains(t, errs, want)
	}
	// What passed is still reported.
	assert.Contains(t, out, "slack: bot token of workspace T0ACME")
	assert.Contains(t, out, "organization "+tn.ID)
	assert.NotContains(t, out, "online: ok")
	assert.NotContains(t, out+errs, w.Secret())
}

// A wrong tenant id is named with where to find the right one; the other
// services are still checked.
func TestConfigCheckOnlineWrongTenantID(t *testing.T) {
	const wrong = "00000000-1111-4222-8333-444444444444"
	w, path := onlineWorld(t, nil)
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(w.ConfigYAML("closebot.db"), "id: "+w.Tenant().ID, "id: "+wrong, 1)), 0o600))
	w.Slack().SetBotScopes(append(slacktest.DefaultBotScopes(), "channels:manage")...)
	code, out, errs := checkOnlineCLI(t, w, path)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "(online): 2 problems")
	assert.Contains(t, errs, "  - tenant "+w.Tenant().Domain+": no token for client "+closebotClientID+" with client secret from $CONTOSO_CLIENT_SECRET: Entra knows no tenant "+wrong+" (AADSTS90002): correct tenants[].id (Entra admin center → Overview → Tenant ID)")
	assert.Contains(t, errs, "superfluous bot scope channels:manage")
	assert.Contains(t, out, "audit key ")
}

// Without a permission that reads app registrations the secret's expiry is
// not read (no standing permission is added for it): the check says where
// to look, and names the missing permission.
func TestConfigCheckOnlineCannotSeeSecret(t *testing.T) {
	w, path := onlineWorld(t, nil)
	w.Graph().RevokeAppRole(w.Tenant().ID, closebotClientID, "Application.ReadWrite.All")
	code, out, errs := checkOnlineCLI(t, w, path)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "missing application permission Application.ReadWrite.All")
	assert.Contains(t, out, "cannot see when the client secret expires (the token has no permission that reads app registrations): check Entra admin center → App registrations → closebot → Certificates & secrets → Client secrets → Expires")
	assert.Contains(t, errs, "(online): 1 problem\n")
	// The directory role is read with RoleManagement.Read.Directory alone.
	assert.Contains(t, out, "holds Privileged Authentication Administrator")
}

// A certificate's end is read from the file; one ending within 30 days is
// a problem.
func TestConfigCheckOnlineExpiringCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile := filepath.Join(dir, "closebot.pem")
	end := time.Now().Add(5 * 24 * time.Hour)
	cert := writeCertificate(t, certFile, end)
	w, path := onlineWorld(t, nil, "    client_secret_env: CONTOSO_CLIENT_SECRET\n", "    client_certificate_file: "+certFile+"\n")
	w.Graph().RegisterClientCertificate(w.Tenant().ID, closebotClientID, cert)
	code, out, errs := checkOnlineCLI(t, w, path)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "token issued for client "+closebotClientID+" with certificate "+certFile)
	assert.Contains(t, errs, "(online): 1 problem\n")
	assert.Contains(t, errs, "  - tenant "+w.Tenant().Domain+": certificate "+certFile+" (CN=closebot) expires on "+end.UTC().Format("2006-01-02")+", in 4 days (less than 30 days): make a new certificate, upload its public part")
}

func writeCertificate(t *testing.T, path string, notAfter time.Time) *x509.Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "closebot"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	pemData := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	require.NoError(t, os.WriteFile(path, pemData, 0o600))
	return cert
}

// The Slack emulator grants exactly the manifest's bot scopes by default.
func TestManifestScopesAreEmulatorDefaults(t *testing.T) {
	scopes, err := manifestBotScopes()
	require.NoError(t, err)
	var names []string
	for _, s := range scopes {
		names = append(names, s.name)
		assert.NotEmpty(t, s.why, s.name)
	}
	assert.Equal(t, slacktest.DefaultBotScopes(), names)
}

// In just-in-time mode standing write access is a problem, listed once.
func TestStandingWriteAccessInJITMode(t *testing.T) {
	r := &onlineReport{}
	checkWriteAccess("tenant x", nil, true, r)
	assert.Empty(t, r.problems)
	assert.Equal(t, []string{"tenant x: no standing write access"}, r.lines)

	r = &onlineReport{}
	held := checkPermissions("tenant x", []string{"Domain.Read.All", "User.ReadWrite.All"}, true, &onlineReport{})
	checkWriteAccess("tenant x", held, true, r)
	require.Len(t, r.problems, 1)
	assert.Contains(t, r.problems[0], "tenant x: standing write access (User.ReadWrite.All) although write access is granted just in time")
}

// `run` refuses a configuration the offline check refuses, before it
// opens anything (config.Load lists every problem).
func TestRunDoesTheOfflineChecksFirst(t *testing.T) {
	path := configEnv(t, "team_id: T0ACME", "team_id: acme")
	code, _, errs := runCLI(t, "run", "--config", path)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "1 problem")
	assert.Contains(t, errs, "slack.team_id")
	_, err := os.Stat(filepath.Join(filepath.Dir(path), "closebot.db"))
	assert.True(t, os.IsNotExist(err), "no database was created")
	var ce *config.Error
	_, lerr := loadConfig(path)
	assert.ErrorAs(t, lerr, &ce)
}

// A just-in-time tenant at rest (read-only counterparts, no directory
// role) is green: the write grants are not "missing", and there is no
// standing write access; granting one at rest is named.
func TestConfigCheckOnlineJustInTimeAtRest(t *testing.T) {
	w, err := demo.StartWorld(demo.Options{Users: 5, Scale: 1, WriteGrants: msgraph.WriteGrants()})
	require.NoError(t, err)
	t.Cleanup(w.Close)
	path := configEnv(t)
	require.Contains(t, w.ConfigYAML("closebot.db"), "just_in_time")
	require.NoError(t, os.WriteFile(path, []byte(w.ConfigYAML("closebot.db")), 0o600))
	for _, kv := range w.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	code, out, errs := checkOnlineCLI(t, w, path)
	require.Equal(t, 0, code, errs+out)
	domain := w.Tenant().Domain
	assert.Contains(t, out, "tenant "+domain+": no standing write access")
	assert.Contains(t, out, "application permissions closebot needs at rest, no more")

	w.Graph().GrantAppRole(w.Tenant().ID, w.Tenant().ClosebotAppID, "User.ReadWrite.All")
	code, out, errs = checkOnlineCLI(t, w, path)
	require.Equal(t, 1, code, out)
	assert.Contains(t, errs+out, "standing write access (User.ReadWrite.All) although write access is granted just in time")
	assert.NotContains(t, errs+out, "superfluous application permission User.ReadWrite.All")
}
