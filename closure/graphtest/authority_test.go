package graphtest

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

func TestAuthClientSecretCredentialClaims(t *testing.T) {
	s := newAuthServer(t, Options{})
	ten := addAuthTenant(t, s, "contoso", 10)
	tok := mustToken(t, secretCredential(t, s, ten.ID, ten.AppID, "s3cret-contoso"))
	c, err := s.VerifyAccessToken(tok)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if c.Tid != ten.ID || c.AppID != ten.AppID || c.Azp != ten.AppID {
		t.Errorf("tid/appid/azp = %s/%s/%s, want %s/%s", c.Tid, c.AppID, c.Azp, ten.ID, ten.AppID)
	}
	if c.Aud != "https://graph.microsoft.com" || c.Idtyp != "app" || c.Oid == "" || len(c.AMR) != 0 {
		t.Errorf("aud %q idtyp %q oid %q amr %v", c.Aud, c.Idtyp, c.Oid, c.AMR)
	}
	if c.Iss != s.URL()+"/"+ten.ID+"/v2.0" {
		t.Errorf("iss = %q", c.Iss)
	}
	if !slices.Contains(c.Roles, "User.ReadWrite.All") {
		t.Errorf("roles = %v", c.Roles)
	}
	if !slices.Contains(c.XmsCC, "CP1") {
		t.Errorf("xms_cc = %v, want CP1 (azidentity asked for CAE)", c.XmsCC)
	}
	if got := time.Unix(c.Exp, 0).Sub(s.Clock().Now()); got < 59*time.Minute || got > 61*time.Minute {
		t.Errorf("exp in %v, want ~1h on the emulator clock", got)
	}
	// The oid of an app-only token is stable across tokens.
	tok2 := mustToken(t, secretCredential(t, s, ten.Domain, ten.AppID, "s3cret-contoso"))
	c2, _ := ParseAccessToken(tok2)
	if c2.Oid != c.Oid || c2.Tid != ten.ID {
		t.Errorf("second token oid/tid %s/%s, want %s/%s (domain authority resolves to the id)", c2.Oid, c2.Tid, c.Oid, ten.ID)
	}
	// The secret never reaches the log.
	for _, r := range s.Requests() {
		if strings.Contains(r.Body, "s3cret") {
			t.Fatalf("secret logged: %+v", r)
		}
	}
}

func TestAuthWrongSecretFails(t *testing.T) {
	s := newAuthServer(t, Options{})
	ten := addAuthTenant(t, s, "contoso", 10)
	_, err := getToken(t, secretCredential(t, s, ten.ID, ten.AppID, "wrong"))
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) {
		t.Fatalf("err = %v, want AuthenticationFailedError", err)
	}
	if !strings.Contains(err.Error(), "AADSTS7000215") || afe.RawResponse == nil || afe.RawResponse.StatusCode != http.StatusUnauthorized {
		t.Errorf("err = %v", err)
	}
	// An unknown client id is refused too.
	_, err = getToken(t, secretCredential(t, s, ten.ID, newGUID(), "s3cret-contoso"))
	if !errors.As(err, &afe) || !strings.Contains(err.Error(), "AADSTS700016") {
		t.Errorf("unknown client: err = %v", err)
	}
}

