package msgraph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/rolemanagement"

	"github.com/closebot/closebot/closure"
)

// Reads `closebot config check --online` makes about closebot's own app.
// None needs a permission beyond the table: its directory roles are read
// with RoleManagement.Read.Directory; the app registration's secrets only
// when the token already carries a permission that reads applications.

// IsWritePermission reports whether a row of Permissions lets closebot
// change the tenant (its Write flag; TestIsWritePermission checks it against
// the adapter's write calls). A just-in-time setup grants these only during
// a closure; held at rest they are standing write access.
func IsWritePermission(p Permission) bool { return p.Write }

// PasswordCredential is one client secret of an app registration, as
// Graph shows it (never its value; Hint is its first three characters).
type PasswordCredential struct {
	KeyID       string
	DisplayName string
	Hint        string
	End         time.Time
}

// CanReadOwnApp reports whether granted (a token's roles) includes a
// permission that reads app registrations (GET /applications).
func CanReadOwnApp(granted []string) bool {
	return slices.ContainsFunc(appsRead, func(p string) bool { return containsFold(granted, p) })
}

// OwnClientSecrets lists the client secrets of closebot's app registration
// (the one whose appId is the configured client id). Graph refuses it
// (403) unless the token carries a permission of CanReadOwnApp.
func (d *Directory) OwnClientSecrets(ctx context.Context) ([]PasswordCredential, error) {
	filter := "appId eq '" + d.cfg.ClientID + "'"
	apps, err := collect(ctx, d, "list applications with appId "+d.cfg.ClientID, func(ctx context.Context) (serialization.Parsable, error) {
		return d.client.Applications().Get(ctx, &applications.ApplicationsRequestBuilderGetRequestConfiguration{
			QueryParameters: &applications.ApplicationsRequestBuilderGetQueryParameters{
				Filter: &filter, Select: []string{"id", "appId", "passwordCredentials"},
			},
		})
	}, models.CreateApplicationCollectionResponseFromDiscriminatorValue, func(a models.Applicationable) ([]PasswordCredential, bool) {
		var out []PasswordCredential
		for _, pc := range a.GetPasswordCredentials() {
			c := PasswordCredential{DisplayName: deref(pc.GetDisplayName()), Hint: deref(pc.GetHint()), End: utc(pc.GetEndDateTime())}
			if id := pc.GetKeyId(); id != nil {
				c.KeyID = id.String()
			}
			out = append(out, c)
		}
		return out, true
	})
	if err != nil {
		return nil, err
	}
	if len(apps) == 0 {
		return nil, &closure.APIError{Op: "list applications with appId " + d.cfg.ClientID, Status: http.StatusNotFound, Code: "Request_ResourceNotFound",
			Message: "no app registration with appId " + d.cfg.ClientID + " in this tenant"}
	}
	return apps[0], nil
}

// OwnDirectoryRoles returns the object id of closebot's service principal
// in the tenant (the oid claim of its app-only token) and the role
// definition ids (for built-in roles, the template ids) of the directory
// roles assigned to it directly at directory scope. It needs only
// RoleManagement.Read.Directory, which is read-only.
func (d *Directory) OwnDirectoryRoles(ctx context.Context) (string, []string, error) {
	tok, err := d.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{GraphScope}, EnableCAE: true})
	if err != nil {
		return "", nil, fmt.Errorf("get token: %w", err)
	}
	spID, ok := oidClaim(tok.Token)
	if !ok {
		return "", nil, fmt.Errorf("the token is not a JWT with an oid claim")
	}
	byPrincipal := "principalId eq '" + spID + "'"
	roles, err := collect(ctx, d, "list role assignments of own service principal", func(ctx context.Context) (serialization.Parsable, error) {
		return d.client.RoleManagement().Directory().RoleAssignments().Get(ctx,
			&rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetRequestConfiguration{
				QueryParameters: &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetQueryParameters{Filter: &byPrincipal},
			})
	}, models.CreateUnifiedRoleAssignmentCollectionResponseFromDiscriminatorValue, func(a models.UnifiedRoleAssignmentable) (string, bool) {
		return deref(a.GetRoleDefinitionId()), deref(a.GetDirectoryScopeId()) == "/"
	})
	return spID, roles, err
}

// oidClaim reads the oid claim of a JWT access token, unverified: for an
// app-only token it is the object id of the app's service principal.
func oidClaim(token string) (string, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", false
	}
	var claims struct {
		Oid string `json:"oid"`
	}
	if json.Unmarshal(raw, &claims) != nil || claims.Oid == "" {
		return "", false
	}
	return claims.Oid, true
}
