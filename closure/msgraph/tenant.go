package msgraph

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/devices"
	"github.com/microsoftgraph/msgraph-sdk-go/directory"
	"github.com/microsoftgraph/msgraph-sdk-go/domains"
	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/identity"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/organization"
	"github.com/microsoftgraph/msgraph-sdk-go/policies"

	"github.com/closebot/closebot/closure"
)

// Organization reads the tenant's organization object.
func (d *Directory) Organization(ctx context.Context) (closure.Organization, error) {
	const op = "read organization"
	var res models.OrganizationCollectionResponseable
	err := d.do(ctx, op, func(ctx context.Context) error {
		var err error
		res, err = d.client.Organization().Get(ctx, &organization.OrganizationRequestBuilderGetRequestConfiguration{
			QueryParameters: &organization.OrganizationRequestBuilderGetQueryParameters{
				Select: []string{"id", "displayName", "tenantType", "onPremisesSyncEnabled", "onPremisesLastSyncDateTime"},
			},
		})
		return err
	})
	if err != nil {
		return closure.Organization{}, err
	}
	if len(res.GetValue()) != 1 {
		return closure.Organization{}, fmt.Errorf("%s: %d organization objects, want 1", op, len(res.GetValue()))
	}
	o := res.GetValue()[0]
	return closure.Organization{
		ID:          deref(o.GetId()),
		DisplayName: deref(o.GetDisplayName()),
		TenantType:  deref(o.GetTenantType()),
		SyncEnabled: deref(o.GetOnPremisesSyncEnabled()),
		LastSync:    utc(o.GetOnPremisesLastSyncDateTime()),
	}, nil
}

// Domains lists the tenant's domains.
func (d *Directory) Domains(ctx context.Context) ([]closure.Domain, error) {
	return collect(ctx, d, "list domains", func(ctx context.Context) (serialization.Parsable, error) {
		return d.client.Domains().Get(ctx, &domains.DomainsRequestBuilderGetRequestConfiguration{
			QueryParameters: &domains.DomainsRequestBuilderGetQueryParameters{
				Select: []string{"id", "isVerified", "isInitial", "isDefault", "authenticationType"},
			},
		})
	}, models.CreateDomainCollectionResponseFromDiscriminatorValue, func(m models.Domainable) (closure.Domain, bool) {
		return closure.Domain{
			ID:        deref(m.GetId()),
			Verified:  deref(m.GetIsVerified()),
			Initial:   deref(m.GetIsInitial()),
			Default:   deref(m.GetIsDefault()),
			Federated: strings.EqualFold(deref(m.GetAuthenticationType()), "Federated"),
		}, true
	})
}

// Subscriptions lists /directory/subscriptions. SelfService marks the
// products a user signed up for (ownerType User).
func (d *Directory) Subscriptions(ctx context.Context) ([]closure.CompanySubscription, error) {
	return collect(ctx, d, "list subscriptions", func(ctx context.Context) (serialization.Parsable, error) {
		return d.client.Directory().Subscriptions().Get(ctx, &directory.SubscriptionsRequestBuilderGetRequestConfiguration{
			QueryParameters: &directory.SubscriptionsRequestBuilderGetQueryParameters{
				Select: []string{"id", "commerceSubscriptionId", "skuId", "skuPartNumber", "status", "ownerTenantId",
					"ownerType", "isTrial", "totalLicenses", "nextLifecycleDateTime", "createdDateTime"},
			},
		})
	}, models.CreateCompanySubscriptionCollectionResponseFromDiscriminatorValue, func(s models.CompanySubscriptionable) (closure.CompanySubscription, bool) {
		return closure.CompanySubscription{
			ID:            deref(s.GetId()),
			CommerceID:    deref(s.GetCommerceSubscriptionId()),
			SkuID:         deref(s.GetSkuId()),
			SkuPartNumber: deref(s.GetSkuPartNumber()),
			Status:        deref(s.GetStatus()),
			OwnerTenantID: deref(s.GetOwnerTenantId()),
			OwnerType:     deref(s.GetOwnerType()),
			IsTrial:       deref(s.GetIsTrial()),
			TotalLicenses: int(deref(s.GetTotalLicenses())),
			NextLifecycle: utc(s.GetNextLifecycleDateTime()),
			Created:       utc(s.GetCreatedDateTime()),
			// A user, not the company, owns a self-service sign-up product
			// (companySubscription.ownerType, e.g. "User").
			SelfService: strings.EqualFold(deref(s.GetOwnerType()), "User"),
		}, true
	})
}

