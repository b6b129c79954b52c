package msgraph

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"

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
	// Each case's three reads run at once, and up to holdCaseReads cases
	// together: the executor re-checks holds before every 100 deletions, and
	// at 2 s per call one read after another outlasted the batch it guards.
	per := make([][]closure.LegalHold, len(cases))
	errs := make([]error, len(cases))
	slots := make(chan struct{}, holdCaseReads)
	var wg sync.WaitGroup
	for i, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			per[i], errs[i] = d.caseHolds(ctx, c.id, c.name, c.status)
		}()
	}
	wg.Wait()
	var out []closure.LegalHold
	for i := range cases {
		if errs[i] != nil {
			return nil, errs[i]
		}
		out = append(out, per[i]...)
	}
	return out, nil
}

// holdCaseReads bounds the eDiscovery cases read at once (three calls each).
const holdCaseReads = 4

// caseHolds reads one case's custodians, non-custodial data sources and
// hold policies at once, and returns them in that order.
func (d *Directory) caseHolds(ctx context.Context, id, name, status string) ([]closure.LegalHold, error) {
	hold := func(source, holdName string, st *security.DataSourceHoldStatus) closure.LegalHold {
		h := closure.LegalHold{CaseID: id, CaseName: name, CaseStatus: status, Source: source, Name: holdName}
		if st != nil {
			h.HoldStatus = st.String()
		}
		return h
	}
	var (
		wg                  sync.WaitGroup
		custodians, sources []closure.LegalHold
		policies            []holdPolicy
		errC, errS, errP    error
	)
	wg.Add(3)
	go func() {
		defer wg.Done()
		custodians, errC = collect(ctx, d, "list custodians of eDiscovery case "+id, func(ctx context.Context) (serialization.Parsable, error) {
			return d.client.Security().Cases().EdiscoveryCases().ByEdiscoveryCaseId(id).Custodians().Get(ctx,
				&graphsecurity.CasesEdiscoveryCasesItemCustodiansRequestBuilderGetRequestConfiguration{
					QueryParameters: &graphsecurity.CasesEdiscoveryCasesItemCustodiansRequestBuilderGetQueryParameters{
						Select: []string{"id", "email", "holdStatus"},
					},
				})
		}, security.CreateEdiscoveryCustodianCollectionResponseFromDiscriminatorValue, func(cu security.EdiscoveryCustodianable) (closure.LegalHold, bool) {
			return hold(closure.HoldCustodian, deref(cu.GetEmail()), cu.GetHoldStatus()), true
		})
	}()
	go func() {
		defer wg.Done()
		sources, errS = collect(ctx, d, "list non-custodial data sources of eDiscovery case "+id, func(ctx context.Context) (serialization.Parsable, error) {
			return d.client.Security().Cases().EdiscoveryCases().ByEdiscoveryCaseId(id).NoncustodialDataSources().Get(ctx,
				&graphsecurity.CasesEdiscoveryCasesItemNoncustodialDataSourcesRequestBuilderGetRequestConfiguration{
					QueryParameters: &graphsecurity.CasesEdiscoveryCasesItemNoncustodialDataSourcesRequestBuilderGetQueryParameters{
						Select: []string{"id", "displayName", "holdStatus"},
					},
				})
		}, security.CreateEdiscoveryNoncustodialDataSourceCollectionResponseFromDiscriminatorValue, func(ds security.EdiscoveryNoncustodialDataSourceable) (closure.LegalHold, bool) {
			return hold(closure.HoldNoncustodial, deref(ds.GetDisplayName()), ds.GetHoldStatus()), true
		})
	}()
	go func() {
		defer wg.Done()
		policies, errP = d.holdPolicies(ctx, id)
	}()
	wg.Wait()
	for _, err := range []error{errC, errS, errP} {
		if err != nil {
			return nil, err
		}
	}
	out := append(custodians, sources...)
	for _, p := range policies {
		out = append(out, closure.LegalHold{CaseID: id, CaseName: name, CaseStatus: status, Source: closure.HoldPolicy,
			Name: p.DisplayName, HoldStatus: p.holdStatus()})
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
