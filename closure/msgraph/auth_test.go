package msgraph

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/graphtest"
)

func TestTenantGone(t *testing.T) {
	e := newEnv(t, smallSpec())
	ctx := ctxT(t)
	gone, err := e.d.TenantGone(ctx)
	require.NoError(t, err)
	assert.False(t, gone)
	require.NoError(t, e.tn.DeleteTenant(true))
	gone, err = e.d.TenantGone(ctx)
	require.NoError(t, err)
	assert.True(t, gone)
	// The discovery answers come from the configured authority.
	var disc int
	for _, r := range e.s.Requests() {
		if r.Kind == "authority" && r.Path == "/"+e.tn.ID+"/v2.0/.well-known/openid-configuration" {
			disc++
		}
	}
	assert.GreaterOrEqual(t, disc, 2)

	// Anything else than 200 or AADSTS90002 is an error, not an answer.
	e.s.InjectFault(graphtest.Fault{Authority: true, PathPrefix: "/" + e.tn.ID + "/v2.0/.well-known", Status: http.StatusServiceUnavailable, Times: 1})
	_, err = e.d.TenantGone(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "503")
}

// proveSignIn runs ProveSignIn with the test playing the kept admin, who
// signs in with or without MFA once the code is shown.
func proveSignIn(t *testing.T, e *env, user string, mfa bool) (closure.SignInProof, closure.DeviceCode, error) {
	t.Helper()
	var shown closure.DeviceCode
	p, err := e.d.ProveSignIn(ctxT(t), func(dc closure.DeviceCode) error {
		shown = dc
		pending := e.s.PendingDeviceCodes()
		if len(pending) != 1 || pending[0].UserCode != dc.UserCode {
			t.Errorf("pending device codes %+v, shown %q", pending, dc.UserCode)
		}
		return e.s.CompleteDeviceSignIn(dc.UserCode, user, mfa)
	})
	return p, shown, err
}

func TestProveSignIn(t *testing.T) {
	e := newEnv(t, smallSpec())
	kept := e.tn.KeptAdmin()

	p, dc, err := proveSignIn(t, e, kept.UPN, true)
	require.NoError(t, err)
	assert.Equal(t, kept.ID, p.ObjectID)
	assert.Equal(t, e.tn.ID, p.TenantID)
	assert.True(t, p.HasMFA(), "amr %v", p.AMR)
	assert.NotEmpty(t, dc.UserCode)
	assert.NotEmpty(t, dc.VerificationURL)
	assert.Contains(t, dc.Message, dc.UserCode)
	assert.True(t, dc.ExpiresOn.After(time.Now()))

	// A second proof is a new sign-in, not a cached token.
	p, _, err = proveSignIn(t, e, kept.UPN, false)
	require.NoError(t, err)
	assert.Equal(t, kept.ID, p.ObjectID)
	assert.False(t, p.HasMFA(), "amr %v", p.AMR)
	assert.Equal(t, []string{"pwd"}, p.AMR)

	// Someone else signing in is reported as who they are; the caller refuses.
	other := pickUser(t, e.tn, ordinary)
	p, _, err = proveSignIn(t, e, other.UPN, true)
	require.NoError(t, err)
	assert.Equal(t, other.ID, p.ObjectID)

	// The flows used the signin client and asked Graph's User.Read.
	var forms []string
	for _, r := range e.s.Requests() {
		if r.Kind == "authority" && strings.HasSuffix(r.Path, "/oauth2/v2.0/devicecode") {
			forms = append(forms, r.Body)
		}
	}
	require.Len(t, forms, 3)
	assert.Contains(t, forms[0], "client_id="+signinClient)
	assert.Contains(t, forms[0], "User.Read")
}

func TestProveSignInShowFailsOrDeclined(t *testing.T) {
	e := newEnv(t, smallSpec())
	_, err := e.d.ProveSignIn(ctxT(t), func(closure.DeviceCode) error { return assert.AnError })
	require.ErrorIs(t, err, assert.AnError)

	_, err = e.d.ProveSignIn(ctxT(t), func(dc closure.DeviceCode) error { return e.s.DeclineDeviceSignIn(dc.UserCode) })
	require.Error(t, err)

	e.d.cfg.SigninClientID = ""
	_, err = e.d.ProveSignIn(ctxT(t), func(closure.DeviceCode) error { return nil })
	require.ErrorContains(t, err, "signin_client_id")
}

func TestTokenClaims(t *testing.T) {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	tok := enc(map[string]string{"alg": "RS256"}) + "." + enc(map[string]any{"oid": "o", "tid": "t", "amr": []string{"pwd", "mfa"}}) + ".sig"
	p, err := tokenClaims(tok)
	require.NoError(t, err)
	assert.Equal(t, closure.SignInProof{ObjectID: "o", TenantID: "t", AMR: []string{"pwd", "mfa"}}, p)
	for _, bad := range []string{"", "a.b", "a.!!!.c", "a." + enc(map[string]string{"oid": "o"}) + ".c"} {
		_, err := tokenClaims(bad)
		assert.Error(t, err, bad)
	}
}

func selfSigned(t *testing.T) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "closebot"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert, key
}

