package msgraph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// renewableCredential is the Graph client's credential. azidentity caches a
// token until shortly before it expires (about an hour), and the roles
// claim is fixed when a token is issued; renew swaps in a new credential so
// the next token carries the application permissions granted now (a
// just-in-time grant, or its removal, shows at once).
type renewableCredential struct {
	mu    sync.Mutex
	inner azcore.TokenCredential
	make  func() (azcore.TokenCredential, error)
}

func (c *renewableCredential) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	inner := c.inner
	c.mu.Unlock()
	return inner.GetToken(ctx, o)
}

func (c *renewableCredential) renew() error {
	next, err := c.make()
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.inner = next
	c.mu.Unlock()
	return nil
}

// GrantedPermissions returns the application permissions (the roles claim)
// of an app-only token issued now, and makes the Graph client use that
// token from here on.
func (d *Directory) GrantedPermissions(ctx context.Context) ([]string, error) {
	if err := d.cred.renew(); err != nil {
		return nil, fmt.Errorf("renew credential: %w", err)
	}
	tok, err := d.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{GraphScope}, EnableCAE: true})
	if err != nil {
		return nil, fmt.Errorf("get token: %w", err)
	}
	roles, ok := rolesClaim(tok.Token)
	if !ok {
		return nil, fmt.Errorf("the token is not a JWT with a readable roles claim")
	}
	return roles, nil
}

// rolesClaim reads the roles claim of a JWT access token, unverified: it
// only tells closebot what Entra granted its own app.
func rolesClaim(token string) ([]string, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, false
	}
	var claims struct {
		Roles []string `json:"roles"`
	}
	if json.Unmarshal(raw, &claims) != nil {
		return nil, false
	}
	return claims.Roles, true
}
