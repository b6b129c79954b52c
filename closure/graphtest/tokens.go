package graphtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// graphAudience is the aud of every Graph access token the emulator issues;
// graphAppID is Microsoft Graph's first-party app id, also accepted as aud.
const (
	graphAudience = "https://graph.microsoft.com"
	graphAppID    = "00000003-0000-0000-c000-000000000000"
)

// Claims are the claims of an access or id token the emulator issues. Field
// names follow Entra's tokens (Learn: access-token-claims-reference).
type Claims struct {
	Aud   string   `json:"aud"`
	Iss   string   `json:"iss"`
	Iat   int64    `json:"iat"`
	Nbf   int64    `json:"nbf"`
	Exp   int64    `json:"exp"`
	Tid   string   `json:"tid"`
	Oid   string   `json:"oid,omitempty"`
	Sub   string   `json:"sub,omitempty"`
	AppID string   `json:"appid,omitempty"` // v1.0 access tokens
	Azp   string   `json:"azp,omitempty"`   // v2.0 tokens
	Idtyp string   `json:"idtyp,omitempty"` // "app" or "user"
	Ver   string   `json:"ver,omitempty"`
	Scp   string   `json:"scp,omitempty"`   // delegated scopes, space separated
	Roles []string `json:"roles,omitempty"` // application permissions
	AMR   []string `json:"amr,omitempty"`   // absent for app-only tokens
	UPN   string   `json:"upn,omitempty"`
	// PreferredUsername and Name are id-token claims MSAL reads for the account.
	PreferredUsername string   `json:"preferred_username,omitempty"`
	Name              string   `json:"name,omitempty"`
	XmsCC             []string `json:"xms_cc,omitempty"` // client capabilities (CP1 = CAE)
	Uti               string   `json:"uti,omitempty"`    // token id
}

// ParseAccessToken decodes a token's claims without checking its signature,
// for tests that assert on what the emulator issued.
func ParseAccessToken(token string) (Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, errors.New("parse token: not a compact JWS")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return Claims{}, fmt.Errorf("parse token payload: %w", err)
	}
	var c Claims
	if err := json.Unmarshal(raw, &c); err != nil {
		return Claims{}, fmt.Errorf("parse token claims: %w", err)
	}
	return c, nil
}

// signer holds the emulator's token-signing key, generated at New.
type signer struct {
	key *rsa.PrivateKey
	kid string
}

func newSigner() *signer {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(fmt.Sprintf("graphtest: generate signing key: %v", err))
	}
	der := key.PublicKey.N.Bytes()
	sum := sha256.Sum256(der)
	return &signer{key: key, kid: base64.RawURLEncoding.EncodeToString(sum[:15])}
}

// sign returns an RS256 compact JWS of claims.
func (s *signer) sign(claims any) (string, error) {
	hdr, err := json.Marshal(map[string]string{"typ": "JWT", "alg": "RS256", "kid": s.kid})
	if err != nil {
		return "", fmt.Errorf("token header: %w", err)
	}
	body, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("token claims: %w", err)
	}
	input := b64(hdr) + "." + b64(body)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return input + "." + b64(sig), nil
}

// verify checks an RS256 signature made by this signer and decodes the claims.
func (s *signer) verify(token string) (Claims, error) {
	j, err := parseJWS(token)
	if err != nil {
		return Claims{}, err
	}
	if j.header.Alg != "RS256" {
		return Claims{}, fmt.Errorf("unexpected alg %q", j.header.Alg)
	}
	if err := j.verifyWith(&s.key.PublicKey); err != nil {
		return Claims{}, err
	}
	var c Claims
	if err := json.Unmarshal(j.payload, &c); err != nil {
		return Claims{}, fmt.Errorf("token claims: %w", err)
	}
	return c, nil
}

// jwks is the JSON Web Key Set published at jwks_uri.
func (s *signer) jwks() map[string]any {
	pub := s.key.PublicKey
	e := big64(int64(pub.E))
	return map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "use": "sig", "kid": s.kid, "alg": "RS256",
		"n": b64(pub.N.Bytes()), "e": e,
	}}}
}

func big64(v int64) string {
	var b []byte
	for v > 0 {
		b = append([]byte{byte(v & 0xff)}, b...)
		v >>= 8
	}
	return b64(b)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jws is a parsed compact JWS (header, payload and signature still to check).
type jws struct {
	header struct {
		Alg     string `json:"alg"`
		Kid     string `json:"kid"`
		X5t     string `json:"x5t"`
		X5tS256 string `json:"x5t#S256"`
	}
	signingInput string
	payload      []byte
	sig          []byte
}

func parseJWS(token string) (*jws, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("JWT is not well formed")
	}
	hdr, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, fmt.Errorf("JWT header: %w", err)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("JWT payload: %w", err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("JWT signature: %w", err)
	}
	j := &jws{signingInput: parts[0] + "." + parts[1], payload: payload, sig: sig}
	if err := json.Unmarshal(hdr, &j.header); err != nil {
		return nil, fmt.Errorf("JWT header: %w", err)
	}
	return j, nil
}

// verifyWith checks the signature with an RSA public key, RS256 or PS256
// (MSAL signs certificate assertions PS256, ADFS-style RS256).
func (j *jws) verifyWith(pub crypto.PublicKey) error {
	rsaPub, ok := pub.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("unsupported key type %T", pub)
	}
	sum := sha256.Sum256([]byte(j.signingInput))
	switch j.header.Alg {
	case "RS256":
		return rsa.VerifyPKCS1v15(rsaPub, crypto.SHA256, sum[:], j.sig)
	case "PS256":
		return rsa.VerifyPSS(rsaPub, crypto.SHA256, sum[:], j.sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	default:
		return fmt.Errorf("unsupported alg %q", j.header.Alg)
	}
}

// assertionClaims are the registered claims of a client assertion.
type assertionClaims struct {
	Iss string          `json:"iss"`
	Sub string          `json:"sub"`
	Aud json.RawMessage `json:"aud"` // string or array
	Exp json.Number     `json:"exp"`
	Nbf json.Number     `json:"nbf"`
	Jti string          `json:"jti"`
}

func (c assertionClaims) audiences() []string {
	var one string
	if json.Unmarshal(c.Aud, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(c.Aud, &many)
	return many
}
