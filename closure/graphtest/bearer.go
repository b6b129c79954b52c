package graphtest

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// httpError is a refusal written as Graph error JSON plus headers.
type httpError struct {
	status        int
	code, message string
	header        http.Header
	// throttled marks a throttling refusal, whose body carries the
	// documented innerError code/message/status (graph-wire.md §6).
	throttled bool
}

func (e *httpError) write(w http.ResponseWriter, r *http.Request) {
	for k, v := range e.header {
		w.Header()[k] = v
	}
	if e.throttled {
		body := graphErrorBody(r, e.code, e.message)
		inner := body["error"].(map[string]any)["innerError"].(map[string]any)
		inner["code"], inner["message"], inner["status"] = "429", "Please retry after", "429"
		writeJSON(w, e.status, body)
		return
	}
	writeError(w, r, e.status, e.code, e.message)
}

// unauthorized is Graph's 401 with the WWW-Authenticate challenge it sends.
func (a *authority) unauthorized(msg string, claimsChallenge string) *httpError {
	chal := fmt.Sprintf(`Bearer realm="", authorization_uri="%s/common/oauth2/authorize", client_id="%s"`, a.s.URL(), graphAppID)
	if claimsChallenge != "" {
		chal += `, error="insufficient_claims", claims="` + claimsChallenge + `"`
	}
	h := http.Header{}
	h.Set("WWW-Authenticate", chal)
	return &httpError{status: http.StatusUnauthorized, code: "InvalidAuthenticationToken", message: msg, header: h}
}

// authenticate checks the bearer token of a Graph call: signed by this
// emulator, for Graph, unexpired on the emulator clock, for a live tenant.
func (a *authority) authenticate(r *http.Request) (*Principal, *httpError) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, a.unauthorized("Access token is empty.", "")
	}
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		if tok, ok = strings.CutPrefix(h, "bearer "); !ok {
			return nil, a.unauthorized("Access token is empty.", "")
		}
	}
	tok = strings.TrimSpace(tok)
	if strings.Count(tok, ".") != 2 {
		return nil, a.unauthorized("IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be in JWS or JWE Compact Serialization Format. (JWS): 'EncodedHeader.EndcodedPayload.EncodedSignature'. (JWE): 'EncodedProtectedHeader.EncodedEncryptedKey.EncodedInitializationVector.EncodedCiphertext.EncodedAuthenticationTag'.", "")
	}
	c, err := a.sign.verify(tok)
	if err != nil {
		return nil, a.unauthorized("Access token validation failure.", "")
	}
	if c.Aud != graphAudience && c.Aud != graphAudience+"/" && c.Aud != graphAppID {
		return nil, a.unauthorized("Access token validation failure. Invalid audience.", "")
	}
	now := a.s.clock.Now()
	if !now.Before(time.Unix(c.Exp, 0)) {
		challenge := ""
		if len(c.XmsCC) > 0 && !a.s.opts.Assumed.NoExpiredTokenChallenge {
			challenge = base64.StdEncoding.EncodeToString(fmt.Appendf(nil, `{"access_token":{"nbf":{"essential":true,"value":"%d"}}}`, now.Unix()))
		}
		return nil, a.unauthorized("Lifetime validation failed, the token is expired.", challenge)
	}
	if _, _, ok := a.s.dir.tenant(c.Tid); !ok {
		return nil, a.unauthorized("Access token validation failure. Invalid tenant.", "")
	}
	p := &Principal{TenantID: c.Tid, AppID: c.AppID, Delegated: c.Idtyp == "user", AMR: c.AMR, Roles: c.Roles}
	if p.Delegated {
		p.ObjectID = c.Oid
		p.Scopes = strings.Fields(c.Scp)
	}
	return p, nil
}

// VerifyAccessToken checks a token as Graph calls do and returns its claims.
func (s *Server) VerifyAccessToken(token string) (Claims, error) {
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	if _, e := s.auth.authenticate(r); e != nil {
		return Claims{}, fmt.Errorf("verify access token: %s", e.message)
	}
	return s.auth.sign.verify(token)
}
