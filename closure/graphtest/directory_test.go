package graphtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

var testEpoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// rawEnv is a directory without a listener: calls go straight to serve.
type rawEnv struct {
	s     *Server
	t     *Tenant
	clock *ManualClock
	p     *Principal
}

func newRawEnv(t *testing.T, spec TenantSpec, assumed Assumptions) *rawEnv {
	t.Helper()
	clock := NewManualClock(testEpoch)
	s := New(Options{Clock: clock, Assumed: assumed})
	tn := s.AddTenant(spec)
	return &rawEnv{s: s, t: tn, clock: clock, p: &Principal{TenantID: tn.ID, AppID: spec.ClosebotAppID, Roles: testAppRoles()}}
}

// testAppRoles are closebot's default roles plus the write permissions the
// emulator's own tests exercise beyond closebot's calls.
func testAppRoles() []string {
	return append(DefaultAppRoles(), "Policy.ReadWrite.SecurityDefaults", "Policy.ReadWrite.ConditionalAccess")
}

func (e *rawEnv) do(method, version, target, body string, hdr ...string) *httptest.ResponseRecorder {
	u, err := url.Parse(target)
	if err != nil {
		panic(err)
	}
	req := httptest.NewRequest(method, "https://127.0.0.1/"+version+target, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	gr := &graphRequest{
		Method: method, Version: version, Path: u.Path, Query: u.Query(), RawQuery: u.RawQuery,
		Header: req.Header, Body: []byte(body), Principal: e.p, Base: "https://127.0.0.1:1/" + version, http: req,
	}
	rec := httptest.NewRecorder()
	e.s.dir.serve(rec, gr)
	return rec
}

func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("decode %q: %v", rec.Body.String(), err)
	}
	return m
}

func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) map[string]any {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, status, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	e, _ := decode(t, rec)["error"].(map[string]any)
	if e["code"] != code || e["message"] == "" || e["innerError"] == nil {
		t.Fatalf("error = %v, want code %s", e, code)
	}
	return e
}

func values(t *testing.T, rec *httptest.ResponseRecorder) []any {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
	v, _ := decode(t, rec)["value"].([]any)
	return v
}

// plainUser is an ordinary cloud member without roles or restrictions.
func plainUser(t *testing.T, e *rawEnv) UserInfo {
	t.Helper()
	for _, u := range e.t.Users() {
		if u.UserType == "Member" && !u.Synced && !u.Restricted && len(u.Roles) == 0 && len(u.Eligible) == 0 && u.Enabled {
			return u
		}
	}
	t.Fatal("no plain user")
	return UserInfo{}
}

func smallSpec() TenantSpec {
	spec := DefaultTenantSpec(60)
	spec.Seed = 7
	return spec
}

func TestSeedIsDeterministicAndComplete(t *testing.T) {
	a := newRawEnv(t, smallSpec(), Assumptions{})
	b := newRawEnv(t, smallSpec(), Assumptions{})
	if a.t.ID != b.t.ID || fmt.Sprint(a.t.IDs("user")) != fmt.Sprint(b.t.IDs("user")) {
		t.Fatal("same seed gave different ids")
	}
	if got := a.t.Count("user"); got != 60 {
		t.Fatalf("users = %d, want 60", got)
	}
	k := a.t.KeptAdmin()
	if k.UPN != "admin@contoso.onmicrosoft.com" || len(k.Roles) != 1 || k.Roles[0] != RoleGlobalAdministrator {
		t.Fatalf("kept admin = %+v", k)
	}
	id, n, ok := a.s.dir.tenant("CONTOSO.onmicrosoft.com")
	if !ok || id != a.t.ID || n != 60 {
		t.Fatalf("tenant() = %s %d %v", id, n, ok)
	}
	if oid, ok := a.s.dir.user(a.t.ID, k.UPN); !ok || oid != k.ID {
		t.Fatalf("user() = %s %v", oid, ok)
	}
	for _, kind := range []string{"group", "device", "application", "servicePrincipal", "administrativeUnit", "subscription", "conditionalAccessPolicy", "ediscoveryCase"} {
		if a.t.Count(kind) == 0 {
			t.Errorf("no %s seeded", kind)
		}
	}
}

