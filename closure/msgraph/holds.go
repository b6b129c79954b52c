package msgraph

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/models/security"
	graphsecurity "github.com/microsoftgraph/msgraph-sdk-go/security"

	"github.com/closebot/closebot/closure"
)

// LegalHolds lists every eDiscovery case's holds: each custodian's and
// non-custodial data source's holdStatus and each hold policy (legalHolds)
// mapped to a holdStatus. msgraph-sdk-go v1.89.0 has builders for custodians
// and non-custodial data sources but none for legalHolds, which is read raw.
func (d *Directory) LegalHolds(ctx context.Context) ([]closure.LegalHold, error) {
	type caseInfo struct{ id, name, status string }
	cases, err := collect(ctx, d, "list eDiscovery cases", func(ctx context.Context) (serialization.Parsable, error) {
		return d.client.Security().Cases().EdiscoveryCases().Get(ctx, &graphsecurity.CasesEdiscoveryCasesRequestBuilderGetRequestConfiguration{
			QueryParameters: &graphsecurity.CasesEdiscoveryCasesRequestBuilderGetQueryParameters{
				Select: []string{"id", "displayName", "status"},
			},
		})
	}, security.CreateEdiscoveryCaseCollectionResponseFromDiscriminatorValue, func(c security.EdiscoveryCaseable) (caseInfo, bool) {
		ci := caseInfo{id: deref(c.GetId()), name: deref(c.GetDisplayName())}
		if s := c.GetStatus(); s != nil {
			ci.status = s.String()
		}
		return ci, true
	})
	if err != nil {
		return nil, err
	}
	var out []closure.LegalHold
	for _, c := range cases {
		hold := func(source, name string, status *security.DataSourceHoldStatus) closure.LegalHold {
			h := closure.LegalHold{CaseID: c.id, CaseName: c.name, CaseStatus: c.status, Source: source, Name: name}
			if status != nil {
				h.HoldStatus = status.String()
			}
			return h
		}
		custodians, err := collect(ctx, d, "list custodians of eDiscovery case "+c.id, func(ctx context.Context) (serialization.Parsable, error) {
			return d.client.Security().Cases().EdiscoveryCases().ByEdiscoveryCaseId(c.id).Custodians().Get(ctx,
				&graphsecurity.CasesEdiscoveryCasesItemCustodiansRequestBuilderGetRequestConfiguration{
					QueryParameters: &graphsecurity.CasesEdiscoveryCasesItemCustodiansRequestBuilderGetQueryParameters{
						Select: []string{"id", "email", "holdStatus"},
					},
				})
		}, security.CreateEdiscoveryCustodianCollectionResponseFromDiscriminatorValue, func(cu security.EdiscoveryCustodianable) (closure.LegalHold, bool) {
			return hold(closure.HoldCustodian, deref(cu.GetEmail()), cu.GetHoldStatus()), true
		})
		if err != nil {
			return nil, err
		}
		sources, err := collect(ctx, d, "list non-custodial data sources of eDiscovery case "+c.id, func(ctx context.Context) (serialization.Parsable, error) {
			return d.client.Security().Cases().EdiscoveryCases().ByEdiscoveryCaseId(c.id).NoncustodialDataSources().Get(ctx,
				&graphsecurity.CasesEdiscoveryCasesItemNoncustodialDataSourcesRequestBuilderGetRequestConfiguration{
					QueryParameters: &graphsecurity.CasesEdiscoveryCasesItemNoncustodialDataSourcesRequestBuilderGetQueryParameters{
						Select: []string{"id", "displayName", "holdStatus"},
					},
				})
		}, security.CreateEdiscoveryNoncustodialDataSourceCollectionResponseFromDiscriminatorValue, func(ds security.EdiscoveryNoncustodialDataSourceable) (closure.LegalHold, bool) {
			return hold(closure.HoldNoncustodial, deref(ds.GetDisplayName()), ds.GetHoldStatus()), true
		})
		if err != nil {
			return nil, err
		}
		policies, err := d.holdPolicies(ctx, c.id)
		if err != nil {
			return nil, err
		}
		out = append(append(out, custodians...), sources...)
		for _, p := range policies {
			out = append(out, closure.LegalHold{CaseID: c.id, CaseName: c.name, CaseStatus: c.status, Source: closure.HoldPolicy,
				Name: p.DisplayName, HoldStatus: p.holdStatus()})
		}
	}
	return out, nil
}

// holdPolicy is v1.0 microsoft.graph.security.ediscoveryHoldPolicy, as far
// as the hold's state goes.
type holdPolicy struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	IsEnabled   *bool  `json:"isEnabled"`
	Status      string `json:"status"` // policyStatus: pending, error, success, unknownFutureValue
}

// holdStatus maps a policy to a data source's holdStatus: an enabled
// policy holds (applied; applying while pending; partial on error), a
// disabled one being synced is removing, otherwise notApplied. Unknown
// values read as applied: closing must wait until it is understood.
func (p holdPolicy) holdStatus() string {
	enabled := p.IsEnabled == nil || *p.IsEnabled
	switch {
	case enabled && p.Status == "success":
		return "applied"
	case enabled && p.Status == "pending":
		return "applying"
	case enabled && p.Status == "error":
		return "partial"
	case !enabled && p.Status == "pending":
		return "removing"
	case !enabled && (p.Status == "success" || p.Status == "error"):
		return "notApplied"
	}
	return "applied"
}

// holdPolicies pages through a case's legalHolds with raw requests.
func (d *Directory) holdPolicies(ctx context.Context, caseID string) ([]holdPolicy, error) {
	op := "list hold policies of eDiscovery case " + caseID
	next := d.base + "/security/cases/ediscoveryCases/" + url.PathEscape(caseID) + "/legalHolds?$select=id,displayName,isEnabled,status"
	var out []holdPolicy
	for pages := 0; next != ""; pages++ {
		if pages > 10000 {
			return nil, fmt.Errorf("%s: too many pages", op)
		}
		var page struct {
			Value    []holdPolicy `json:"value"`
			NextLink string       `json:"@odata.nextLink"`
		}
		target := next
		if err := d.do(ctx, op, func(ctx context.Context) error {
			page.Value, page.NextLink = nil, ""
			return d.sendRaw(ctx, http.MethodGet, target, nil, &page)
		}); err != nil {
			return nil, err
		}
		out = append(out, page.Value...)
		next = page.NextLink
	}
	return out, nil
}
