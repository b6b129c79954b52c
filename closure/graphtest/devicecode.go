package graphtest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Device-code flow constants: Entra's lifetime and polling interval
// (Learn v2-oauth2-device-code: expires_in 900, interval 5 in its sample).
const (
	deviceCodeLifetime = 15 * time.Minute
	deviceCodeInterval = 5
)

// DeviceCode is a pending (or finished) device sign-in, as the "human" sees it.
type DeviceCode struct {
	UserCode  string
	ClientID  string
	Tenant    string   // tenant as the client named it (id, domain, organizations)
	Scopes    []string // requested resource scopes
	Message   string
	IssuedAt  time.Time // emulator clock
	ExpiresAt time.Time // emulator clock
	State     string    // pending, approved, declined, redeemed
}

// deviceFlow is the emulator's record of one device code.
type deviceFlow struct {
	DeviceCode
	deviceCode string
	user       *userGrant
}

// userGrant is who completed a sign-in, and how.
type userGrant struct {
	tenantID, oid, username string
	mfa                     bool
	clientID                string
	scopes                  []string
}

// refreshGrant lets MSAL renew a delegated token without a new sign-in.
type refreshGrant struct{ user userGrant }

const userCodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

func randomCode(n int, alphabet string) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func randomToken() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	return b64(b)
}

// deviceCode answers POST /{tenant}/oauth2/v2.0/devicecode for a registered
// public client (fields: MSAL accesstokens.go DeviceCodeResponse).
func (a *authority) deviceCode(w http.ResponseWriter, r *http.Request, tenant string) {
	if err := r.ParseForm(); err != nil {
		a.oauthError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
		return
	}
	if lw, ok := w.(*logWriter); ok {
		lw.form = redactForm(r.PostForm)
	}
	if !wellKnownTenant(tenant) {
		if _, _, ok := a.resolveTenant(tenant); !ok {
			a.invalidTenant(w, r, tenant)
			return
		}
	}
	clientID := strings.ToLower(r.PostForm.Get("client_id"))
	if clientID == "" {
		a.oauthError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
		return
	}
	scopes := parseScopes(r.PostForm.Get("scope"))
	if len(scopes) == 0 {
		a.oauthError(w, r, http.StatusBadRequest, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid.")
		return
	}
	a.mu.Lock()
	if !a.public[clientID] {
		a.mu.Unlock()
		a.oauthError(w, r, http.StatusBadRequest, "unauthorized_client", 700016,
			fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", clientID, tenant))
		return
	}
	now := a.s.clock.Now()
	userCode := randomCode(9, userCodeAlphabet)
	verification := a.s.URL() + "/devicelogin"
	f := &deviceFlow{
		DeviceCode: DeviceCode{
			UserCode: userCode, ClientID: clientID, Tenant: tenant, Scopes: scopes,
			Message:  fmt.Sprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate.", verification, userCode),
			IssuedAt: now, ExpiresAt: now.Add(deviceCodeLifetime), State: "pending",
		},
		deviceCode: randomToken(),
	}
	a.devices[f.deviceCode] = f
	a.secrets = append(a.secrets, f.deviceCode)
	close(a.newDevice)
	a.newDevice = make(chan struct{})
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"user_code":        f.UserCode,
		"device_code":      f.deviceCode,
		"verification_uri": verification,
		"expires_in":       int(deviceCodeLifetime / time.Second),
		"interval":         deviceCodeInterval,
		"message":          f.Message,
	})
}