func TestUsersTopRange(t *testing.T) {
	e := newRawEnv(t, smallSpec(), Assumptions{})
	for _, top := range []string{"0", "1000", "x"} {
		err := wantError(t, e.do("GET", "v1.0", "/users?$top="+top, ""), 400, "Request_UnsupportedQuery")
		if want := "Invalid page size specified: '" + top + "'. Must be between 1 and 999 inclusive."; err["message"] != want {
			t.Errorf("message = %q", err["message"])
		}
	}
}

func TestUsersPagingNextLink(t *testing.T) {
	e := newRawEnv(t, smallSpec(), Assumptions{})
	target := "/users?$select=id,userPrincipalName&$top=7"
	seen := map[string]bool{}
	for pages := 0; target != ""; pages++ {
		rec := e.do("GET", "v1.0", target, "")
		m := decode(t, rec)
		for _, v := range m["value"].([]any) {
			u := v.(map[string]any)
			if len(u) != 2 {
				t.Fatalf("$select not applied: %v", u)
			}
			seen[u["id"].(string)] = true
		}
		next, _ := m["@odata.nextLink"].(string)
		target = ""
		if next != "" {
			if !strings.HasPrefix(next, "https://127.0.0.1:1/v1.0/users?") || !strings.Contains(next, "$skiptoken=") {
				t.Fatalf("nextLink = %s", next)
			}
			target = strings.TrimPrefix(next, "https://127.0.0.1:1/v1.0")
		}
		if pages > 20 {
			t.Fatal("too many pages")
		}
	}
	if len(seen) != 60 {
		t.Fatalf("paged %d users, want 60", len(seen))
	}
}

func TestUsersFilters(t *testing.T) {
	spec := smallSpec()
	e := newRawEnv(t, spec, Assumptions{})
	k := e.t.KeptAdmin()
	ids := e.t.IDs("user")
	cases := map[string]int{
		"userType eq 'Guest'":                              spec.Guests,
		"userType eq 'Member'":                             60 - spec.Guests,
		"onPremisesSyncEnabled eq true":                    spec.Synced,
		"accountEnabled eq false":                          spec.Disabled,
		"userPrincipalName eq '" + k.UPN + "'":             1,
		fmt.Sprintf("id in ('%s', '%s')", ids[0], ids[1]):  2,
		"userType eq 'Member' and accountEnabled eq false": spec.Disabled,
	}
	for f, want := range cases {
		got := values(t, e.do("GET", "v1.0", "/users?$top=999&$filter="+url.QueryEscape(f), ""))
		if len(got) != want {
			t.Errorf("%s: %d users, want %d", f, len(got), want)
		}
	}
	wantError(t, e.do("GET", "v1.0", "/users?$filter="+url.QueryEscape("jobTitle eq 'CEO'"), ""), 400, "Request_UnsupportedQuery")
	wantError(t, e.do("GET", "v1.0", "/users?$filter="+url.QueryEscape("startswith(displayName,'A')"), ""), 400, "Request_UnsupportedQuery")
}

func TestCountNeedsConsistencyLevel(t *testing.T) {
	e := newRawEnv(t, smallSpec(), Assumptions{})
	wantError(t, e.do("GET", "v1.0", "/users?$count=true", ""), 400, "Request_BadRequest")
	m := decode(t, e.do("GET", "v1.0", "/users?$count=true&$top=5", "", "ConsistencyLevel", "eventual"))
	if m["@odata.count"] != float64(60) {
		t.Fatalf("@odata.count = %v", m["@odata.count"])
	}
	rec := e.do("GET", "v1.0", "/groups/$count?$filter="+url.QueryEscape("groupTypes/any(c:c eq 'Unified')"), "", "ConsistencyLevel", "eventual")
	if rec.Code != 200 || rec.Body.String() != fmt.Sprint(smallSpec().M365Groups) {
		t.Fatalf("groups/$count = %d %q", rec.Code, rec.Body.String())
	}
}