// SecurityDefaultsEnabled reads the security defaults policy.
func (d *Directory) SecurityDefaultsEnabled(ctx context.Context) (bool, error) {
	var p models.IdentitySecurityDefaultsEnforcementPolicyable
	err := d.do(ctx, "read security defaults", func(ctx context.Context) error {
		var err error
		p, err = d.client.Policies().IdentitySecurityDefaultsEnforcementPolicy().Get(ctx,
			&policies.IdentitySecurityDefaultsEnforcementPolicyRequestBuilderGetRequestConfiguration{
				QueryParameters: &policies.IdentitySecurityDefaultsEnforcementPolicyRequestBuilderGetQueryParameters{
					Select: []string{"id", "isEnabled"},
				},
			})
		return err
	})
	if err != nil {
		return false, err
	}
	return deref(p.GetIsEnabled()), nil
}

// ConditionalAccessPolicies lists conditional-access policies with the
// conditions that decide whether they could block the kept admin.
func (d *Directory) ConditionalAccessPolicies(ctx context.Context) ([]closure.CAPolicy, error) {
	return collect(ctx, d, "list conditional access policies", func(ctx context.Context) (serialization.Parsable, error) {
		return d.client.Identity().ConditionalAccess().Policies().Get(ctx, &identity.ConditionalAccessPoliciesRequestBuilderGetRequestConfiguration{
			QueryParameters: &identity.ConditionalAccessPoliciesRequestBuilderGetQueryParameters{
				Select: []string{"id", "displayName", "state", "conditions", "grantControls"},
			},
		})
	}, models.CreateConditionalAccessPolicyCollectionResponseFromDiscriminatorValue, func(p models.ConditionalAccessPolicyable) (closure.CAPolicy, bool) {
		out := closure.CAPolicy{ID: deref(p.GetId()), DisplayName: deref(p.GetDisplayName())}
		if s := p.GetState(); s != nil {
			out.State = s.String()
		}
		if c := p.GetConditions(); c != nil && c.GetUsers() != nil {
			u := c.GetUsers()
			out.IncludeUsers, out.ExcludeUsers = u.GetIncludeUsers(), u.GetExcludeUsers()
			out.IncludeRoles, out.ExcludeRoles = u.GetIncludeRoles(), u.GetExcludeRoles()
			out.IncludeGroups, out.ExcludeGroups = u.GetIncludeGroups(), u.GetExcludeGroups()
		}
		if g := p.GetGrantControls(); g != nil {
			for _, c := range g.GetBuiltInControls() {
				out.GrantControls = append(out.GrantControls, c.String())
			}
		}
		return out, true
	})
}

// unifiedGroups filters Microsoft 365 groups.
const unifiedGroups = "groupTypes/any(c:c eq 'Unified')"

// Counts counts devices, groups and Microsoft 365 groups ($count, an
// advanced query: ConsistencyLevel eventual).
func (d *Directory) Counts(ctx context.Context) (closure.DataCounts, error) {
	var out closure.DataCounts
	count := func(op string, get func(ctx context.Context) (*int32, error), dst *int) error {
		return d.do(ctx, op, func(ctx context.Context) error {
			n, err := get(ctx)
			if err != nil {
				return err
			}
			if n == nil {
				return fmt.Errorf("empty count")
			}
			*dst = int(*n)
			return nil
		})
	}
	if err := count("count devices", func(ctx context.Context) (*int32, error) {
		return d.client.Devices().Count().Get(ctx, &devices.CountRequestBuilderGetRequestConfiguration{Headers: consistencyEventual()})
	}, &out.Devices); err != nil {
		return out, err
	}
	if err := count("count groups", func(ctx context.Context) (*int32, error) {
		return d.client.Groups().Count().Get(ctx, &groups.CountRequestBuilderGetRequestConfiguration{Headers: consistencyEventual()})
	}, &out.Groups); err != nil {
		return out, err
	}
	filter := unifiedGroups
	if err := count("count Microsoft 365 groups", func(ctx context.Context) (*int32, error) {
		return d.client.Groups().Count().Get(ctx, &groups.CountRequestBuilderGetRequestConfiguration{
			Headers:         consistencyEventual(),
			QueryParameters: &groups.CountRequestBuilderGetQueryParameters{Filter: &filter},
		})
	}, &out.UnifiedGroups); err != nil {
		return out, err
	}
	return out, nil
}

// DisableSync turns directory synchronization off with the beta PATCH of
// /organization/{id} (the property is documented for update only in beta).
// A refusal (403, or 400 read-only) is an *APIError the step turns into a gate.
func (d *Directory) DisableSync(ctx context.Context, organizationID string) error {
	return d.write(ctx, "turn off directory sync for organization "+organizationID, func(ctx context.Context) error {
		return d.sendBeta(ctx, http.MethodPatch, "/organization/"+url.PathEscape(organizationID),
			map[string]any{"@odata.type": "#microsoft.graph.organization", "onPremisesSyncEnabled": false}, nil)
	})
}
