package graphtest

// End-to-end: the real msgraph-sdk-go (and azidentity for tokens) against
// the directory's routes.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/serialization"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	core "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/rolemanagement"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

type sdkEnv struct {
	s       *Server
	t       *Tenant
	client  *msgraphsdk.GraphServiceClient
	adapter *msgraphsdk.GraphRequestAdapter
	secret  string
}

func newSDKEnv(t *testing.T, spec TenantSpec, opts Options) *sdkEnv {
	t.Helper()
	s := New(opts)
	s.Start()
	t.Cleanup(s.Close)
	tn := s.AddTenant(spec)
	s.RegisterClientSecret(tn.ID, spec.ClosebotAppID, "closebot-secret")
	s.SetAppRoles(tn.ID, spec.ClosebotAppID, testAppRoles()...)
	client, adapter := graphClient(t, s, secretCredential(t, s, tn.ID, spec.ClosebotAppID, "closebot-secret"), false)
	return &sdkEnv{s: s, t: tn, client: client, adapter: adapter, secret: "closebot-secret"}
}

var ctx = context.Background()

// checkKnown fails on any property the SDK model did not know: every
// parsable's additional data may hold only @odata.context / @odata.nextLink.
func checkKnown(t *testing.T, path string, v any) {
	t.Helper()
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || (rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface) && rv.IsNil() {
		return
	}
	if h, ok := v.(serialization.AdditionalDataHolder); ok {
		for k := range h.GetAdditionalData() {
			if k != "@odata.context" && k != "@odata.nextLink" {
				t.Errorf("%s: unknown property %q (%T)", path, k, v)
			}
		}
	}
	for i := 0; i < rv.NumMethod(); i++ {
		m := rv.Type().Method(i)
		if !strings.HasPrefix(m.Name, "Get") || m.Type.NumIn() != 1 || m.Type.NumOut() != 1 ||
			m.Name == "GetAdditionalData" || m.Name == "GetBackingStore" || m.Name == "GetFieldDeserializers" {
			continue
		}
		out := rv.Method(i).Call(nil)[0]
		switch {
		case out.Kind() == reflect.Slice:
			for j := 0; j < out.Len(); j++ {
				if p, ok := out.Index(j).Interface().(serialization.Parsable); ok {
					checkKnown(t, path+"."+m.Name, p)
				}
			}
		case out.Kind() == reflect.Interface || out.Kind() == reflect.Pointer:
			if out.IsNil() {
				continue
			}
			if p, ok := out.Interface().(serialization.Parsable); ok {
				checkKnown(t, path+"."+m.Name, p)
			}
		}
	}
}

func must[T any](t *testing.T, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, describe(err))
		}
		return v
	}
}

func describe(err error) string {
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) && oe.GetErrorEscaped() != nil {
		return oe.Error() + " " + deref(oe.GetErrorEscaped().GetCode()) + ": " + deref(oe.GetErrorEscaped().GetMessage())
	}
	return err.Error()
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func odataErr(t *testing.T, err error, status int, code string) {
	t.Helper()
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) {
		t.Fatalf("error %v (%T) is not an ODataError", err, err)
	}
	if oe.ResponseStatusCode != status || oe.GetErrorEscaped() == nil || deref(oe.GetErrorEscaped().GetCode()) != code ||
		deref(oe.GetErrorEscaped().GetMessage()) == "" {
		t.Fatalf("ODataError %d %s %q, want %d %s", oe.ResponseStatusCode, deref(oe.GetErrorEscaped().GetCode()),
			deref(oe.GetErrorEscaped().GetMessage()), status, code)
	}
}

func TestSDKPageThrough2500Users(t *testing.T) {
	spec := DefaultTenantSpec(2500)
	e := newSDKEnv(t, spec, Options{})
	top := int32(999)
	res := must[models.UserCollectionResponseable](t, "users")(e.client.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Top: &top, Select: []string{"id", "userPrincipalName", "userType", "onPremisesSyncEnabled"}},
	}))
	it, err := core.NewPageIterator[models.Userable](res, e.adapter, models.CreateUserCollectionResponseFromDiscriminatorValue)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	guests := 0
	if err := it.Iterate(ctx, func(u models.Userable) bool {
		seen[deref(u.GetId())] = true
		if deref(u.GetUserType()) == "Guest" {
			guests++
		}
		checkKnown(t, "user", u)
		return true
	}); err != nil {
		t.Fatal(describe(err))
	}
	if len(seen) != 2500 || guests != spec.Guests {
		t.Fatalf("paged %d users (%d guests), want 2500 (%d)", len(seen), guests, spec.Guests)
	}
}