func TestDeleteUserRules(t *testing.T) {
	spec := smallSpec()
	spec.ClosebotRoles = nil
	e := newRawEnv(t, spec, Assumptions{})
	var synced, restricted, admin, plain UserInfo
	for _, u := range e.t.Users() {
		switch {
		case u.Synced:
			synced = u
		case u.Restricted:
			restricted = u
		case len(u.Roles) > 0 && u.ID != e.t.KeptAdmin().ID:
			admin = u
		case u.UserType == "Member" && plain.ID == "":
			plain = u
		}
	}
	wantError(t, e.do("DELETE", "v1.0", "/users/"+synced.ID, ""), 400, "Request_BadRequest")
	wantError(t, e.do("DELETE", "v1.0", "/users/"+restricted.ID, ""), 403, "Authorization_RequestDenied")
	wantError(t, e.do("DELETE", "v1.0", "/users/"+admin.ID, ""), 403, "Authorization_RequestDenied")
	if rec := e.do("DELETE", "v1.0", "/users/"+plain.UPN, ""); rec.Code != 204 {
		t.Fatalf("delete plain = %d %s", rec.Code, rec.Body.String())
	}
	wantError(t, e.do("DELETE", "v1.0", "/users/"+plain.ID, ""), 404, "Request_ResourceNotFound")

	// Switches: the same deletes succeed when the assumptions are flipped.
	e2 := newRawEnv(t, spec, Assumptions{SyncedUserDeletable: true, RestrictedAUMembersDeletable: true, AdminDeleteWithoutPrivilegedRole: true})
	for _, id := range []string{synced.ID, restricted.ID, admin.ID} {
		if rec := e2.do("DELETE", "v1.0", "/users/"+id, ""); rec.Code != 204 {
			t.Errorf("switched delete %s = %d", id, rec.Code)
		}
	}
	// With Privileged Authentication Administrator on closebot's SP, admins go.
	e3 := newRawEnv(t, smallSpec(), Assumptions{})
	if rec := e3.do("DELETE", "v1.0", "/users/"+admin.ID, ""); rec.Code != 204 {
		t.Errorf("delete admin with PAA = %d %s", rec.Code, rec.Body.String())
	}
}

func TestSyncOffAndConversion(t *testing.T) {
	spec := smallSpec()
	spec.SyncConversionDelay = 2 * time.Hour
	e := newRawEnv(t, spec, Assumptions{})
	org := values(t, e.do("GET", "v1.0", "/organization", ""))[0].(map[string]any)
	if org["onPremisesSyncEnabled"] != true || org["tenantType"] != "AAD" {
		t.Fatalf("org = %v", org)
	}
	if rec := e.do("PATCH", "beta", "/organization/"+e.t.ID, `{"@odata.type":"#microsoft.graph.organization","onPremisesSyncEnabled":false}`); rec.Code != 204 {
		t.Fatalf("patch = %d %s", rec.Code, rec.Body.String())
	}
	w := e.s.Writes()
	if len(w) != 1 || w[0].Property != "onPremisesSyncEnabled" || w[0].Old != true || w[0].New != false {
		t.Fatalf("writes = %+v", w)
	}
	if n := len(values(t, e.do("GET", "v1.0", "/users?$top=999&$filter=onPremisesSyncEnabled%20eq%20true", ""))); n != spec.Synced {
		t.Fatalf("synced right after sync-off = %d", n)
	}
	e.clock.Advance(2 * time.Hour)
	if n := len(values(t, e.do("GET", "v1.0", "/users?$top=999&$filter=onPremisesSyncEnabled%20eq%20true", ""))); n != 0 {
		t.Fatalf("synced after conversion = %d", n)
	}

	ro := newRawEnv(t, spec, Assumptions{V1SyncReadOnly: true})
	e1 := wantError(t, ro.do("PATCH", "v1.0", "/organization/"+ro.t.ID, `{"onPremisesSyncEnabled":false}`), 400, "Request_BadRequest")
	if e1["message"] != "Property 'onPremisesSyncEnabled' is read-only and cannot be set." {
		t.Errorf("message = %v", e1["message"])
	}
	_ = ro.t.SetSyncOffRefused(true)
	wantError(t, ro.do("PATCH", "beta", "/organization/"+ro.t.ID, `{"onPremisesSyncEnabled":false}`), 403, "Authorization_RequestDenied")
}

