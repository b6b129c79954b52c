package graphtest

// Query options and write bodies the emulator cannot honour are refused, not
// ignored: an ignored $filter or PATCH property would hand the product an
// answer Graph never gives (FIDELITY.md, part 2).

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

func TestUnevaluatedFilterRefused(t *testing.T) {
	e := newRawEnv(t, smallSpec(), Assumptions{})
	for _, target := range []string{
		"/identity/conditionalAccess/policies?$filter=" + url.QueryEscape("state eq 'enabled'"),
		"/directory/subscriptions?$filter=" + url.QueryEscape("status eq 'Enabled'"),
		"/directory/administrativeUnits?$filter=" + url.QueryEscape("isMemberManagementRestricted eq true"),
		"/users/" + e.t.KeptAdmin().ID + "/authentication/methods?$filter=" + url.QueryEscape("id eq 'x'"),
		"/directory/deletedItems/graph.user?$filter=" + url.QueryEscape("jobTitle eq 'CEO'"),
	} {
		wantError(t, e.do("GET", "v1.0", target, ""), 400, "Request_UnsupportedQuery")
	}
	// /$count honours $filter like the list instead of counting everything.
	spec := smallSpec()
	rec := e.do("GET", "v1.0", "/users/$count?$filter="+url.QueryEscape("userType eq 'Guest'"), "", "ConsistencyLevel", "eventual")
	if rec.Code != 200 || rec.Body.String() != fmt.Sprint(spec.Guests) {
		t.Fatalf("users/$count guests = %d %q, want %d", rec.Code, rec.Body.String(), spec.Guests)
	}
	wantError(t, e.do("GET", "v1.0", "/devices/$count?$filter="+url.QueryEscape("jobTitle eq 'x'"), "", "ConsistencyLevel", "eventual"),
		400, "Request_UnsupportedQuery")
}

func TestUnevaluatedExpandOrderbySearchRefused(t *testing.T) {
	e := newRawEnv(t, smallSpec(), Assumptions{})
	for _, target := range []string{
		"/users?$expand=manager",
		"/users/" + e.t.KeptAdmin().ID + "?$expand=memberOf",
		"/directory/administrativeUnits?$expand=members",
	} {
		wantError(t, e.do("GET", "v1.0", target, ""), 400, "BadRequest")
	}
	wantError(t, e.do("GET", "v1.0", "/users?$orderby=displayName", ""), 400, "Request_UnsupportedQuery")
	wantError(t, e.do("GET", "v1.0", "/users?$skip=5", ""), 400, "Request_BadRequest")
	wantError(t, e.do("GET", "v1.0", "/users?$search="+url.QueryEscape(`"displayName:a"`), "", "ConsistencyLevel", "eventual"),
		400, "Request_UnsupportedQuery")
}

func TestNeFilterNeedsAdvancedQuery(t *testing.T) {
	spec := smallSpec()
	e := newRawEnv(t, spec, Assumptions{})
	q := "/users?$top=999&$filter=" + url.QueryEscape("userType ne 'Guest'")
	wantError(t, e.do("GET", "v1.0", q, ""), 400, "Request_UnsupportedQuery")
	wantError(t, e.do("GET", "v1.0", q, "", "ConsistencyLevel", "eventual"), 400, "Request_UnsupportedQuery")
	if got := values(t, e.do("GET", "v1.0", q+"&$count=true", "", "ConsistencyLevel", "eventual")); len(got) != 60-spec.Guests {
		t.Fatalf("ne in advanced mode: %d users, want %d", len(got), 60-spec.Guests)
	}

	// Assumed.SyncFilterNeedsAdvancedQuery: the sync flag needs it too.
	sq := "/users?$top=999&$filter=" + url.QueryEscape("onPremisesSyncEnabled eq true")
	if got := values(t, e.do("GET", "v1.0", sq, "")); len(got) != spec.Synced {
		t.Fatalf("sync filter (default): %d users, want %d", len(got), spec.Synced)
	}
	strict := newRawEnv(t, spec, Assumptions{SyncFilterNeedsAdvancedQuery: true})
	wantError(t, strict.do("GET", "v1.0", sq, ""), 400, "Request_UnsupportedQuery")
	if got := values(t, strict.do("GET", "v1.0", sq+"&$count=true", "", "ConsistencyLevel", "eventual")); len(got) != spec.Synced {
		t.Fatalf("sync filter (advanced): %d users, want %d", len(got), spec.Synced)
	}
}