func TestSDKDeleteRestorePurge(t *testing.T) {
	e := newSDKEnv(t, smallSpec(), Options{})
	var victim UserInfo
	for _, u := range e.t.Users() {
		if u.UserType == "Member" && !u.Synced && !u.Restricted && len(u.Roles) == 0 {
			victim = u
			break
		}
	}
	if err := e.client.Users().ByUserId(victim.ID).Delete(ctx, nil); err != nil {
		t.Fatal(describe(err))
	}
	del := must[models.UserCollectionResponseable](t, "deleted users")(e.client.Directory().DeletedItems().GraphUser().Get(ctx, nil))
	if len(del.GetValue()) != 1 || deref(del.GetValue()[0].GetId()) != victim.ID || del.GetValue()[0].GetDeletedDateTime() == nil {
		t.Fatalf("deleted items = %v", del.GetValue())
	}
	checkKnown(t, "deletedItems", del)
	restored := must[models.DirectoryObjectable](t, "restore")(e.client.Directory().DeletedItems().ByDirectoryObjectId(victim.ID).Restore().Post(ctx, nil))
	if _, ok := restored.(models.Userable); !ok {
		t.Fatalf("restored object is %T, want a user", restored)
	}
	must[models.Userable](t, "get restored")(e.client.Users().ByUserId(victim.ID).Get(ctx, nil))
	if err := e.client.Users().ByUserId(victim.ID).Delete(ctx, nil); err != nil {
		t.Fatal(describe(err))
	}
	if err := e.client.Directory().DeletedItems().ByDirectoryObjectId(victim.ID).Delete(ctx, nil); err != nil {
		t.Fatal(describe(err))
	}
	_, err := e.client.Directory().DeletedItems().ByDirectoryObjectId(victim.ID).Get(ctx, nil)
	odataErr(t, err, 404, "Request_ResourceNotFound")
	odataErr(t, e.client.Users().ByUserId(victim.ID).Delete(ctx, nil), 404, "Request_ResourceNotFound")
}

func TestSDKTypedErrors(t *testing.T) {
	e := newSDKEnv(t, smallSpec(), Options{})
	_, err := e.client.Users().ByUserId("00000000-0000-0000-0000-00000000dead").Get(ctx, nil)
	odataErr(t, err, 404, "Request_ResourceNotFound")
	for _, u := range e.t.Users() {
		if u.Restricted {
			odataErr(t, e.client.Users().ByUserId(u.ID).Delete(ctx, nil), 403, "Authorization_RequestDenied")
			return
		}
	}
	t.Fatal("no restricted user")
}

