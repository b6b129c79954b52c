package msgraph

import (
	"context"

	"github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"

	"github.com/closebot/closebot/closure"
)

// Applications lists app registrations, 999 per page.
func (d *Directory) Applications(ctx context.Context) ([]closure.Application, error) {
	top := pageSize
	return collect(ctx, d, "list applications", func(ctx context.Context) (serialization.Parsable, error) {
		return d.client.Applications().Get(ctx, &applications.ApplicationsRequestBuilderGetRequestConfiguration{
			QueryParameters: &applications.ApplicationsRequestBuilderGetQueryParameters{
				Top: &top, Select: []string{"id", "appId", "displayName", "signInAudience"},
			},
		})
	}, models.CreateApplicationCollectionResponseFromDiscriminatorValue, func(a models.Applicationable) (closure.Application, bool) {
		return closure.Application{
			ID:             deref(a.GetId()),
			AppID:          deref(a.GetAppId()),
			DisplayName:    deref(a.GetDisplayName()),
			SignInAudience: deref(a.GetSignInAudience()),
		}, true
	})
}

// ServicePrincipals lists enterprise applications, 999 per page.
func (d *Directory) ServicePrincipals(ctx context.Context) ([]closure.ServicePrincipal, error) {
	top := pageSize
	return collect(ctx, d, "list service principals", func(ctx context.Context) (serialization.Parsable, error) {
		return d.client.ServicePrincipals().Get(ctx, &serviceprincipals.ServicePrincipalsRequestBuilderGetRequestConfiguration{
			QueryParameters: &serviceprincipals.ServicePrincipalsRequestBuilderGetQueryParameters{
				Top: &top, Select: []string{"id", "appId", "displayName", "appOwnerOrganizationId", "servicePrincipalType", "accountEnabled"},
			},
		})
	}, models.CreateServicePrincipalCollectionResponseFromDiscriminatorValue, func(s models.ServicePrincipalable) (closure.ServicePrincipal, bool) {
		sp := closure.ServicePrincipal{
			ID:             deref(s.GetId()),
			AppID:          deref(s.GetAppId()),
			DisplayName:    deref(s.GetDisplayName()),
			Type:           deref(s.GetServicePrincipalType()),
			AccountEnabled: deref(s.GetAccountEnabled()),
		}
		if o := s.GetAppOwnerOrganizationId(); o != nil {
			sp.AppOwnerOrganizationID = o.String()
		}
		return sp, true
	})
}

// DeleteApplication soft-deletes an app registration; already gone is done.
func (d *Directory) DeleteApplication(ctx context.Context, id string) error {
	return d.deleteOp(ctx, "delete application "+id, func(ctx context.Context) error {
		return d.client.Applications().ByApplicationId(id).Delete(ctx, nil)
	})
}

// DeleteServicePrincipal deletes a service principal; already gone is done.
func (d *Directory) DeleteServicePrincipal(ctx context.Context, id string) error {
	return d.deleteOp(ctx, "delete service principal "+id, func(ctx context.Context) error {
		return d.client.ServicePrincipals().ByServicePrincipalId(id).Delete(ctx, nil)
	})
}

// DisableServicePrincipal sets accountEnabled=false on a service principal
// the tenant cannot delete; already gone is done.
func (d *Directory) DisableServicePrincipal(ctx context.Context, id string) error {
	return d.deleteOp(ctx, "disable service principal "+id, func(ctx context.Context) error {
		body := models.NewServicePrincipal()
		off := false
		body.SetAccountEnabled(&off)
		_, err := d.client.ServicePrincipals().ByServicePrincipalId(id).Patch(ctx, body, nil)
		return err
	})
}