func TestDeletedItemsRetention(t *testing.T) {
	e := newRawEnv(t, smallSpec(), Assumptions{})
	u := plainUser(t, e)
	if rec := e.do("DELETE", "v1.0", "/users/"+u.ID, ""); rec.Code != 204 {
		t.Fatalf("delete = %d", rec.Code)
	}
	for _, cast := range []string{"graph.user", "microsoft.graph.user"} {
		got := values(t, e.do("GET", "v1.0", "/directory/deletedItems/"+cast, ""))
		if len(got) != 1 || got[0].(map[string]any)["@odata.type"] != "#microsoft.graph.user" {
			t.Fatalf("%s = %v", cast, got)
		}
	}
	e.clock.Advance(deletedRetention)
	wantError(t, e.do("GET", "v1.0", "/directory/deletedItems/"+u.ID, ""), 404, "Request_ResourceNotFound")
}

func TestRoleAssignmentsExpandPrincipal(t *testing.T) {
	e := newRawEnv(t, smallSpec().WithP2(1), Assumptions{})
	q := "/roleManagement/directory/roleAssignments?$filter=" + url.QueryEscape("roleDefinitionId eq '"+RoleGlobalAdministrator+"'") + "&$expand=principal"
	got := values(t, e.do("GET", "v1.0", q, ""))
	if len(got) != 2 {
		t.Fatalf("GA assignments = %d, want 2", len(got))
	}
	for _, v := range got {
		p := v.(map[string]any)["principal"].(map[string]any)
		if p["@odata.type"] != "#microsoft.graph.user" {
			t.Errorf("principal = %v", p)
		}
	}
	inst := values(t, e.do("GET", "v1.0", "/roleManagement/directory/roleAssignmentScheduleInstances?$filter="+
		url.QueryEscape("roleDefinitionId eq '"+RoleGlobalAdministrator+"' and principalId eq '"+e.t.KeptAdmin().ID+"'"), ""))
	if len(inst) != 1 {
		t.Fatalf("kept admin instances = %v", inst)
	}
	i := inst[0].(map[string]any)
	if i["assignmentType"] != "Assigned" || i["memberType"] != "Direct" || i["endDateTime"] != nil {
		t.Errorf("instance = %v", i)
	}
	// $select does not drop an $expand-ed navigation property.
	sel := values(t, e.do("GET", "v1.0", "/roleManagement/directory/roleAssignmentScheduleInstances?$select=id,principalId&$expand=principal", ""))
	for _, v := range sel {
		m := v.(map[string]any)
		if _, ok := m["principal"].(map[string]any); !ok || m["assignmentType"] != nil {
			t.Errorf("$select=id,principalId&$expand=principal gave %v", m)
		}
	}
	if el := values(t, e.do("GET", "v1.0", "/roleManagement/directory/roleEligibilityScheduleInstances?$expand=principal", "")); len(el) != 1 {
		t.Errorf("eligibility = %v", el)
	}
	members := values(t, e.do("GET", "v1.0", "/directoryRoles/roleTemplateId="+RoleGlobalAdministrator+"/members", ""))
	if len(members) != 2 {
		t.Errorf("GA members = %d", len(members))
	}
}

