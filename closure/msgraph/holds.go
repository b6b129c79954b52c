package msgraph

import (
	"context"

	"github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/models/security"
	graphsecurity "github.com/microsoftgraph/msgraph-sdk-go/security"

	"github.com/closebot/closebot/closure"
)

// LegalHolds lists every eDiscovery case's custodians and their holdStatus.
// msgraph-sdk-go v1.89.0 has no v1.0 legalHolds builder; a custodian's
// holdStatus is where Graph shows the hold (graph-wire §9).
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
		holds, err := collect(ctx, d, "list custodians of eDiscovery case "+c.id, func(ctx context.Context) (serialization.Parsable, error) {
			return d.client.Security().Cases().EdiscoveryCases().ByEdiscoveryCaseId(c.id).Custodians().Get(ctx,
				&graphsecurity.CasesEdiscoveryCasesItemCustodiansRequestBuilderGetRequestConfiguration{
					QueryParameters: &graphsecurity.CasesEdiscoveryCasesItemCustodiansRequestBuilderGetQueryParameters{
						Select: []string{"id", "email", "holdStatus"},
					},
				})
		}, security.CreateEdiscoveryCustodianCollectionResponseFromDiscriminatorValue, func(cu security.EdiscoveryCustodianable) (closure.LegalHold, bool) {
			h := closure.LegalHold{CaseID: c.id, CaseName: c.name, CaseStatus: c.status, Source: closure.HoldCustodian, Name: deref(cu.GetEmail())}
			if hs := cu.GetHoldStatus(); hs != nil {
				h.HoldStatus = hs.String()
			}
			return h, true
		})
		if err != nil {
			return nil, err
		}
		out = append(out, holds...)
	}
	return out, nil
}
