package graphtest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// authTenant is a seeded tenant the authority tests sign in to.
type authTenant struct {
	*Tenant
	Admin    string // kept admin's UPN: completes device sign-ins
	AdminOID string
	AppID    string // closebot's app, with secret "s3cret-<label>"
}

// newAuthServer starts an emulator on the given options.
func newAuthServer(t testing.TB, opts Options) *Server {
	t.Helper()
	s := New(opts)
	s.Start()
	t.Cleanup(s.Close)
	return s
}

var authSeed atomic.Uint64

// addAuthTenant seeds a tenant of users users (kept admin included), with
// closebot's app registered with the secret "s3cret-<label>".
func addAuthTenant(t testing.TB, s *Server, label string, users int) authTenant {
	t.Helper()
	appID := newGUID()
	tn := s.AddTenant(TenantSpec{
		Seed: 1000 + authSeed.Add(1), Domain: label, Name: label,
		Members: users - 1, ClosebotAppID: appID,
	})
	admin := tn.KeptAdmin()
	if admin.UPN == "" {
		t.Fatal("seeded tenant has no kept admin")
	}
	s.RegisterClientSecret(tn.ID, appID, "s3cret-"+label)
	return authTenant{Tenant: tn, Admin: admin.UPN, AdminOID: admin.ID, AppID: appID}
}

// getToken asks a real credential for a Graph token.
func getToken(t testing.TB, cred azcore.TokenCredential) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tk, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: graphScope, EnableCAE: true})
	return tk.Token, err
}

// mustToken is getToken that fails the test on error.
func mustToken(t testing.TB, cred azcore.TokenCredential) string {
	t.Helper()
	tok, err := getToken(t, cred)
	if err != nil {
		t.Fatalf("get token: %v", err)
	}
	return tok
}

// selfSignedCert makes a certificate and key like a client's app credential.
func selfSignedCert(t testing.TB, cn string) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// rawCall makes a Graph (or any) request with an optional bearer token.
func rawCall(t testing.TB, s *Server, method, path, token string, body io.Reader) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// decodeJSON reads a JSON body into a map.
func decodeJSON(t testing.TB, r *http.Response) map[string]any {
	t.Helper()
	defer r.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		t.Fatalf("decode %d body: %v", r.StatusCode, err)
	}
	return m
}