func TestPatchUnknownPropertyRefused(t *testing.T) {
	e := newRawEnv(t, smallSpec(), Assumptions{})
	wantError(t, e.do("PATCH", "v1.0", "/policies/identitySecurityDefaultsEnforcementPolicy", `{"isEnabld":false}`), 400, "BadRequest")
	if !e.t.SecurityDefaults() {
		t.Fatal("misspelt PATCH changed security defaults")
	}
	ca := values(t, e.do("GET", "v1.0", "/identity/conditionalAccess/policies", ""))
	if len(ca) == 0 {
		t.Fatal("no CA policies seeded")
	}
	id := ca[0].(map[string]any)["id"].(string)
	wantError(t, e.do("PATCH", "v1.0", "/identity/conditionalAccess/policies/"+id, `{"displayName":"x","state":"disabled"}`), 400, "BadRequest")
	u := e.t.KeptAdmin().ID
	wantError(t, e.do("PATCH", "beta", "/users/"+u+"/authentication/requirements", `{"perUserMfaState":"disabled","x":1}`), 400, "BadRequest")
	// A body lost on retry (graph-wire §9) is refused, not taken as "no change".
	wantError(t, e.do("PATCH", "v1.0", "/policies/identitySecurityDefaultsEnforcementPolicy", ""), 400, "BadRequest")
	if len(e.s.Writes()) != 0 {
		t.Fatalf("refused PATCHes recorded writes: %+v", e.s.Writes())
	}
	// The SDK's own body shape (with @odata.type) is still accepted.
	rec := e.do("PATCH", "v1.0", "/policies/identitySecurityDefaultsEnforcementPolicy",
		`{"@odata.type":"#microsoft.graph.identitySecurityDefaultsEnforcementPolicy","isEnabled":false}`)
	if rec.Code != 204 || e.t.SecurityDefaults() {
		t.Fatalf("PATCH = %d %s", rec.Code, rec.Body.String())
	}
}

func TestAuthMethodsHonourSelect(t *testing.T) {
	e := newRawEnv(t, smallSpec(), Assumptions{})
	ms := values(t, e.do("GET", "v1.0", "/users/"+e.t.KeptAdmin().ID+"/authentication/methods?$select=id", ""))
	if len(ms) == 0 {
		t.Fatal("kept admin has no methods")
	}
	for _, m := range ms {
		mm := m.(map[string]any)
		if len(mm) != 2 || mm["id"] == nil || mm["@odata.type"] == nil {
			t.Fatalf("$select=id gave %v", mm)
		}
	}
}

// With Assumed.GzipRequestsUnsupported the emulator answers gzip bodies with
// 415 and kiota's compression handler resends them plain (graph-wire.md §4).
func TestSDKGzipRefused415Resent(t *testing.T) {
	e := newSDKEnv(t, smallSpec(), Options{Assumed: Assumptions{GzipRequestsUnsupported: true}})
	body := models.NewIdentitySecurityDefaultsEnforcementPolicy()
	off := false
	body.SetIsEnabled(&off)
	if _, err := e.client.Policies().IdentitySecurityDefaultsEnforcementPolicy().Patch(ctx, body, nil); err != nil {
		t.Fatal(describe(err))
	}
	if e.t.SecurityDefaults() {
		t.Fatal("PATCH not applied after 415")
	}
	var statuses []int
	for _, r := range e.s.Requests() {
		if r.Method == http.MethodPatch {
			statuses = append(statuses, r.Status)
		}
	}
	if fmt.Sprint(statuses) != "[415 204]" {
		t.Fatalf("PATCH statuses = %v, want [415 204]", statuses)
	}

	// Any encoding but gzip is refused with 415 whatever the switch.
	plain := newSDKEnv(t, smallSpec(), Options{})
	cred := secretCredential(t, plain.s, plain.t.ID, plain.t.ClosebotAppID, plain.secret)
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: graphScope})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPatch, plain.s.GraphURL()+"/policies/identitySecurityDefaultsEnforcementPolicy",
		strings.NewReader(`{"isEnabled":false}`))
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "br")
	resp, err := plain.s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType || resp.Header.Get("Content-Type") != "application/json" ||
		!strings.Contains(string(b), `"UnsupportedMediaType"`) || !plain.t.SecurityDefaults() {
		t.Fatalf("br PATCH = %d %s", resp.StatusCode, b)
	}
}

func TestFirstPartySPsUndeletable(t *testing.T) {
	for _, deletable := range []bool{false, true} {
		e := newRawEnv(t, smallSpec(), Assumptions{FirstPartySPsDeletable: deletable})
		sps := values(t, e.do("GET", "v1.0", "/servicePrincipals?$top=999&$filter="+url.QueryEscape("appOwnerOrganizationId eq '"+microsoftServicesTenant+"'"), ""))
		refused := 0
		for _, sp := range sps {
			rec := e.do("DELETE", "v1.0", "/servicePrincipals/"+sp.(map[string]any)["id"].(string), "")
			switch rec.Code {
			case 204:
			case 400:
				wantError(t, rec, 400, "Request_BadRequest")
				refused++
			default:
				t.Fatalf("DELETE first-party SP = %d %s", rec.Code, rec.Body.String())
			}
		}
		if deletable != (refused == 0) || len(sps) == 0 {
			t.Fatalf("deletable=%v: %d of %d first-party SPs refused", deletable, refused, len(sps))
		}
	}
}