func TestAuthClientCertificateCredential(t *testing.T) {
	s := newAuthServer(t, Options{})
	ten := addAuthTenant(t, s, "contoso", 10)
	cert, key := selfSignedCert(t, "closebot")
	s.RegisterClientCertificate(ten.ID, ten.AppID, cert)
	cred, err := azidentity.NewClientCertificateCredential(ten.ID, ten.AppID, []*x509.Certificate{cert}, key, &azidentity.ClientCertificateCredentialOptions{
		ClientOptions: azOptions(s), DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseAccessToken(mustToken(t, cred))
	if err != nil || c.AppID != ten.AppID || c.Tid != ten.ID {
		t.Fatalf("claims %+v, err %v", c, err)
	}
	// Another certificate's key is refused with a signature error.
	other, otherKey := selfSignedCert(t, "intruder")
	bad, err := azidentity.NewClientCertificateCredential(ten.ID, ten.AppID, []*x509.Certificate{other}, otherKey, &azidentity.ClientCertificateCredentialOptions{
		ClientOptions: azOptions(s), DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = getToken(t, bad)
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) || !strings.Contains(err.Error(), "AADSTS700027") {
		t.Errorf("unregistered cert: err = %v", err)
	}
	// An assertion naming the registered certificate's thumbprint but signed
	// by another key fails signature validation.
	forged, err := azidentity.NewClientAssertionCredential(ten.ID, ten.AppID, func(context.Context) (string, error) {
		return certAssertion(t, s.URL()+"/"+ten.ID+"/oauth2/v2.0/token", ten.AppID, cert, otherKey), nil
	}, &azidentity.ClientAssertionCredentialOptions{ClientOptions: azOptions(s), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = getToken(t, forged); err == nil || !strings.Contains(err.Error(), "AADSTS700027") {
		t.Errorf("forged signature: err = %v", err)
	}
	// The same assertion signed by the right key passes: the check above
	// failed on the signature alone.
	right, err := azidentity.NewClientAssertionCredential(ten.ID, ten.AppID, func(context.Context) (string, error) {
		return certAssertion(t, s.URL()+"/"+ten.ID+"/oauth2/v2.0/token", ten.AppID, cert, key), nil
	}, &azidentity.ClientAssertionCredentialOptions{ClientOptions: azOptions(s), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	mustToken(t, right)
}

// certAssertion builds the PS256 client assertion MSAL builds
// (accesstokens.go Credential.JWT), signed by key.
func certAssertion(t testing.TB, aud, clientID string, cert *x509.Certificate, key *rsa.PrivateKey) string {
	t.Helper()
	thumb := sha256.Sum256(cert.Raw)
	hdr, _ := json.Marshal(map[string]string{"alg": "PS256", "typ": "JWT", "x5t#S256": base64.StdEncoding.EncodeToString(thumb[:])})
	now := time.Now()
	body, _ := json.Marshal(map[string]any{"aud": aud, "iss": clientID, "sub": clientID, "jti": newGUID(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()})
	input := b64(hdr) + "." + b64(body)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPSS(rand.Reader, key, crypto.SHA256, sum[:], nil)
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

// federatedJWT is what a workload's identity provider (e.g. Kubernetes) issues.
func federatedJWT(t testing.TB, key *rsa.PrivateKey, iss, sub, aud string, exp time.Time) string {
	t.Helper()
	sg := &signer{key: key, kid: "k8s"}
	tok, err := sg.sign(map[string]any{"iss": iss, "sub": sub, "aud": []string{aud}, "exp": exp.Unix(), "nbf": time.Now().Unix(), "iat": time.Now().Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestAuthWorkloadIdentityAndClientAssertion(t *testing.T) {
	s := newAuthServer(t, Options{})
	ten := addAuthTenant(t, s, "contoso", 10)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	const iss, sub = "https://oidc.k8s.example.test", "system:serviceaccount:closebot:closebot"
	s.RegisterFederatedCredential(ten.ID, ten.AppID, iss, sub, &key.PublicKey)

	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(federatedJWT(t, key, iss, sub, "api://AzureADTokenExchange", time.Now().Add(time.Hour))), 0o600); err != nil {
		t.Fatal(err)
	}
	wi, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
		ClientOptions: azOptions(s), DisableInstanceDiscovery: true,
		ClientID: ten.AppID, TenantID: ten.ID, TokenFilePath: file,
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseAccessToken(mustToken(t, wi))
	if err != nil || c.AppID != ten.AppID || c.Tid != ten.ID || c.Idtyp != "app" {
		t.Fatalf("workload identity claims %+v, err %v", c, err)
	}

	assertion := func(sub string) func(context.Context) (string, error) {
		return func(context.Context) (string, error) {
			return federatedJWT(t, key, iss, sub, "api://AzureADTokenExchange", time.Now().Add(time.Hour)), nil
		}
	}
	ca, err := azidentity.NewClientAssertionCredential(ten.ID, ten.AppID, assertion(sub), &azidentity.ClientAssertionCredentialOptions{
		ClientOptions: azOptions(s), DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseAccessToken(mustToken(t, ca)); err != nil {
		t.Fatal(err)
	}
	// A subject without a federated credential is refused (AADSTS70021).
	wrong, err := azidentity.NewClientAssertionCredential(ten.ID, ten.AppID, assertion("system:serviceaccount:other:other"), &azidentity.ClientAssertionCredentialOptions{
		ClientOptions: azOptions(s), DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	var afe *azidentity.AuthenticationFailedError
	if _, err := getToken(t, wrong); !errors.As(err, &afe) || !strings.Contains(err.Error(), "AADSTS70021") {
		t.Errorf("unknown subject: err = %v", err)
	}
}

const signinClientID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"

func TestAuthDeviceCodeMFA(t *testing.T) {
	s := newAuthServer(t, Options{})
	ten := addAuthTenant(t, s, "contoso", 10)
	s.RegisterPublicClient(signinClientID)
	for _, mfa := range []bool{true, false} {
		var prompted azidentity.DeviceCodeMessage
		cred := deviceCodeCred(t, s, ten.ID, signinClientID, func(m azidentity.DeviceCodeMessage) error {
			prompted = m
			if got := s.PendingDeviceCodes(); len(got) != 1 || got[0].UserCode != m.UserCode {
				t.Errorf("pending = %+v, prompt code %s", got, m.UserCode)
			}
			return s.CompleteDeviceSignIn(m.UserCode, ten.Admin, mfa)
		})
		c, err := ParseAccessToken(mustToken(t, cred))
		if err != nil {
			t.Fatal(err)
		}
		if c.Oid != ten.AdminOID || c.Tid != ten.ID || c.Idtyp != "user" || c.AppID != signinClientID {
			t.Errorf("mfa=%v: claims %+v", mfa, c)
		}
		if got := slices.Contains(c.AMR, "mfa"); got != mfa || !slices.Contains(c.AMR, "pwd") {
			t.Errorf("mfa=%v: amr = %v", mfa, c.AMR)
		}
		if !strings.Contains(prompted.Message, prompted.UserCode) || prompted.VerificationURL == "" {
			t.Errorf("prompt = %+v", prompted)
		}
		// The delegated token is accepted by Graph as the user.
		resp := rawCall(t, s, http.MethodGet, "/v1.0/me", mustToken(t, cred), nil)
		if resp.StatusCode == http.StatusUnauthorized {
			t.Errorf("delegated token refused: %v", decodeJSON(t, resp))
		}
		reqs := s.Requests()
		if last := reqs[len(reqs)-1]; last.UserOID != ten.AdminOID {
			t.Errorf("log principal = %+v", last)
		}
	}
}

func TestAuthDeviceCodeOrganizationsAndPolling(t *testing.T) {
	s := newAuthServer(t, Options{})
	ten := addAuthTenant(t, s, "contoso", 10)
	s.RegisterPublicClient(signinClientID)
	// The human acts after a few authorization_pending polls, from another
	// goroutine, as in the demo.
	cred := deviceCodeCred(t, s, "organizations", signinClientID, func(azidentity.DeviceCodeMessage) error { return nil })
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		dc, err := s.WaitDeviceCode(ctx)
		if err != nil {
			done <- err
			return
		}
		for pending := 0; pending < 2; {
			pending = 0
			for _, r := range s.Requests() {
				if strings.HasSuffix(r.Path, "/oauth2/v2.0/token") && r.Status == http.StatusBadRequest {
					pending++
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		done <- s.CompleteDeviceSignIn(dc.UserCode, ten.Admin, true)
	}()
	c, err := ParseAccessToken(mustToken(t, cred))
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c.Tid != ten.ID || c.Oid != ten.AdminOID {
		t.Errorf("organizations sign-in: claims %+v", c)
	}
	for _, r := range s.Requests() {
		if strings.Contains(r.Body, "device_code=") && !strings.Contains(r.Body, "device_code=REDACTED") {
			t.Fatalf("device code logged: %s", r.Body)
		}
	}
}

func TestAuthDeviceCodeDeclinedAndExpired(t *testing.T) {
	clock := NewManualClock(time.Now())
	s := newAuthServer(t, Options{Clock: clock})
	ten := addAuthTenant(t, s, "contoso", 10)
	s.RegisterPublicClient(signinClientID)

	declined := deviceCodeCred(t, s, ten.ID, signinClientID, func(m azidentity.DeviceCodeMessage) error {
		return s.DeclineDeviceSignIn(m.UserCode)
	})
	_, err := getToken(t, declined)
	// MSAL reads the 400 body to tell pending from final, so azidentity's
	// error has no body; TestAuthDeviceCodeWire checks what was answered.
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) || afe.RawResponse == nil || afe.RawResponse.StatusCode != http.StatusBadRequest {
		t.Errorf("declined: err = %v", err)
	}

	expired := deviceCodeCred(t, s, ten.ID, signinClientID, func(m azidentity.DeviceCodeMessage) error {
		clock.Advance(16 * time.Minute)
		if err := s.CompleteDeviceSignIn(m.UserCode, ten.Admin, true); err == nil {
			t.Error("completed an expired device code")
		}
		return nil
	})
	_, err = getToken(t, expired)
	if !errors.As(err, &afe) || afe.RawResponse == nil || afe.RawResponse.StatusCode != http.StatusBadRequest {
		t.Errorf("expired: err = %v", err)
	}
	// A code for an unknown user is refused to the human, not the client.
	unknown := deviceCodeCred(t, s, ten.ID, signinClientID, func(m azidentity.DeviceCodeMessage) error {
		if err := s.CompleteDeviceSignIn(m.UserCode, "nobody@"+ten.Domain, false); err == nil {
			t.Error("completed as an unknown user")
		}
		return s.DeclineDeviceSignIn(m.UserCode)
	})
	if _, err := getToken(t, unknown); err == nil {
		t.Error("token after decline")
	}
}

func TestAuthDeletedTenantDiscovery(t *testing.T) {
	s := newAuthServer(t, Options{})
	ten := addAuthTenant(t, s, "contoso", 10)

	resp := rawCall(t, s, http.MethodGet, "/"+ten.ID+"/v2.0/.well-known/openid-configuration", "", nil)
	doc := decodeJSON(t, resp)
	if resp.StatusCode != http.StatusOK || doc["issuer"] != s.URL()+"/"+ten.ID+"/v2.0" {
		t.Fatalf("live discovery %d: %v", resp.StatusCode, doc)
	}
	for _, k := range []string{"token_endpoint", "authorization_endpoint", "device_authorization_endpoint", "jwks_uri"} {
		if v, _ := doc[k].(string); !strings.HasPrefix(v, s.URL()+"/") {
			t.Errorf("%s = %v", k, doc[k])
		}
	}
	keys := decodeJSON(t, rawCall(t, s, http.MethodGet, "/"+ten.ID+"/discovery/v2.0/keys", "", nil))
	if ks, _ := keys["keys"].([]any); len(ks) != 1 {
		t.Errorf("jwks = %v", keys)
	}
	tok := mustToken(t, secretCredential(t, s, ten.ID, ten.AppID, "s3cret-contoso"))

	if err := ten.DeleteTenant(true); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ten.ID, ten.Domain} {
		resp = rawCall(t, s, http.MethodGet, "/"+name+"/v2.0/.well-known/openid-configuration", "", nil)
		body := decodeJSON(t, resp)
		codes, _ := body["error_codes"].([]any)
		desc, _ := body["error_description"].(string)
		if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_tenant" || len(codes) != 1 || codes[0] != float64(90002) ||
			!strings.HasPrefix(desc, "AADSTS90002: Tenant '"+name+"' not found.") || !strings.Contains(desc, "Trace ID: ") ||
			body["trace_id"] == nil || body["correlation_id"] == nil || body["timestamp"] == nil {
			t.Errorf("deleted tenant discovery %d: %v", resp.StatusCode, body)
		}
	}
	// azidentity surfaces it as AuthenticationFailedError.
	_, err := getToken(t, secretCredential(t, s, ten.ID, ten.AppID, "s3cret-contoso"))
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) || !strings.Contains(err.Error(), "AADSTS90002") {
		t.Errorf("credential for deleted tenant: err = %v", err)
	}
	// A token issued before the deletion no longer works on Graph.
	resp = rawCall(t, s, http.MethodGet, "/v1.0/organization", tok, nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("token of deleted tenant: %d", resp.StatusCode)
	}
}

func TestAuthGraphBearerChecks(t *testing.T) {
	clock := NewManualClock(time.Now())
	s := newAuthServer(t, Options{Clock: clock})
	ten := addAuthTenant(t, s, "contoso", 10)
	tok := mustToken(t, secretCredential(t, s, ten.ID, ten.AppID, "s3cret-contoso"))

	forged := func() string {
		other := &signer{key: mustRSA(t), kid: s.auth.sign.kid}
		c, _ := ParseAccessToken(tok)
		f, err := other.sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}()
	for name, token := range map[string]string{"missing": "", "garbled": "not-a-jwt", "wrong signature": forged, "truncated": tok[:len(tok)-8]} {
		resp := rawCall(t, s, http.MethodGet, "/v1.0/users", token, nil)
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer ") ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: %d %v", name, resp.StatusCode, resp.Header)
			continue
		}
		e, _ := decodeJSON(t, resp)["error"].(map[string]any)
		if e["code"] != "InvalidAuthenticationToken" || e["message"] == "" || e["innerError"] == nil {
			t.Errorf("%s: body %v", name, e)
		}
	}
	if resp := rawCall(t, s, http.MethodGet, "/v1.0/users", tok, nil); resp.StatusCode == http.StatusUnauthorized {
		t.Fatalf("valid token refused: %v", decodeJSON(t, resp))
	}
	// Expired on the emulator clock: a CAE client gets a claims challenge.
	clock.Advance(2 * time.Hour)
	resp := rawCall(t, s, http.MethodGet, "/v1.0/users", tok, nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="insufficient_claims", claims="`) {
		t.Errorf("expired: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

func mustRSA(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// The claims challenge makes the real SDK fetch a fresh token by itself
// when the emulator clock has run past the cached token's exp.
func TestAuthExpiredTokenRecoveredBySDK(t *testing.T) {
	clock := NewManualClock(time.Now())
	s := newAuthServer(t, Options{Clock: clock})
	ten := addAuthTenant(t, s, "contoso", 10)
	client, _ := graphClient(t, s, secretCredential(t, s, ten.ID, ten.AppID, "s3cret-contoso"), false)
	status := func() int {
		_, err := client.Organization().Get(context.Background(), nil)
		var re interface{ GetStatusCode() int }
		if err == nil {
			return http.StatusOK
		}
		if errors.As(err, &re) {
			return re.GetStatusCode()
		}
		t.Fatalf("organization: %v", err)
		return 0
	}
	if got := status(); got == http.StatusUnauthorized {
		t.Fatalf("first call 401")
	}
	issued := s.TokensIssued()
	clock.Advance(2 * time.Hour)
	if got := status(); got == http.StatusUnauthorized {
		t.Fatalf("call after expiry: 401, the SDK did not answer the claims challenge")
	}
	if s.TokensIssued() != issued+1 {
		t.Errorf("tokens issued %d → %d, want one fresh token", issued, s.TokensIssued())
	}
}

// TestAuthDeviceCodeWire checks the device-code endpoint and polling at the
// protocol level: both grant_type spellings, and each error MSAL reads.
func TestAuthDeviceCodeWire(t *testing.T) {
	clock := NewManualClock(time.Now())
	s := newAuthServer(t, Options{Clock: clock})
	ten := addAuthTenant(t, s, "contoso", 10)
	s.RegisterPublicClient(signinClientID)
	post := func(path string, form url.Values) (int, map[string]any) {
		resp, err := s.Client().PostForm(s.URL()+"/"+ten.ID+"/oauth2/v2.0/"+path, form)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, decodeJSON(t, resp)
	}
	start := func() map[string]any {
		st, dc := post("devicecode", url.Values{"client_id": {signinClientID}, "scope": {"https://graph.microsoft.com/.default openid profile offline_access"}})
		if st != http.StatusOK {
			t.Fatalf("devicecode %d: %v", st, dc)
		}
		for _, k := range []string{"device_code", "user_code", "verification_uri", "message"} {
			if v, _ := dc[k].(string); v == "" {
				t.Errorf("devicecode %s missing: %v", k, dc)
			}
		}
		if dc["expires_in"] != float64(900) || dc["interval"] != float64(5) {
			t.Errorf("devicecode expiry/interval: %v", dc)
		}
		return dc
	}
	poll := func(dc map[string]any, grant string) (int, map[string]any) {
		return post("token", url.Values{"grant_type": {grant}, "client_id": {signinClientID}, "device_code": {dc["device_code"].(string)}, "client_info": {"1"}, "scope": {"https://graph.microsoft.com/.default openid profile offline_access"}})
	}
	wantErr := func(st int, body map[string]any, code string, aadsts float64) {
		t.Helper()
		codes, _ := body["error_codes"].([]any)
		if st != http.StatusBadRequest || body["error"] != code || len(codes) != 1 || codes[0] != aadsts {
			t.Errorf("got %d %v, want 400 %s", st, body, code)
		}
	}
	for _, grant := range []string{"device_code", "urn:ietf:params:oauth:grant-type:device_code"} {
		dc := start()
		st, body := poll(dc, grant)
		wantErr(st, body, "authorization_pending", 70016)
		if err := s.CompleteDeviceSignIn(dc["user_code"].(string), ten.AdminOID, true); err != nil {
			t.Fatal(err)
		}
		st, body = poll(dc, grant)
		if st != http.StatusOK || body["id_token"] == nil || body["client_info"] == nil || body["refresh_token"] == nil || body["access_token"] == nil {
			t.Fatalf("%s: approved poll %d: %v", grant, st, body)
		}
		st, body = poll(dc, grant)
		wantErr(st, body, "invalid_grant", 54005)
	}
	dc := start()
	if err := s.DeclineDeviceSignIn(dc["user_code"].(string)); err != nil {
		t.Fatal(err)
	}
	st, body := poll(dc, "device_code")
	wantErr(st, body, "authorization_declined", 70000)

	dc = start()
	clock.Advance(deviceCodeLifetime + time.Second)
	st, body = poll(dc, "device_code")
	wantErr(st, body, "expired_token", 70020)
	if len(s.PendingDeviceCodes()) != 0 {
		t.Errorf("pending after expiry: %v", s.PendingDeviceCodes())
	}
	// An unregistered public client cannot start a flow.
	st, body = post("devicecode", url.Values{"client_id": {newGUID()}, "scope": {"https://graph.microsoft.com/.default"}})
	wantErr(st, body, "unauthorized_client", 700016)
}