func TestSubscriptionLifecycle(t *testing.T) {
	e := newRawEnv(t, smallSpec(), Assumptions{})
	subs := e.t.Subscriptions()
	var direct, mca SubscriptionInfo
	for _, s := range subs {
		if s.Status == "Enabled" && s.Channel == "direct" {
			direct = s
		}
		if s.Channel == "mca" {
			mca = s
		}
	}
	if err := e.t.CancelSubscription(direct.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.t.CancelSubscription(mca.ID); err != nil {
		t.Fatal(err)
	}
	get := func(id string) map[string]any {
		return decode(t, e.do("GET", "v1.0", "/directory/subscriptions/"+id, ""))
	}
	if s := get(direct.ID); s["status"] != "Suspended" || s["nextLifecycleDateTime"] != stamp(testEpoch.Add(disabledPeriod)) {
		t.Fatalf("cancelled direct = %v", s)
	}
	if s := get(mca.ID); s["status"] != "Enabled" {
		t.Fatalf("cancelled mca = %v", s)
	}
	if err := e.t.DeleteSubscription(direct.ID); err != nil {
		t.Fatal(err)
	}
	if s := get(direct.ID); s["status"] != "Deleted" {
		t.Fatalf("deleted = %v", s)
	}
	e.clock.Advance(deprovisioning)
	wantError(t, e.do("GET", "v1.0", "/directory/subscriptions/"+direct.ID, ""), 404, "Request_ResourceNotFound")
	e.clock.Advance(366 * 24 * time.Hour) // past the MCA term end: expired (Warning) for 30 days
	if s := get(mca.ID); s["status"] != "Warning" {
		t.Fatalf("mca after a year = %v", s)
	}
	// CSP subscriptions name the partner's tenant.
	for _, v := range values(t, e.do("GET", "v1.0", "/directory/subscriptions", "")) {
		s := v.(map[string]any)
		if s["skuPartNumber"] == "SPE_E5" && s["ownerTenantId"] == e.t.ID {
			t.Errorf("CSP subscription owned by the tenant: %v", s)
		}
	}
}

func TestBatchRules(t *testing.T) {
	e := newRawEnv(t, smallSpec(), Assumptions{})
	var items []string
	for i := 0; i < 21; i++ {
		items = append(items, fmt.Sprintf(`{"id":"%d","method":"GET","url":"/users/x"}`, i))
	}
	wantError(t, e.do("POST", "v1.0", "/$batch", `{"requests":[`+strings.Join(items, ",")+`]}`), 400, "BadRequest")
	wantError(t, e.do("POST", "v1.0", "/$batch", `{"requests":[{"id":"1","method":"GET","url":"/users"},{"id":"1","method":"GET","url":"/users"}]}`), 400, "BadRequest")
	u := plainUser(t, e)
	body := `{"requests":[
	 {"id":"a","method":"DELETE","url":"/users/missing","headers":{"accept":"application/json"},"body":null,"dependsOn":[]},
	 {"id":"b","method":"GET","url":"/users/` + u.ID + `?$select=id","dependsOn":["a"]},
	 {"id":"c","method":"PATCH","url":"/policies/identitySecurityDefaultsEnforcementPolicy","headers":{"content-type":"application/json"},"body":{"isEnabled":false}},
	 {"id":"d","method":"GET","url":"/users/` + u.ID + `"}]}`
	rec := e.do("POST", "v1.0", "/$batch", body)
	if rec.Code != 200 {
		t.Fatalf("batch = %d %s", rec.Code, rec.Body.String())
	}
	got := map[string]float64{}
	for _, r := range decode(t, rec)["responses"].([]any) {
		m := r.(map[string]any)
		got[m["id"].(string)] = m["status"].(float64)
		for _, hv := range m["headers"].(map[string]any) {
			if _, ok := hv.(string); !ok {
				t.Errorf("non-string header %v", hv)
			}
		}
	}
	want := map[string]float64{"a": 404, "b": 424, "c": 204, "d": 200}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("statuses = %v, want %v", got, want)
	}
	if e.t.SecurityDefaults() {
		t.Error("batched PATCH not applied")
	}
}