// deviceCodeToken answers a poll: authorization_pending until the human acts.
func (a *authority) deviceCodeToken(w http.ResponseWriter, r *http.Request, tr *tokenRequest) {
	a.mu.Lock()
	f := a.devices[tr.form["device_code"]]
	if f == nil || f.ClientID != tr.clientID {
		a.mu.Unlock()
		a.oauthError(w, r, http.StatusBadRequest, "invalid_grant", 70000, "The provided value for the 'device_code' is not valid.")
		return
	}
	now := a.s.clock.Now()
	if f.State == "pending" && now.After(f.ExpiresAt) {
		f.State = "expired"
	}
	state := f.State
	var user userGrant
	if f.user != nil {
		user = *f.user
	}
	if state == "approved" {
		f.State = "redeemed"
	}
	a.mu.Unlock()
	switch state {
	case "pending":
		a.oauthError(w, r, http.StatusBadRequest, "authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
	case "expired":
		a.oauthError(w, r, http.StatusBadRequest, "expired_token", 70020, "The provided value for the input parameter 'device_code' is not valid. This device code has expired.")
	case "declined":
		a.oauthError(w, r, http.StatusBadRequest, "authorization_declined", 70000, "The user declined the sign-in request.")
	case "redeemed":
		a.oauthError(w, r, http.StatusBadRequest, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code.")
	case "approved":
		user.scopes = tr.scopes
		if len(user.scopes) == 0 {
			user.scopes = f.Scopes
		}
		a.issueUser(w, r, user, tr.cae)
	}
}

func (a *authority) refreshToken(w http.ResponseWriter, r *http.Request, tr *tokenRequest) {
	a.mu.Lock()
	g := a.refresh[tr.form["refresh_token"]]
	a.mu.Unlock()
	if g == nil || g.user.clientID != tr.clientID {
		a.oauthError(w, r, http.StatusBadRequest, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
		return
	}
	if _, _, ok := a.resolveTenant(g.user.tenantID); !ok {
		a.invalidTenant(w, r, g.user.tenantID)
		return
	}
	user := g.user
	if len(tr.scopes) > 0 {
		user.scopes = tr.scopes
	}
	a.issueUser(w, r, user, tr.cae)
}

// issueUser issues a delegated token: amr pwd, plus mfa when the sign-in did MFA.
func (a *authority) issueUser(w http.ResponseWriter, r *http.Request, u userGrant, cae bool) {
	now := a.s.clock.Now()
	amr := []string{"pwd"}
	if u.mfa {
		amr = append(amr, "mfa")
	}
	aud := graphAudience
	scp := []string{}
	for _, s := range u.scopes {
		aud = resourceOf(s)
		name := s[strings.LastIndex(s, "/")+1:]
		if name == ".default" {
			name = "User.Read"
		}
		scp = append(scp, name)
	}
	c := Claims{
		Aud: aud, Iss: a.issuer(u.tenantID),
		Iat: now.Unix(), Nbf: now.Unix(), Exp: now.Add(a.tokenLifetime()).Unix(),
		Tid: u.tenantID, Oid: u.oid, Sub: stableGUID("sub", u.tenantID, u.oid, u.clientID),
		AppID: u.clientID, Azp: u.clientID, Idtyp: "user", Ver: "1.0",
		Scp: strings.Join(scp, " "), AMR: amr, UPN: u.username, Uti: newGUID(),
	}
	if cae {
		c.XmsCC = []string{"CP1"}
	}
	a.issue(w, r, c, &u)
}

// userArtifacts builds the id_token, refresh_token and client_info of a
// delegated token response (MSAL tokens.go IDToken, ClientInfo).
func (a *authority) userArtifacts(c Claims, u *userGrant) (idToken, refresh, clientInfo string, err error) {
	id := Claims{
		Aud: u.clientID, Iss: a.issuer(u.tenantID), Iat: c.Iat, Nbf: c.Nbf, Exp: c.Exp,
		Tid: u.tenantID, Oid: u.oid, Sub: c.Sub, Ver: "2.0",
		PreferredUsername: u.username, Name: u.username,
	}
	idToken, err = a.sign.sign(id)
	if err != nil {
		return "", "", "", err
	}
	ci, err := json.Marshal(map[string]string{"uid": u.oid, "utid": u.tenantID})
	if err != nil {
		return "", "", "", fmt.Errorf("client_info: %w", err)
	}
	refresh = randomToken()
	a.mu.Lock()
	a.refresh[refresh] = &refreshGrant{user: *u}
	a.mu.Unlock()
	return idToken, refresh, b64(ci), nil
}

func normUserCode(c string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(c), "-", ""))
}

// findPending returns the pending flow with userCode; the caller holds a.mu.
func (a *authority) findPending(userCode string) (*deviceFlow, error) {
	want := normUserCode(userCode)
	for _, f := range a.devices {
		if normUserCode(f.UserCode) != want {
			continue
		}
		if f.State == "pending" && a.s.clock.Now().After(f.ExpiresAt) {
			f.State = "expired"
		}
		if f.State != "pending" {
			return nil, fmt.Errorf("device code %s is %s", userCode, f.State)
		}
		return f, nil
	}
	return nil, fmt.Errorf("device code %s: not found", userCode)
}

// CompleteDeviceSignIn plays the human who enters userCode and signs in as
// user (object id or userPrincipalName), with or without MFA. For a flow
// started on organizations/common the tenant comes from the UPN's domain.
func (s *Server) CompleteDeviceSignIn(userCode, user string, mfa bool) error {
	a := s.auth
	a.mu.Lock()
	f, err := a.findPending(userCode)
	var tenant string
	if f != nil {
		tenant = f.Tenant
	}
	a.mu.Unlock()
	if err != nil {
		return err
	}
	if wellKnownTenant(tenant) {
		at := strings.LastIndex(user, "@")
		if at < 0 {
			return fmt.Errorf("complete device sign-in: %s authority needs a userPrincipalName, got %q", tenant, user)
		}
		tenant = user[at+1:]
	}
	tid, _, ok := a.resolveTenant(tenant)
	if !ok {
		return fmt.Errorf("complete device sign-in: tenant %q not found", tenant)
	}
	oid, ok := a.s.dir.user(tid, user)
	if !ok {
		return fmt.Errorf("complete device sign-in: user %q not found in tenant %s", user, tid)
	}
	username := ""
	if strings.Contains(user, "@") {
		username = user
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if f.State != "pending" {
		return fmt.Errorf("device code %s is %s", userCode, f.State)
	}
	f.State = "approved"
	f.user = &userGrant{tenantID: tid, oid: oid, username: username, mfa: mfa, clientID: f.ClientID}
	return nil
}

// DeclineDeviceSignIn plays the human who refuses the sign-in.
func (s *Server) DeclineDeviceSignIn(userCode string) error {
	a := s.auth
	a.mu.Lock()
	defer a.mu.Unlock()
	f, err := a.findPending(userCode)
	if err != nil {
		return err
	}
	f.State = "declined"
	return nil
}

// PendingDeviceCodes lists the device codes waiting for a human, oldest first.
func (s *Server) PendingDeviceCodes() []DeviceCode {
	a := s.auth
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pendingLocked()
}

func (a *authority) pendingLocked() []DeviceCode {
	now := a.s.clock.Now()
	var out []DeviceCode
	for _, f := range a.devices {
		if f.State == "pending" && !now.After(f.ExpiresAt) {
			dc := f.DeviceCode
			dc.Scopes = append([]string{}, f.Scopes...)
			out = append(out, dc)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].IssuedAt.Before(out[j].IssuedAt) || (out[i].IssuedAt.Equal(out[j].IssuedAt) && out[i].UserCode < out[j].UserCode)
	})
	return out
}

// WaitDeviceCode blocks until a device code is pending and returns the oldest.
func (s *Server) WaitDeviceCode(ctx context.Context) (DeviceCode, error) {
	a := s.auth
	for {
		a.mu.Lock()
		pending := a.pendingLocked()
		ch := a.newDevice
		a.mu.Unlock()
		if len(pending) > 0 {
			return pending[0], nil
		}
		select {
		case <-ctx.Done():
			return DeviceCode{}, fmt.Errorf("wait for device code: %w", ctx.Err())
		case <-ch:
		}
	}
}
