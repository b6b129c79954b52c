package graphtest

import (
	"crypto/sha1" // #nosec G505 -- x5t is a SHA-1 thumbprint by definition (RFC 7515 §4.1.7)
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Grant types the token endpoint accepts. MSAL-Go polls device codes with the
// short "device_code" (graph-wire.md §9), RFC 8628 clients with the URN.
const (
	grantClientCredentials = "client_credentials"
	grantDeviceCode        = "device_code"
	grantDeviceCodeURN     = "urn:ietf:params:oauth:grant-type:device_code"
	grantRefreshToken      = "refresh_token"
	assertionTypeJWT       = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	federatedAudience      = "api://AzureADTokenExchange"
)

// tokenRequest is a parsed token-endpoint form.
type tokenRequest struct {
	pathTenant string // as in the URL: id, domain or organizations/common
	tenantID   string // resolved
	clientID   string
	scopes     []string // without openid/profile/offline_access
	cae        bool     // claims ask for xms_cc CP1
	form       map[string]string
}

func (a *authority) token(w http.ResponseWriter, r *http.Request, tenant string) {
	if err := r.ParseForm(); err != nil {
		a.oauthError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	if lw, ok := w.(*logWriter); ok {
		lw.form = redactForm(r.PostForm)
	}
	tr := &tokenRequest{pathTenant: tenant, clientID: strings.ToLower(r.PostForm.Get("client_id")), form: map[string]string{}}
	for k := range r.PostForm {
		tr.form[k] = r.PostForm.Get(k)
	}
	tr.scopes, tr.cae = parseScopes(tr.form["scope"]), wantsCAE(tr.form["claims"])
	if !wellKnownTenant(tenant) {
		id, _, ok := a.resolveTenant(tenant)
		if !ok {
			a.invalidTenant(w, r, tenant)
			return
		}
		tr.tenantID = id
	}
	switch gt := tr.form["grant_type"]; gt {
	case grantClientCredentials:
		a.clientCredentials(w, r, tr)
	case grantDeviceCode, grantDeviceCodeURN:
		a.deviceCodeToken(w, r, tr)
	case grantRefreshToken:
		a.refreshToken(w, r, tr)
	case "":
		a.oauthError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
	default:
		a.oauthError(w, r, http.StatusBadRequest, "unsupported_grant_type", 70003, fmt.Sprintf("The app requested an unsupported grant type '%s'.", gt))
	}
}

func parseScopes(s string) []string {
	var out []string
	for _, sc := range strings.Fields(s) {
		switch strings.ToLower(sc) {
		case "openid", "profile", "offline_access", "email":
			continue
		}
		out = append(out, sc)
	}
	return out
}

// wantsCAE reports whether the claims parameter carries client capability
// CP1 ({"access_token":{"xms_cc":{"values":["CP1"]}}}), as azidentity sends
// when kiota enables CAE.
func wantsCAE(claims string) bool {
	if claims == "" {
		return false
	}
	var c struct {
		AccessToken struct {
			XmsCC struct {
				Values []string `json:"values"`
			} `json:"xms_cc"`
		} `json:"access_token"`
	}
	if json.Unmarshal([]byte(claims), &c) != nil {
		return false
	}
	for _, v := range c.AccessToken.XmsCC.Values {
		if v == "CP1" {
			return true
		}
	}
	return false
}

// resourceOf is the audience a scope names: "https://graph.microsoft.com/.default"
// → "https://graph.microsoft.com".
func resourceOf(scope string) string {
	if i := strings.LastIndex(scope, "/"); i > 0 && strings.Contains(scope, "://") {
		return scope[:i]
	}
	if i := strings.Index(scope, "/"); i > 0 {
		return scope[:i]
	}
	return graphAudience
}

func (a *authority) clientCredentials(w http.ResponseWriter, r *http.Request, tr *tokenRequest) {
	if tr.tenantID == "" {
		a.oauthError(w, r, http.StatusBadRequest, "invalid_request", 50059,
			"No tenant-identifying information found in either the request or implied by any provided credentials.")
		return
	}
	if len(tr.scopes) != 1 || !strings.HasSuffix(tr.scopes[0], "/.default") {
		a.oauthError(w, r, http.StatusBadRequest, "invalid_scope", 1002012,
			fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", tr.form["scope"]))
		return
	}
	a.mu.Lock()
	app := a.apps[appKey(tr.tenantID, tr.clientID)]
	var appCopy confidentialApp
	if app != nil {
		appCopy = *app
	}
	a.mu.Unlock()
	if app == nil {
		a.oauthError(w, r, http.StatusBadRequest, "unauthorized_client", 700016,
			fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", tr.clientID, tr.tenantID))
		return
	}
	if secret, ok := tr.form["client_secret"]; ok {
		if !secretMatches(appCopy.secrets, secret) {
			a.oauthError(w, r, http.StatusUnauthorized, "invalid_client", 7000215,
				"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '"+tr.clientID+"'.")
			return
		}
	} else if tr.form["client_assertion_type"] == assertionTypeJWT && tr.form["client_assertion"] != "" {
		if code, msg := a.checkAssertion(r, tr, &appCopy); code != 0 {
			status := http.StatusUnauthorized
			errCode := "invalid_client"
			if code == 70021 {
				status, errCode = http.StatusBadRequest, "invalid_request"
			}
			a.oauthError(w, r, status, errCode, code, msg)
			return
		}
	} else {
		a.oauthError(w, r, http.StatusUnauthorized, "invalid_client", 7000218,
			"The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	}
	now := a.s.clock.Now()
	oid := appCopy.spID
	if oid == "" {
		oid = a.s.servicePrincipalID(tr.tenantID, tr.clientID)
	}
	roles := appCopy.roles
	if roles == nil {
		roles = defaultAppRoles
	}
	c := Claims{
		Aud: resourceOf(tr.scopes[0]), Iss: a.issuer(tr.tenantID),
		Iat: now.Unix(), Nbf: now.Unix(), Exp: now.Add(a.tokenLifetime()).Unix(),
		Tid: tr.tenantID, Oid: oid, Sub: oid, AppID: tr.clientID, Azp: tr.clientID,
		Idtyp: "app", Ver: "1.0", Roles: append([]string{}, roles...), Uti: newGUID(),
	}
	if tr.cae {
		c.XmsCC = []string{"CP1"}
	}
	a.issue(w, r, c, nil)
}

// checkAssertion verifies a client assertion: a certificate assertion
// (iss = sub = client id, signed by a registered certificate) or a federated
// one (iss/sub of a registered federated credential). It returns the AADSTS
// code and message of the refusal, or 0.
func (a *authority) checkAssertion(r *http.Request, tr *tokenRequest, app *confidentialApp) (int, string) {
	j, err := parseJWS(tr.form["client_assertion"])
	if err != nil {
		return 50027, "JWT token is invalid or malformed."
	}
	var c assertionClaims
	dec := json.NewDecoder(strings.NewReader(string(j.payload)))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil {
		return 50027, "JWT token is invalid or malformed."
	}
	// The client stamps exp/nbf from its own wall clock (MSAL accesstokens.go
	// JWT), so they are checked against the wall clock, not the emulated one.
	now := time.Now()
	if err := checkTimes(c, now); err != nil {
		return 700024, "Client assertion is not within its valid time range. " + err.Error()
	}
	if strings.EqualFold(c.Iss, tr.clientID) {
		if !strings.EqualFold(c.Sub, tr.clientID) {
			return 700021, "Client assertion application identifier doesn't match 'client_id' parameter."
		}
		if !a.audienceOK(c.audiences(), tr) {
			return 700212, "No matching federated identity record found for presented assertion audience."
		}
		named := false
		for _, cert := range app.certs {
			if !thumbprintMatches(j, cert.Raw) {
				continue
			}
			named = true
			if err := j.verifyWith(cert.PublicKey); err == nil {
				return 0, ""
			}
		}
		if named {
			return 700027, "Client assertion failed signature validation."
		}
		return 700027, "Client assertion contains an invalid signature. [Reason - The key was not found.]"
	}
	for _, f := range app.federated {
		if f.issuer != c.Iss || f.subject != c.Sub {
			continue
		}
		if !contains(c.audiences(), federatedAudience) {
			return 700212, "No matching federated identity record found for presented assertion audience '" + strings.Join(c.audiences(), ",") + "'."
		}
		if f.key == nil {
			if a.s.opts.Assumed.FederatedSkipSignature {
				return 0, ""
			}
			return 700027, "Client assertion failed signature validation. [Reason - no signing key registered]"
		}
		if err := j.verifyWith(f.key); err != nil {
			return 700027, "Client assertion failed signature validation."
		}
		return 0, ""
	}
	return 70021, fmt.Sprintf("No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. Assertion Subject: '%s'. Assertion Audience: '%s'.", c.Iss, c.Sub, strings.Join(c.audiences(), ","))
}

func checkTimes(c assertionClaims, now time.Time) error {
	const skew = 5 * time.Minute
	exp, err := c.Exp.Int64()
	if err != nil {
		return errors.New("missing exp")
	}
	if now.After(time.Unix(exp, 0).Add(skew)) {
		return errors.New("the assertion has expired")
	}
	if c.Nbf != "" {
		if nbf, err := c.Nbf.Int64(); err == nil && now.Add(skew).Before(time.Unix(nbf, 0)) {
			return errors.New("the assertion is not yet valid")
		}
	}
	return nil
}

// audienceOK accepts the token endpoint the client called, with the tenant as
// written in the path or as its id.
func (a *authority) audienceOK(auds []string, tr *tokenRequest) bool {
	base := a.s.URL() + "/"
	for _, aud := range auds {
		for _, t := range []string{tr.pathTenant, tr.tenantID} {
			if strings.EqualFold(aud, base+t+"/oauth2/v2.0/token") {
				return true
			}
		}
	}
	return false
}

// thumbprintMatches compares the x5t#S256 (MSAL default) or x5t (ADFS-style)
// header with the certificate; no header means try the certificate.
func thumbprintMatches(j *jws, der []byte) bool {
	if t := j.header.X5tS256; t != "" {
		sum := sha256.Sum256(der)
		return thumbEqual(t, sum[:])
	}
	if t := j.header.X5t; t != "" {
		sum := sha1.Sum(der) // #nosec G401 -- matching a SHA-1 thumbprint, not hashing a secret
		return thumbEqual(t, sum[:])
	}
	return true
}

// thumbEqual accepts standard (MSAL) or URL-safe (RFC 7515) base64.
func thumbEqual(enc string, sum []byte) bool {
	for _, e := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := e.DecodeString(enc); err == nil && string(b) == string(sum) {
			return true
		}
	}
	return false
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if strings.EqualFold(s, v) {
			return true
		}
	}
	return false
}

// issue signs the access token and writes the token response; user adds the
// public-client fields MSAL needs for an account (id_token, client_info,
// refresh_token, graph-wire.md §9).
func (a *authority) issue(w http.ResponseWriter, r *http.Request, c Claims, user *userGrant) {
	at, err := a.sign.sign(c)
	if err != nil {
		a.oauthError(w, r, http.StatusInternalServerError, "server_error", 90000, err.Error())
		return
	}
	lifetime := c.Exp - c.Iat
	resp := map[string]any{
		"token_type":     "Bearer",
		"expires_in":     lifetime,
		"ext_expires_in": lifetime,
		"access_token":   at,
	}
	if user != nil {
		idt, rt, ci, err := a.userArtifacts(c, user)
		if err != nil {
			a.oauthError(w, r, http.StatusInternalServerError, "server_error", 90000, err.Error())
			return
		}
		resp["scope"] = strings.Join(append(append([]string{}, user.scopes...), "openid", "profile", "offline_access"), " ")
		resp["id_token"], resp["refresh_token"], resp["client_info"] = idt, rt, ci
	}
	a.mu.Lock()
	a.issued++
	a.secrets = append(a.secrets, at)
	if user != nil {
		a.secrets = append(a.secrets, resp["id_token"].(string), resp["refresh_token"].(string))
	}
	a.mu.Unlock()
	if lw, ok := w.(*logWriter); ok {
		p := &Principal{TenantID: c.Tid, AppID: c.AppID, Delegated: user != nil, AMR: c.AMR}
		if user != nil {
			p.ObjectID = c.Oid
		}
		lw.principal(p)
	}
	w.Header().Set("Cache-Control", "no-store, no-cache")
	writeJSON(w, http.StatusOK, resp)
}
