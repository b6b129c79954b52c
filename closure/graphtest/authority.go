package graphtest

import (
	"crypto"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// authority emulates login.microsoftonline.com for the tenants the directory
// knows: discovery, JWKS, token and device-code endpoints.
type authority struct {
	s    *Server
	sign *signer

	mu        sync.Mutex
	apps      map[string]*confidentialApp // tenantID|clientID, lower case
	public    map[string]bool             // public client ids (any tenant)
	devices   map[string]*deviceFlow      // by device_code
	refresh   map[string]*refreshGrant    // by refresh_token
	newDevice chan struct{}               // closed and replaced when a device code is issued
	issued    int                         // access tokens issued
	secrets   []string                    // every token and device code handed out (IssuedSecrets)
}

// confidentialApp is one app registration's credentials in one tenant.
type confidentialApp struct {
	tenantID, clientID string
	secrets            []string
	certs              []*x509.Certificate
	federated          []federatedCredential
	roles              []string // nil means defaultAppRoles
	spID               string   // service principal object id ("" = derived)
}

type federatedCredential struct {
	issuer, subject string
	key             crypto.PublicKey
}

// defaultAppRoles are the application permissions an app-only token carries
// unless SetAppRoles says otherwise: the application permissions of
// closebot's table (closure/msgraph.Permissions; a test there keeps the two
// equal), each the least privileged that covers closebot's calls.
var defaultAppRoles = []string{
	"Organization.ReadWrite.All", "Domain.Read.All", "User.ReadWrite.All", "User.DeleteRestore.All",
	"RoleManagement.Read.Directory", "AdministrativeUnit.Read.All", "UserAuthenticationMethod.Read.All",
	"Policy.Read.All", "Policy.ReadWrite.AuthenticationMethod", "Device.Read.All", "GroupMember.Read.All",
	"eDiscovery.Read.All", "Application.ReadWrite.All",
}

// DefaultAppRoles returns the application permissions app-only tokens carry
// unless SetAppRoles, GrantAppRole or RevokeAppRole changed them.
func DefaultAppRoles() []string { return append([]string(nil), defaultAppRoles...) }

func newAuthority(s *Server) *authority {
	a := &authority{
		s:         s,
		sign:      newSigner(),
		apps:      map[string]*confidentialApp{},
		public:    map[string]bool{},
		devices:   map[string]*deviceFlow{},
		refresh:   map[string]*refreshGrant{},
		newDevice: make(chan struct{}),
	}
	return a
}

func appKey(tenantID, clientID string) string {
	return strings.ToLower(tenantID) + "|" + strings.ToLower(clientID)
}

func (a *authority) app(tenantID, clientID string) *confidentialApp {
	k := appKey(tenantID, clientID)
	app := a.apps[k]
	if app == nil {
		app = &confidentialApp{tenantID: strings.ToLower(tenantID), clientID: strings.ToLower(clientID)}
		a.apps[k] = app
	}
	return app
}

// RegisterClientSecret lets clientID get app-only tokens in tenantID with secret.
// Graph shows it on the app registration, if the tenant holds one.
func (s *Server) RegisterClientSecret(tenantID, clientID, secret string) {
	s.auth.mu.Lock()
	app := s.auth.app(tenantID, clientID)
	app.secrets = append(app.secrets, secret)
	s.auth.mu.Unlock()
	s.addPasswordCredential(tenantID, clientID, secret)
}

// RegisterClientCertificate lets clientID get app-only tokens in tenantID with
// a client assertion signed by cert's private key.
func (s *Server) RegisterClientCertificate(tenantID, clientID string, cert *x509.Certificate) {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	app := s.auth.app(tenantID, clientID)
	app.certs = append(app.certs, cert)
}

// RegisterFederatedCredential lets clientID get app-only tokens in tenantID
// with an assertion from issuer about subject (workload identity federation),
// signed by key. A nil key is only accepted with Assumptions.FederatedSkipSignature.
func (s *Server) RegisterFederatedCredential(tenantID, clientID, issuer, subject string, key crypto.PublicKey) {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	app := s.auth.app(tenantID, clientID)
	app.federated = append(app.federated, federatedCredential{issuer: issuer, subject: subject, key: key})
}

// RegisterPublicClient allows the device-code flow for clientID in any tenant.
func (s *Server) RegisterPublicClient(clientID string) {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	s.auth.public[strings.ToLower(clientID)] = true
}

// SetAppRoles sets the application permissions (roles claim) of clientID's
// app-only tokens in tenantID; none at all omits the claim.
func (s *Server) SetAppRoles(tenantID, clientID string, roles ...string) {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	s.auth.app(tenantID, clientID).roles = append([]string{}, roles...)
}

// AppRoles returns the application permissions clientID's next app-only
// token in tenantID will carry.
func (s *Server) AppRoles(tenantID, clientID string) []string {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	if r := s.auth.app(tenantID, clientID).roles; r != nil {
		return append([]string(nil), r...)
	}
	return DefaultAppRoles()
}

// GrantAppRole adds application permissions to clientID's app-only tokens
// in tenantID (admin consent to more app roles). Tokens already issued keep
// their claims: azidentity caches them, so build a new credential.
func (s *Server) GrantAppRole(tenantID, clientID string, roles ...string) {
	have := s.AppRoles(tenantID, clientID)
	for _, r := range roles {
		if !containsFold(have, r) {
			have = append(have, r)
		}
	}
	s.SetAppRoles(tenantID, clientID, have...)
}

// RevokeAppRole removes application permissions from clientID's app-only
// tokens in tenantID (removing the admin consent); the same caching caveat.
func (s *Server) RevokeAppRole(tenantID, clientID string, roles ...string) {
	var kept []string
	for _, r := range s.AppRoles(tenantID, clientID) {
		if !containsFold(roles, r) {
			kept = append(kept, r)
		}
	}
	s.SetAppRoles(tenantID, clientID, kept...)
}

// SetServicePrincipalID sets the oid of clientID's app-only tokens in
// tenantID (the app's service principal object id); by default a stable id
// derived from tenant and client ids.
func (s *Server) SetServicePrincipalID(tenantID, clientID, objectID string) {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	s.auth.app(tenantID, clientID).spID = objectID
}

// TokensIssued counts access tokens issued so far.
func (s *Server) TokensIssued() int {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	return s.auth.issued
}

// IssuedSecrets lists every credential the authority handed out: access,
// id and refresh tokens and device codes, for tests that check none of
// them leaks into logs, messages or a database.
func (s *Server) IssuedSecrets() []string {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	return append([]string(nil), s.auth.secrets...)
}

// stableGUID derives a GUID-shaped id from parts, for ids that must not change
// between runs (an app-only token's oid).
func stableGUID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.Join(parts, "|"))))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

