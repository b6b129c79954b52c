package msgraph

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/rolemanagement"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"

	"github.com/closebot/closebot/closure"
)

// Reads `closebot config check --online` makes about closebot's own app.
// None needs a permission beyond the table: the service principal and its
// role assignments are read with Application.ReadWrite.All and
// RoleManagement.Read.Directory; the app registration's secrets only when
// the token already carries a permission that reads applications.

// IsWritePermission reports whether a row of Permissions lets closebot
// change the tenant: the directory role (it deletes admins), or an
// application permission that some write call of the adapter needs (a call
// whose route is not a GET). A just-in-time setup grants these only during
// a closure; held at rest they are standing write access.
func IsWritePermission(p Permission) bool {
	if p.Kind == DirectoryRole {
		return true
	}
	for _, c := range calls {
		if strings.EqualFold(c.permission, p.Permission) && !strings.HasPrefix(c.route, "GET ") {
			return true
		}
	}
	return false
}

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
	apps, err := collect(ctx, d, "read own application", func(ctx context.Context) (serialization.Parsable, error) {
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
		return nil, &closure.APIError{Op: "read own application", Status: http.StatusNotFound, Code: "Request_ResourceNotFound",
			Message: "no app registration with appId " + d.cfg.ClientID + " in this tenant"}
	}
	return apps[0], nil
}

// OwnDirectoryRoles returns the id of closebot's service principal in the
// tenant and the role definition ids (for built-in roles, the template ids)
// of the directory roles assigned to it directly.
func (d *Directory) OwnDirectoryRoles(ctx context.Context) (string, []string, error) {
	filter := "appId eq '" + d.cfg.ClientID + "'"
	sps, err := collect(ctx, d, "find own service principal", func(ctx context.Context) (serialization.Parsable, error) {
		return d.client.ServicePrincipals().Get(ctx, &serviceprincipals.ServicePrincipalsRequestBuilderGetRequestConfiguration{
			QueryParameters: &serviceprincipals.ServicePrincipalsRequestBuilderGetQueryParameters{
				Filter: &filter, Select: []string{"id", "appId"},
			},
		})
	}, models.CreateServicePrincipalCollectionResponseFromDiscriminatorValue, func(s models.ServicePrincipalable) (string, bool) {
		return deref(s.GetId()), true
	})
	if err != nil {
		return "", nil, err
	}
	if len(sps) == 0 {
		return "", nil, &closure.APIError{Op: "find own service principal", Status: http.StatusNotFound, Code: "Request_ResourceNotFound",
			Message: "no service principal with appId " + d.cfg.ClientID + " in this tenant"}
	}
	spID := sps[0]
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