// Every v1.0 resource closebot reads decodes with no unknown property.
func TestSDKTypedReadsKnowEveryProperty(t *testing.T) {
	spec := smallSpec().WithP2(1)
	spec.LegalHold = true
	e := newSDKEnv(t, spec, Options{})
	c := e.client
	check := func(name string, v serialization.Parsable, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %s", name, describe(err))
		}
		checkKnown(t, name, v)
	}
	kept := e.t.KeptAdmin()
	userSel := []string{"id", "displayName", "userPrincipalName", "userType", "accountEnabled", "onPremisesSyncEnabled",
		"onPremisesImmutableId", "mail", "createdDateTime", "usageLocation", "creationType", "externalUserState", "onPremisesSamAccountName"}
	v, err := c.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Select: userSel}})
	check("users", v, err)
	u, err := c.Users().ByUserId(kept.UPN).Get(ctx, nil)
	check("user", u, err)
	m, err := c.Users().ByUserId(kept.ID).Authentication().Methods().Get(ctx, nil)
	check("methods", m, err)
	if len(m.GetValue()) < 2 {
		t.Fatalf("kept admin methods = %d", len(m.GetValue()))
	}
	if _, ok := m.GetValue()[1].(models.MicrosoftAuthenticatorAuthenticationMethodable); !ok {
		t.Errorf("method 1 is %T", m.GetValue()[1])
	}
	org, err := c.Organization().Get(ctx, nil)
	check("organization", org, err)
	if deref(org.GetValue()[0].GetTenantType()) != "AAD" {
		t.Errorf("tenantType = %v", org.GetValue()[0].GetTenantType())
	}
	d, err := c.Domains().Get(ctx, nil)
	check("domains", d, err)
	filter := "roleDefinitionId eq '" + RoleGlobalAdministrator + "'"
	ra, err := c.RoleManagement().Directory().RoleAssignments().Get(ctx, &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetRequestConfiguration{
		QueryParameters: &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetQueryParameters{Filter: &filter, Expand: []string{"principal"}}})
	check("roleAssignments", ra, err)
	for _, a := range ra.GetValue() {
		if _, ok := a.GetPrincipal().(models.Userable); !ok {
			t.Errorf("principal is %T, want a user", a.GetPrincipal())
		}
	}
	ai, err := c.RoleManagement().Directory().RoleAssignmentScheduleInstances().Get(ctx, &rolemanagement.DirectoryRoleAssignmentScheduleInstancesRequestBuilderGetRequestConfiguration{
		QueryParameters: &rolemanagement.DirectoryRoleAssignmentScheduleInstancesRequestBuilderGetQueryParameters{Filter: &filter, Expand: []string{"principal"}}})
	check("roleAssignmentScheduleInstances", ai, err)
	ei, err := c.RoleManagement().Directory().RoleEligibilityScheduleInstances().Get(ctx, &rolemanagement.DirectoryRoleEligibilityScheduleInstancesRequestBuilderGetRequestConfiguration{
		QueryParameters: &rolemanagement.DirectoryRoleEligibilityScheduleInstancesRequestBuilderGetQueryParameters{Filter: &filter, Expand: []string{"principal"}}})
	check("roleEligibilityScheduleInstances", ei, err)
	if len(ei.GetValue()) != 1 {
		t.Errorf("eligible GAs = %d", len(ei.GetValue()))
	}
	rd, err := c.RoleManagement().Directory().RoleDefinitions().Get(ctx, nil)
	check("roleDefinitions", rd, err)
	dr, err := c.DirectoryRoles().Get(ctx, nil)
	check("directoryRoles", dr, err)
	for _, r := range dr.GetValue() {
		mem, err := c.DirectoryRoles().ByDirectoryRoleId(deref(r.GetId())).Members().Get(ctx, nil)
		check("directoryRole members", mem, err)
	}
	au, err := c.Directory().AdministrativeUnits().Get(ctx, nil)
	check("administrativeUnits", au, err)
	for _, a := range au.GetValue() {
		mem, err := c.Directory().AdministrativeUnits().ByAdministrativeUnitId(deref(a.GetId())).Members().Get(ctx, nil)
		check("administrativeUnit members", mem, err)
	}
	subs, err := c.Directory().Subscriptions().Get(ctx, nil)
	check("subscriptions", subs, err)
	one, err := c.Directory().Subscriptions().ByCompanySubscriptionId(deref(subs.GetValue()[0].GetId())).Get(ctx, nil)
	check("subscription", one, err)
	skus, err := c.SubscribedSkus().Get(ctx, nil)
	check("subscribedSkus", skus, err)
	sd, err := c.Policies().IdentitySecurityDefaultsEnforcementPolicy().Get(ctx, nil)
	check("securityDefaults", sd, err)
	ca, err := c.Identity().ConditionalAccess().Policies().Get(ctx, nil)
	check("conditionalAccess", ca, err)
	dev, err := c.Devices().Get(ctx, nil)
	check("devices", dev, err)
	gr, err := c.Groups().Get(ctx, nil)
	check("groups", gr, err)
	cases, err := c.Security().Cases().EdiscoveryCases().Get(ctx, nil)
	check("ediscoveryCases", cases, err)
	cust, err := c.Security().Cases().EdiscoveryCases().ByEdiscoveryCaseId(deref(cases.GetValue()[0].GetId())).Custodians().Get(ctx, nil)
	check("custodians", cust, err)
	if hs := cust.GetValue()[0].GetHoldStatus(); hs == nil || hs.String() != "applied" {
		t.Errorf("holdStatus = %v", hs)
	}
	apps, err := c.Applications().Get(ctx, nil)
	check("applications", apps, err)
	sps, err := c.ServicePrincipals().Get(ctx, nil)
	check("servicePrincipals", sps, err)
	firstParty := 0
	for _, sp := range sps.GetValue() {
		if o := sp.GetAppOwnerOrganizationId(); o != nil && o.String() == microsoftServicesTenant {
			firstParty++
		}
	}
	if firstParty == 0 {
		t.Error("no first-party service principals")
	}
}