func secretMatches(registered []string, given string) bool {
	ok := false
	for _, s := range registered {
		if subtle.ConstantTimeCompare([]byte(s), []byte(given)) == 1 {
			ok = true
		}
	}
	return ok
}

// wellKnownTenant reports the multi-tenant authority names MSAL may use.
func wellKnownTenant(t string) bool {
	switch strings.ToLower(t) {
	case "organizations", "common", "consumers":
		return true
	}
	return false
}

// serve answers authority paths; false if r is not one.
func (a *authority) serve(w http.ResponseWriter, r *http.Request) bool {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 2 {
		return false
	}
	tenant, rest := parts[0], strings.Join(parts[1:], "/")
	var h func(http.ResponseWriter, *http.Request, string)
	method := http.MethodGet
	switch rest {
	case "v2.0/.well-known/openid-configuration":
		h = a.discovery
	case "discovery/v2.0/keys", "discovery/keys":
		h = a.keys
	case "oauth2/v2.0/token":
		h, method = a.token, http.MethodPost
	case "oauth2/v2.0/devicecode":
		h, method = a.deviceCode, http.MethodPost
	default:
		return false
	}
	if a.s.faults.applyAuthority(w, r) {
		return true
	}
	if r.Method != method {
		a.oauthError(w, r, http.StatusMethodNotAllowed, "invalid_request", 900561,
			"The endpoint only accepts "+method+" requests.")
		return true
	}
	h(w, r, tenant)
	return true
}

// resolveTenant maps a path tenant (id or domain) to a live tenant id.
func (a *authority) resolveTenant(t string) (string, int, bool) {
	return a.s.dir.tenant(t)
}

func (a *authority) issuer(tenantID string) string {
	return a.s.URL() + "/" + tenantID + "/v2.0"
}

// discovery answers the OpenID configuration; an unknown or deleted tenant
// gets AADSTS90002 (graph-wire.md §1.4).
func (a *authority) discovery(w http.ResponseWriter, r *http.Request, tenant string) {
	base := a.s.URL()
	issuerTenant := "{tenantid}" // multi-tenant authorities, as Entra answers
	if !wellKnownTenant(tenant) {
		id, _, ok := a.resolveTenant(tenant)
		if !ok {
			a.invalidTenant(w, r, tenant)
			return
		}
		issuerTenant = id
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/" + tenant + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              base + "/" + tenant + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                base + "/" + issuerTenant + "/v2.0",
		"request_uri_parameter_supported":       false,
		"userinfo_endpoint":                     base + "/oidc/userinfo",
		"authorization_endpoint":                base + "/" + tenant + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/" + tenant + "/oauth2/v2.0/devicecode",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"end_session_endpoint":                  base + "/" + tenant + "/oauth2/v2.0/logout",
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"},
		"kerberos_endpoint":                     base + "/" + tenant + "/kerberos",
		"tenant_region_scope":                   "EU",
		"cloud_instance_name":                   "microsoftonline.com",
		"cloud_graph_host_name":                 "graph.windows.net",
		"msgraph_host":                          "graph.microsoft.com",
		"rbac_url":                              "https://pas.windows.net",
	})
}

func (a *authority) keys(w http.ResponseWriter, r *http.Request, tenant string) {
	if !wellKnownTenant(tenant) {
		if _, _, ok := a.resolveTenant(tenant); !ok {
			a.invalidTenant(w, r, tenant)
			return
		}
	}
	writeJSON(w, http.StatusOK, a.sign.jwks())
}

func (a *authority) invalidTenant(w http.ResponseWriter, r *http.Request, tenant string) {
	a.oauthError(w, r, http.StatusBadRequest, "invalid_tenant", 90002,
		fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", tenant))
}

// oauthError writes Entra's token-endpoint error JSON: error, an AADSTS
// description with trace and correlation ids and a timestamp, error_codes.
func (a *authority) oauthError(w http.ResponseWriter, r *http.Request, status int, code string, aadsts int, msg string) {
	now := a.s.clock.Now().UTC().Format("2006-01-02 15:04:05Z")
	trace := newGUID()
	corr := r.Header.Get("client-request-id")
	if corr == "" {
		corr = newGUID()
	}
	writeJSON(w, status, map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", aadsts, msg, trace, corr, now),
		"error_codes":       []int{aadsts},
		"timestamp":         now,
		"trace_id":          trace,
		"correlation_id":    corr,
		"error_uri":         a.s.URL() + "/error?code=" + fmt.Sprint(aadsts),
	})
}

func (a *authority) tokenLifetime() time.Duration {
	if s := a.s.opts.Assumed.AccessTokenLifetime; s > 0 {
		return time.Duration(s) * time.Second
	}
	return 3599 * time.Second
}
