package graphtest

import (
	"fmt"
	"strings"
	"time"
)

// App registrations' client secrets as Graph shows them: each
// RegisterClientSecret for an app registration the tenant holds adds a
// passwordCredential to it (Learn passwordcredential: keyId, displayName,
// hint = the secret's first three characters, startDateTime, endDateTime;
// secretText is only returned by addPassword, so it reads null).

// defaultSecretLifetime is endDateTime − startDateTime when none is given
// (Learn application-addpassword: "the default is two years").
const defaultSecretLifetime = 2 * 365 * 24 * time.Hour

// addPasswordCredential shows secret on clientID's app registration in
// tenantID, if the tenant holds one; a secret for an app the directory does
// not model only works at the token endpoint.
func (s *Server) addPasswordCredential(tenantID, clientID, secret string) {
	t := s.Tenant(tenantID)
	if t == nil {
		return
	}
	_ = t.with(func(td *tenantData, now time.Time) error {
		app := td.appRegistration(clientID)
		if app == nil {
			return nil
		}
		creds, _ := app.props["passwordCredentials"].([]map[string]any)
		hint := secret
		if len(hint) > 3 {
			hint = hint[:3]
		}
		creds = append(creds[:len(creds):len(creds)], map[string]any{
			"keyId": stableGUID("secret", tenantID, clientID, secret), "displayName": fmt.Sprintf("secret %d", len(creds)+1),
			"hint": hint, "customKeyIdentifier": nil, "secretText": nil,
			"startDateTime": stamp(now), "endDateTime": stamp(now.Add(defaultSecretLifetime)),
		})
		app.props["passwordCredentials"] = creds
		return nil
	})
}

// appRegistration is the live application object whose appId is clientID.
func (td *tenantData) appRegistration(clientID string) *dirObject {
	for _, o := range td.objects {
		if o.kind == "application" && o.deletedAt == nil && strings.EqualFold(o.str("appId"), clientID) {
			return o
		}
	}
	return nil
}

// SetClientSecretEnd sets the endDateTime Graph shows for secret (one
// RegisterClientSecret added) on clientID's app registration in tenantID:
// a secret added with a shorter lifetime, or one near its end. The token
// endpoint does not enforce it (an expired secret still gets tokens).
func (s *Server) SetClientSecretEnd(tenantID, clientID, secret string, end time.Time) error {
	t := s.Tenant(tenantID)
	if t == nil {
		return ErrNoTenant
	}
	return t.with(func(td *tenantData, _ time.Time) error {
		app := td.appRegistration(clientID)
		if app == nil {
			return fmt.Errorf("no app registration %s: %w", clientID, ErrNotFound)
		}
		// Copy on write: an answer being encoded may still hold the old maps.
		old, _ := app.props["passwordCredentials"].([]map[string]any)
		creds := make([]map[string]any, 0, len(old))
		found := false
		for _, c := range old {
			n := make(map[string]any, len(c))
			for k, v := range c {
				n[k] = v
			}
			if n["keyId"] == stableGUID("secret", tenantID, clientID, secret) {
				n["endDateTime"] = stamp(end)
				found = true
			}
			creds = append(creds, n)
		}
		if found {
			app.props["passwordCredentials"] = creds
			return nil
		}
		return fmt.Errorf("no such secret on app registration %s: %w", clientID, ErrNotFound)
	})
}

// servicePrincipalID is the oid of clientID's app-only tokens in tenantID:
// the object id of its service principal there (Learn access-token claims:
// oid is the identity of the user or service principal requesting), or,
// for an app the directory does not model, a stable derived id.
func (s *Server) servicePrincipalID(tenantID, clientID string) string {
	id := stableGUID("sp", tenantID, clientID)
	if t := s.Tenant(tenantID); t != nil {
		_ = t.with(func(td *tenantData, _ time.Time) error {
			for _, o := range td.objects {
				if o.kind == "servicePrincipal" && o.deletedAt == nil && strings.EqualFold(o.str("appId"), clientID) {
					id = o.id
				}
			}
			return nil
		})
	}
	return id
}