// Beta per-user MFA through a raw request on the same adapter, decoded strictly.
func TestSDKBetaRequirementsRaw(t *testing.T) {
	e := newSDKEnv(t, smallSpec(), Options{})
	var target UserInfo
	for _, u := range e.t.Users() {
		if u.MFAState == "enforced" {
			target = u
			break
		}
	}
	betaBase := strings.TrimSuffix(e.s.GraphURL(), "/v1.0") + "/beta"
	send := func(method abs.HttpMethod, body []byte) []byte {
		ri := abs.NewRequestInformation()
		ri.Method = method
		u, _ := url.Parse(betaBase + "/users/" + target.ID + "/authentication/requirements")
		ri.SetUri(*u)
		ri.Headers.TryAdd("Accept", "application/json")
		em := abs.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue}
		if body != nil {
			ri.SetStreamContentAndContentType(body, "application/json")
			if err := e.adapter.SendNoContent(ctx, ri, em); err != nil {
				t.Fatal(describe(err))
			}
			return nil
		}
		raw, err := e.adapter.SendPrimitive(ctx, ri, "[]byte", em)
		if err != nil {
			t.Fatal(describe(err))
		}
		return raw.([]byte)
	}
	read := func() string {
		var got struct {
			Context         string `json:"@odata.context"`
			PerUserMfaState string `json:"perUserMfaState"`
		}
		dec := json.NewDecoder(bytes.NewReader(send(abs.GET, nil)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("strict decode: %v", err)
		}
		return got.PerUserMfaState
	}
	if got := read(); got != "enforced" {
		t.Fatalf("perUserMfaState = %q", got)
	}
	send(abs.PATCH, []byte(`{"perUserMfaState":"disabled"}`))
	if got := read(); got != "disabled" {
		t.Fatalf("after PATCH perUserMfaState = %q", got)
	}
}

func TestSDKBatch(t *testing.T) {
	e := newSDKEnv(t, smallSpec(), Options{})
	br := core.NewBatchRequest(e.adapter)
	var victim string
	for _, u := range e.t.Users() {
		if u.UserType == "Guest" {
			victim = u.ID
			break
		}
	}
	delInfo, err := e.client.Users().ByUserId(victim).ToDeleteRequestInformation(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	body := models.NewIdentitySecurityDefaultsEnforcementPolicy()
	off := false
	body.SetIsEnabled(&off)
	patchInfo, err := e.client.Policies().IdentitySecurityDefaultsEnforcementPolicy().ToPatchRequestInformation(ctx, body, nil)
	if err != nil {
		t.Fatal(err)
	}
	missInfo, _ := e.client.Users().ByUserId("missing").ToDeleteRequestInformation(ctx, nil)
	del := must[core.BatchItem](t, "add")(br.AddBatchRequestStep(*delInfo))
	patch := must[core.BatchItem](t, "add")(br.AddBatchRequestStep(*patchInfo))
	patch.DependsOnItem(del)
	miss := must[core.BatchItem](t, "add")(br.AddBatchRequestStep(*missInfo))
	after := must[core.BatchItem](t, "add")(br.AddBatchRequestStep(*missInfo))
	after.DependsOnItem(miss)
	resp, err := br.Send(ctx, e.adapter)
	if err != nil {
		t.Fatal(describe(err))
	}
	codes := resp.GetStatusCodes()
	if codes[*del.GetId()] != 204 || codes[*patch.GetId()] != 204 || codes[*miss.GetId()] != 404 || codes[*after.GetId()] != 424 {
		t.Fatalf("status codes = %v", codes)
	}
	if e.t.SecurityDefaults() || e.t.DeletedCount("user") != 1 {
		t.Fatal("batched writes not applied")
	}
}

// A gzip PATCH (kiota's compression handler) arrives with its body, through
// the whole pipeline; a hand-gzipped one too.
func TestSDKGzipPatch(t *testing.T) {
	e := newSDKEnv(t, smallSpec(), Options{})
	body := models.NewIdentitySecurityDefaultsEnforcementPolicy()
	off := false
	body.SetIsEnabled(&off)
	if _, err := e.client.Policies().IdentitySecurityDefaultsEnforcementPolicy().Patch(ctx, body, nil); err != nil {
		t.Fatal(describe(err))
	}
	if e.t.SecurityDefaults() {
		t.Fatal("SDK PATCH lost its body")
	}
	w := e.s.Writes()
	if len(w) != 1 || w[0].Property != "isEnabled" || w[0].Old != true || w[0].New != false {
		t.Fatalf("writes = %+v", w)
	}

	cred := secretCredential(t, e.s, e.t.ID, e.t.ClosebotAppID, e.secret)
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: graphScope})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(`{"@odata.type":"#microsoft.graph.organization","onPremisesSyncEnabled":false}`))
	_ = zw.Close()
	req, _ := http.NewRequest(http.MethodPatch, e.s.URL()+"/beta/organization/"+e.t.ID, &buf)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := e.s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 204 || e.t.SyncEnabled() {
		t.Fatalf("gzip PATCH organization = %d %s", resp.StatusCode, b)
	}
}