func TestCertificateCredential(t *testing.T) {
	s := newEmulator(t)
	tn := s.AddTenant(smallSpec())
	cert, key := selfSigned(t)
	s.RegisterClientCertificate(tn.ID, tn.ClosebotAppID, cert)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "closebot.pem")
	pemData := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	require.NoError(t, os.WriteFile(file, pemData, 0o600))

	cfg := baseConfig(s, tn, &syncBuffer{})
	cfg.CertificateFile = file
	d, err := New(ctxT(t), cfg)
	require.NoError(t, err)
	org, err := d.Organization(ctxT(t))
	require.NoError(t, err)
	assert.Equal(t, tn.ID, org.ID)
	assert.Contains(t, lastTokenForm(t, s), "client_assertion_type=")

	cfg.CertificateFile = filepath.Join(t.TempDir(), "missing.pem")
	_, err = New(ctxT(t), cfg)
	require.ErrorContains(t, err, "certificate")
}

// lastTokenForm is the (redacted) form of the last token request.
func lastTokenForm(t *testing.T, s *graphtest.Server) string {
	t.Helper()
	reqs := s.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Kind == "authority" && strings.HasSuffix(reqs[i].Path, "/oauth2/v2.0/token") {
			return reqs[i].Body
		}
	}
	t.Fatal("no token request")
	return ""
}

// signJWT signs claims RS256, as a workload's identity provider would.
func signJWT(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(map[string]string{"alg": "RS256", "typ": "JWT", "kid": "k1"}) + "." + enc(claims)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	require.NoError(t, err)
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestWorkloadIdentityCredential(t *testing.T) {
	s := newEmulator(t)
	tn := s.AddTenant(smallSpec())
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	const issuer, subject = "https://oidc.example.test/cluster", "system:serviceaccount:closebot:closebot"
	s.RegisterFederatedCredential(tn.ID, tn.ClosebotAppID, issuer, subject, &key.PublicKey)
	now := time.Now()
	file := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(file, []byte(signJWT(t, key, map[string]any{
		"iss": issuer, "sub": subject, "aud": "api://AzureADTokenExchange",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})), 0o600))
	t.Setenv("AZURE_FEDERATED_TOKEN_FILE", file)

	cfg := baseConfig(s, tn, &syncBuffer{})
	cfg.WorkloadIdentity = true
	d, err := New(ctxT(t), cfg)
	require.NoError(t, err)
	org, err := d.Organization(ctxT(t))
	require.NoError(t, err)
	assert.Equal(t, tn.ID, org.ID)
}

// A wrong secret fails the call with the authority's refusal, and neither
// the error nor the log shows the secret.
func TestWrongSecretFailsWithoutLeaking(t *testing.T) {
	s := newEmulator(t)
	tn := s.AddTenant(smallSpec())
	s.RegisterClientSecret(tn.ID, tn.ClosebotAppID, "the-right-one")
	logs := &syncBuffer{}
	cfg := baseConfig(s, tn, logs)
	cfg.ClientSecret = testSecret
	d, err := New(ctxT(t), cfg)
	require.NoError(t, err)
	_, err = d.Organization(ctxT(t))
	require.Error(t, err)
	_, isAPI := closure.AsAPIError(err)
	assert.False(t, isAPI, "a token failure is not a Graph refusal: %v", err)
	assert.Contains(t, err.Error(), "read organization")
	assert.NotContains(t, err.Error(), testSecret)
	assert.NotContains(t, logs.String(), testSecret)
	assert.Empty(t, requests(s, http.MethodGet, "/organization"), "no Graph call without a token")
}

func TestNewValidatesConfig(t *testing.T) {
	good := Config{TenantID: "00000000-0000-0000-0000-0000000000aa", ClientID: "c", ClientSecret: testSecret}
	d, err := New(context.Background(), good)
	require.NoError(t, err)
	assert.Equal(t, DefaultGraphBaseURL, d.base)
	assert.Equal(t, "https://graph.microsoft.com/beta", d.beta)
	assert.False(t, d.discoveryOff, "Microsoft's authority keeps instance discovery")

	t.Setenv("AZURE_AUTHORITY_HOST", "https://login.example.test")
	d, err = New(context.Background(), good)
	require.NoError(t, err)
	assert.Equal(t, "https://login.example.test/", d.authority)
	assert.True(t, d.discoveryOff, "instance discovery off for a non-Microsoft authority")

	withBase := good
	withBase.GraphBaseURL = "https://graph.example.test/emu/v1.0/"
	d, err = New(context.Background(), withBase)
	require.NoError(t, err)
	assert.Equal(t, "https://graph.example.test/emu/v1.0", d.base)
	assert.Equal(t, "https://graph.example.test/emu/beta", d.beta)

	for name, mutate := range map[string]func(*Config){
		"no credential":     func(c *Config) { c.ClientSecret = "" },
		"two credentials":   func(c *Config) { c.WorkloadIdentity = true },
		"three credentials": func(c *Config) { c.WorkloadIdentity = true; c.CertificateFile = "x.pem" },
		"tenant not a GUID": func(c *Config) { c.TenantID = "contoso.onmicrosoft.com" },
		"no client id":      func(c *Config) { c.ClientID = "" },
		"http authority":    func(c *Config) { c.AuthorityHost = "http://login.example.test/" },
		"relative base":     func(c *Config) { c.GraphBaseURL = "/v1.0" },
		"beta base":         func(c *Config) { c.GraphBaseURL = "https://graph.microsoft.com/beta" },
		"http base":         func(c *Config) { c.GraphBaseURL = "http://graph.example.test/v1.0" },
	} {
		c := good
		mutate(&c)
		_, err := New(context.Background(), c)
		assert.Error(t, err, name)
		if err != nil {
			assert.NotContains(t, err.Error(), testSecret, "%s: secret in error", name)
		}
	}
}
