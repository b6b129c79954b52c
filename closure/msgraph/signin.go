package msgraph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/closebot/closebot/closure"
)

// signInScope asks for Graph's User.Read: the least delegated permission,
// consentable by the user and pre-consented for Microsoft's public clients,
// so the kept admin is never stopped by a consent prompt. The result is a
// Graph access token, whose claims carry oid, tid and amr (an openid-only
// request would return no access token to read them from).
const signInScope = "https://graph.microsoft.com/User.Read"

// deviceCodeLifetime is Entra's device code lifetime (expires_in 900);
// azidentity does not pass expires_in on to UserPrompt.
const deviceCodeLifetime = 15 * time.Minute

// ProveSignIn runs a device-code sign-in with the tenant's signin_client_id,
// hands the code to show, waits until the person finishes (or ctx ends)
// and returns what the access token says about them. A new credential each
// time: a cached token must never stand in for a fresh sign-in.
func (d *Directory) ProveSignIn(ctx context.Context, show func(closure.DeviceCode) error) (closure.SignInProof, error) {
	if d.cfg.SigninClientID == "" {
		return closure.SignInProof{}, errors.New("sign-in proof: no signin_client_id configured")
	}
	// azidentity flattens UserPrompt's error into text; keep it to wrap.
	var showErr error
	cred, err := azidentity.NewDeviceCodeCredential(&azidentity.DeviceCodeCredentialOptions{
		ClientOptions:            d.clientOptions(),
		ClientID:                 d.cfg.SigninClientID,
		TenantID:                 d.cfg.TenantID,
		DisableInstanceDiscovery: d.discoveryOff,
		UserPrompt: func(ctx context.Context, m azidentity.DeviceCodeMessage) error {
			showErr = show(closure.DeviceCode{
				UserCode: m.UserCode, VerificationURL: m.VerificationURL, Message: m.Message,
				ExpiresOn: d.now().Add(deviceCodeLifetime),
			})
			return showErr
		},
	})
	if err != nil {
		return closure.SignInProof{}, fmt.Errorf("sign-in proof: device code credential: %w", err)
	}
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{signInScope}})
	if showErr != nil {
		return closure.SignInProof{}, fmt.Errorf("sign-in proof: showing the device code: %w", showErr)
	}
	if err != nil {
		return closure.SignInProof{}, fmt.Errorf("sign-in proof: %w", err)
	}
	// No signature check: the token came straight from the authority over
	// TLS in answer to our own device-code poll, and Graph access tokens are
	// not meant to be validated by clients. We only read what it says.
	p, err := tokenClaims(tok.Token)
	if err != nil {
		return closure.SignInProof{}, fmt.Errorf("sign-in proof: %w", err)
	}
	if !strings.EqualFold(p.TenantID, d.cfg.TenantID) {
		return closure.SignInProof{}, fmt.Errorf("sign-in proof: token is for tenant %q, want %s", p.TenantID, d.cfg.TenantID)
	}
	d.log.Info("sign-in proof received", "tenant", p.TenantID, "oid", p.ObjectID, "amr", p.AMR)
	return p, nil
}

// tokenClaims decodes oid, tid and amr from a JWT's payload.
func tokenClaims(token string) (closure.SignInProof, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return closure.SignInProof{}, errors.New("access token is not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return closure.SignInProof{}, fmt.Errorf("access token payload: %w", err)
	}
	var c struct {
		Oid string   `json:"oid"`
		Tid string   `json:"tid"`
		Amr []string `json:"amr"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return closure.SignInProof{}, fmt.Errorf("access token claims: %w", err)
	}
	if c.Oid == "" || c.Tid == "" {
		return closure.SignInProof{}, errors.New("access token has no oid or tid claim")
	}
	return closure.SignInProof{ObjectID: c.Oid, TenantID: c.Tid, AMR: c.Amr}, nil
}