func TestHumanActionsAndTenantDeletion(t *testing.T) {
	e := newRawEnv(t, func() TenantSpec { s := smallSpec(); s.LegalHold = true; return s }(), Assumptions{})
	cs := values(t, e.do("GET", "v1.0", "/security/cases/ediscoveryCases/"+e.t.CaseIDs()[0]+"/custodians", ""))
	if cs[0].(map[string]any)["holdStatus"] != "applied" {
		t.Fatalf("custodian = %v", cs[0])
	}
	if err := e.t.ReleaseHold(e.t.CaseIDs()[0]); err != nil {
		t.Fatal(err)
	}
	cs = values(t, e.do("GET", "v1.0", "/security/cases/ediscoveryCases/"+e.t.CaseIDs()[0]+"/custodians", ""))
	if cs[0].(map[string]any)["holdStatus"] != "notApplied" {
		t.Fatalf("released custodian = %v", cs[0])
	}
	if err := e.t.DeleteTenant(false); err == nil {
		t.Fatal("tenant with users deleted without force")
	}
	if err := e.t.RemoveClosebotApp(false); err != nil {
		t.Fatal(err)
	}
	if err := e.t.DeleteTenant(true); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := e.s.dir.tenant(e.t.ID); ok {
		t.Fatal("deleted tenant still resolves")
	}
	wantError(t, e.do("GET", "v1.0", "/users", ""), 401, "InvalidAuthenticationToken")
}

func TestUnknownSegmentAndMethod(t *testing.T) {
	e := newRawEnv(t, smallSpec(), Assumptions{})
	wantError(t, e.do("GET", "v1.0", "/users/x/authentication/requirements", ""), 400, "BadRequest")
	wantError(t, e.do("PUT", "v1.0", "/users/x", ""), 405, "Request_BadRequest")
	if rec := e.do("GET", "beta", "/users/"+e.t.KeptAdmin().ID+"/authentication/requirements", ""); rec.Code != 200 {
		t.Fatalf("beta requirements = %d", rec.Code)
	}
}

func TestAssignRoleMakesAnotherGlobalAdmin(t *testing.T) {
	e := newRawEnv(t, smallSpec(), Assumptions{})
	var member UserInfo
	for _, u := range e.t.Users() {
		if u.UserType == "Member" && len(u.Roles) == 0 && !u.Synced {
			member = u
			break
		}
	}
	if err := e.t.AssignRole(member.UPN, RoleGlobalAdministrator); err != nil {
		t.Fatal(err)
	}
	q := "/roleManagement/directory/roleAssignments?$filter=" + url.QueryEscape("principalId eq '"+member.ID+"'")
	if got := values(t, e.do("GET", "v1.0", q, "")); len(got) != 1 || got[0].(map[string]any)["roleDefinitionId"] != RoleGlobalAdministrator {
		t.Errorf("assignments of %s after AssignRole = %v", member.UPN, got)
	}
	if err := e.t.AssignRole("nobody@example.com", RoleGlobalAdministrator); !errors.Is(err, ErrNotFound) {
		t.Errorf("AssignRole of an unknown user = %v", err)
	}
}

func TestRenameUserKeepsTheID(t *testing.T) {
	e := newRawEnv(t, smallSpec(), Assumptions{})
	kept := e.t.KeptAdmin()
	renamed := "renamed@" + e.t.Domain
	if err := e.t.RenameUser(kept.UPN, renamed); err != nil {
		t.Fatal(err)
	}
	wantError(t, e.do("GET", "v1.0", "/users/"+kept.UPN, ""), 404, "Request_ResourceNotFound")
	if got := decode(t, e.do("GET", "v1.0", "/users/"+kept.ID, "")); got["userPrincipalName"] != renamed {
		t.Errorf("renamed user by id = %v", got["userPrincipalName"])
	}
	if e.t.KeptAdmin().UPN != renamed {
		t.Errorf("KeptAdmin().UPN = %s", e.t.KeptAdmin().UPN)
	}
	other := ""
	for _, u := range e.t.Users() {
		if u.ID != kept.ID {
			other = u.UPN
			break
		}
	}
	if err := e.t.RenameUser(other, renamed); err == nil {
		t.Error("a UPN in use was given to another user")
	}
}
