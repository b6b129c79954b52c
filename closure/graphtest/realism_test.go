package graphtest

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLicenceMixesDecideFeatures(t *testing.T) {
	cases := []struct {
		name string
		subs []SubscriptionSpec
		want []string
	}{
		{"business standard", BusinessStandard(10), nil},
		{"E3 with Office 365 E5", E3WithOffice365E5(10), []string{FeatureEntraP1, FeatureEDiscoveryPremium}},
		{"E5", E5(10), []string{FeatureEntraP1, FeatureEntraP2, FeatureEDiscoveryPremium}},
		{"P1 and governance", []SubscriptionSpec{{SkuPartNumber: "AAD_PREMIUM"}, {SkuPartNumber: "Microsoft_Entra_ID_Governance"}},
			[]string{FeatureEntraP1, FeatureEntraP2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := smallSpec()
			spec.Subscriptions = tc.subs
			e := newRawEnv(t, spec, Assumptions{})
			got := e.t.Features()
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("features = %v, want %v", got, want)
			}
		})
	}
}

func TestDefaultSeedHasNoP2(t *testing.T) {
	e := newRawEnv(t, DefaultTenantSpec(60), Assumptions{})
	if slices.Contains(e.t.Features(), FeatureEntraP2) {
		t.Fatal("the default seed must not hold Entra ID P2")
	}
	for _, u := range e.t.Users() {
		if len(u.Eligible) > 0 {
			t.Fatalf("eligible assignment without P2: %+v", u)
		}
	}
	spec := DefaultTenantSpec(60)
	spec.EligibleGlobalAdmins = 1
	if err := spec.Validate(); err == nil {
		t.Fatal("eligible admins without P2 must be refused")
	}
	if err := DefaultTenantSpec(60).WithP2(1).Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestUnlicensedRoutesAnswerDocumentedCodes(t *testing.T) {
	spec := smallSpec()
	spec.Subscriptions = BusinessStandard(10)
	e := newRawEnv(t, spec, Assumptions{})
	for _, p := range []string{"/roleManagement/directory/roleAssignmentScheduleInstances", "/roleManagement/directory/roleEligibilityScheduleInstances"} {
		err := wantError(t, e.do("GET", "v1.0", p, ""), 400, "AadPremiumLicenseRequired")
		if err["message"] != pimUnlicensedMessage {
			t.Errorf("%s: message %q", p, err["message"])
		}
	}
	wantError(t, e.do("GET", "v1.0", "/identity/conditionalAccess/policies", ""), 403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant")
	wantError(t, e.do("GET", "v1.0", "/security/cases/ediscoveryCases", ""), 403, "Forbidden")
	// Role assignments answer on every licence.
	if got := values(t, e.do("GET", "v1.0", "/roleManagement/directory/roleAssignments?$expand=principal", "")); len(got) == 0 {
		t.Fatal("no role assignments")
	}
	lenient := newRawEnv(t, spec, Assumptions{EDiscoveryWithoutPremium: true})
	values(t, lenient.do("GET", "v1.0", "/security/cases/ediscoveryCases", ""))
}

func TestDeletingTheP2SubscriptionRemovesPIM(t *testing.T) {
	e := newRawEnv(t, smallSpec().WithP2(1), Assumptions{})
	const pim = "/roleManagement/directory/roleEligibilityScheduleInstances"
	if got := values(t, e.do("GET", "v1.0", pim, "")); len(got) != 1 {
		t.Fatalf("eligible = %d", len(got))
	}
	for _, s := range e.t.Subscriptions() {
		if s.SkuPartNumber != "SPE_E5" {
			continue
		}
		if err := e.t.CancelSubscription(s.ID); err != nil {
			t.Fatal(err)
		}
		// Suspended (the admin center's Disabled) keeps features.
		values(t, e.do("GET", "v1.0", pim, ""))
		if err := e.t.DeleteSubscription(s.ID); err != nil {
			t.Fatal(err)
		}
	}
	wantError(t, e.do("GET", "v1.0", pim, ""), 400, "AadPremiumLicenseRequired")
	// Office 365 E5 has no Entra ID P1: conditional access goes too.
	wantError(t, e.do("GET", "v1.0", "/identity/conditionalAccess/policies", ""), 403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant")
}

func TestEveryRouteChecksItsApplicationPermission(t *testing.T) {
	e := newRawEnv(t, smallSpec().WithP2(1), Assumptions{})
	user := plainUser(t, e).ID
	cases := []struct{ method, version, path, perm string }{
		{"GET", "v1.0", "/users", "User.ReadWrite.All"},
		{"GET", "v1.0", "/users/" + user, "User.ReadWrite.All"},
		{"DELETE", "v1.0", "/users/" + user, "User.ReadWrite.All"},
		{"GET", "v1.0", "/organization", "Organization.ReadWrite.All"},
		{"GET", "v1.0", "/directory/subscriptions", "Organization.ReadWrite.All"},
		{"GET", "v1.0", "/domains", "Domain.Read.All"},
		{"GET", "v1.0", "/roleManagement/directory/roleAssignments", "RoleManagement.Read.Directory"},
		{"GET", "v1.0", "/roleManagement/directory/roleAssignmentScheduleInstances", "RoleManagement.Read.Directory"},
		{"GET", "v1.0", "/roleManagement/directory/roleEligibilityScheduleInstances", "RoleManagement.Read.Directory"},
		{"GET", "v1.0", "/directory/administrativeUnits", "AdministrativeUnit.Read.All"},
		{"GET", "v1.0", "/users/" + user + "/authentication/methods", "UserAuthenticationMethod.Read.All"},
		{"GET", "v1.0", "/policies/identitySecurityDefaultsEnforcementPolicy", "Policy.Read.All"},
		{"GET", "v1.0", "/identity/conditionalAccess/policies", "Policy.Read.All"},
		{"GET", "v1.0", "/devices/$count", "Device.Read.All"},
		{"GET", "v1.0", "/groups/$count", "GroupMember.Read.All"},
		{"GET", "v1.0", "/security/cases/ediscoveryCases", "eDiscovery.Read.All"},
		{"GET", "v1.0", "/applications", "Application.ReadWrite.All"},
		{"GET", "v1.0", "/servicePrincipals", "Application.ReadWrite.All"},
		{"GET", "v1.0", "/directory/deletedItems/microsoft.graph.user", "User.ReadWrite.All"},
	}
	for _, tc := range cases {
		e.p.Roles = nil
		for _, r := range DefaultAppRoles() {
			if r != tc.perm {
				e.p.Roles = append(e.p.Roles, r)
			}
		}
		hdr := []string{"ConsistencyLevel", "eventual"}
		err := wantError(t, e.do(tc.method, tc.version, tc.path, "", hdr...), 403, "Authorization_RequestDenied")
		if err["message"] != "Insufficient privileges to complete the operation." {
			t.Errorf("%s %s: message %q", tc.method, tc.path, err["message"])
		}
		e.p.Roles = DefaultAppRoles()
		if rec := e.do(tc.method, tc.version, tc.path, "", hdr...); rec.Code == 403 {
			t.Errorf("%s %s refused with the default roles: %s", tc.method, tc.path, rec.Body.String())
		}
	}
	// Per-user MFA reads accept Policy.ReadWrite.AuthenticationMethod too
	// (authentication-get-3-permissions: higher privileged).
	e.p.Roles = []string{"Policy.ReadWrite.AuthenticationMethod"}
	if rec := e.do("GET", "beta", "/users/"+e.t.KeptAdmin().ID+"/authentication/requirements", ""); rec.Code != 200 {
		t.Fatalf("requirements with Policy.ReadWrite.AuthenticationMethod = %d", rec.Code)
	}
	e.p.Roles = []string{"Domain.Read.All"}
	wantError(t, e.do("GET", "beta", "/users/"+e.t.KeptAdmin().ID+"/authentication/requirements", ""), 403, "Authorization_RequestDenied")
	// Restore and purge of users need User.DeleteRestore.All.
	e.p.Roles = DefaultAppRoles()
	if rec := e.do("DELETE", "v1.0", "/users/"+user, ""); rec.Code != 404 {
		t.Fatalf("the user was deleted in the loop: %d", rec.Code)
	}
	e.p.Roles = slices.DeleteFunc(DefaultAppRoles(), func(r string) bool { return r == "User.DeleteRestore.All" })
	wantError(t, e.do("POST", "v1.0", "/directory/deletedItems/"+user+"/restore", ""), 403, "Authorization_RequestDenied")
	wantError(t, e.do("DELETE", "v1.0", "/directory/deletedItems/"+user, ""), 403, "Authorization_RequestDenied")
	e.p.Roles = DefaultAppRoles()
	if rec := e.do("DELETE", "v1.0", "/directory/deletedItems/"+user, ""); rec.Code != 204 {
		t.Fatalf("purge: %d %s", rec.Code, rec.Body.String())
	}
}

func TestGrantAndRevokeAppRoles(t *testing.T) {
	s := New(Options{})
	s.RevokeAppRole("t", "c", "Domain.Read.All")
	if slices.Contains(s.AppRoles("t", "c"), "Domain.Read.All") || len(s.AppRoles("t", "c")) != len(defaultAppRoles)-1 {
		t.Fatalf("roles = %v", s.AppRoles("t", "c"))
	}
	s.GrantAppRole("t", "c", "Domain.Read.All", "Policy.ReadWrite.ConditionalAccess")
	if got := s.AppRoles("t", "c"); !slices.Contains(got, "Domain.Read.All") || !slices.Contains(got, "Policy.ReadWrite.ConditionalAccess") {
		t.Fatalf("roles = %v", got)
	}
}

func TestReplicationLagKeepsDeletedUsersListed(t *testing.T) {
	e := newRawEnv(t, smallSpec(), Assumptions{})
	e.s.SetReplicationLag(2 * time.Minute)
	u := plainUser(t, e)
	if rec := e.do("DELETE", "v1.0", "/users/"+u.ID, ""); rec.Code != 204 {
		t.Fatalf("delete: %d", rec.Code)
	}
	listed := func() bool {
		for _, v := range values(t, e.do("GET", "v1.0", "/users?$select=id&$top=999", "")) {
			if v.(map[string]any)["id"] == u.ID {
				return true
			}
		}
		return false
	}
	if !listed() {
		t.Fatal("a user deleted a moment ago should still be listed")
	}
	// By-id reads and re-deletes see the truth (404: the delete is done).
	wantError(t, e.do("GET", "v1.0", "/users/"+u.ID, ""), 404, "Request_ResourceNotFound")
	wantError(t, e.do("DELETE", "v1.0", "/users/"+u.ID, ""), 404, "Request_ResourceNotFound")
	e.clock.Advance(2 * time.Minute)
	if listed() {
		t.Fatal("still listed after the lag")
	}
	byID := newRawEnv(t, smallSpec(), Assumptions{ReplicationLagByID: true})
	byID.s.SetReplicationLag(time.Minute)
	v := plainUser(t, byID)
	byID.do("DELETE", "v1.0", "/users/"+v.ID, "")
	if rec := byID.do("GET", "v1.0", "/users/"+v.ID, ""); rec.Code != 200 {
		t.Fatalf("by-id read under ReplicationLagByID = %d", rec.Code)
	}
}

func TestReplicationLagKeepsRoleAssignmentsOfDeletedPrincipals(t *testing.T) {
	e := newRawEnv(t, smallSpec(), Assumptions{AdminDeleteWithoutPrivilegedRole: true})
	e.s.SetReplicationLag(time.Minute)
	var ga UserInfo
	for _, u := range e.t.Users() {
		if slices.Contains(u.Roles, RoleGlobalAdministrator) && u.ID != e.t.KeptAdmin().ID {
			ga = u
		}
	}
	e.do("DELETE", "v1.0", "/users/"+ga.ID, "")
	q := "/roleManagement/directory/roleAssignments?$expand=principal&$filter=" + url.QueryEscape("principalId eq '"+ga.ID+"'")
	if got := values(t, e.do("GET", "v1.0", q, "")); len(got) != 1 {
		t.Fatalf("assignments of a just-deleted GA = %d, want 1 under lag", len(got))
	}
	e.clock.Advance(time.Minute)
	if got := values(t, e.do("GET", "v1.0", q, "")); len(got) != 0 {
		t.Fatalf("assignments after the lag = %d", len(got))
	}
}

func TestHoldSourcesAndPolicies(t *testing.T) {
	spec := smallSpec()
	spec.NoncustodialHold, spec.HoldPolicy = true, true
	e := newRawEnv(t, spec, Assumptions{})
	caseID := e.t.CaseIDs()[0]
	ds := values(t, e.do("GET", "v1.0", "/security/cases/ediscoveryCases/"+caseID+"/noncustodialDataSources", ""))
	if len(ds) != 1 || ds[0].(map[string]any)["holdStatus"] != "applied" {
		t.Fatalf("non-custodial sources = %v", ds)
	}
	pol := values(t, e.do("GET", "v1.0", "/security/cases/ediscoveryCases/"+caseID+"/legalHolds", ""))
	if len(pol) != 1 || pol[0].(map[string]any)["isEnabled"] != true || pol[0].(map[string]any)["status"] != "success" {
		t.Fatalf("hold policies = %v", pol)
	}
	if err := e.t.SetHold(caseID, HoldPolicy, "removing"); err != nil {
		t.Fatal(err)
	}
	pol = values(t, e.do("GET", "v1.0", "/security/cases/ediscoveryCases/"+caseID+"/legalHolds", ""))
	if p := pol[0].(map[string]any); p["isEnabled"] != false || p["status"] != "pending" {
		t.Fatalf("removing policy = %v", p)
	}
	if err := e.t.ReleaseHold(caseID); err != nil {
		t.Fatal(err)
	}
	ds = values(t, e.do("GET", "v1.0", "/security/cases/ediscoveryCases/"+caseID+"/noncustodialDataSources", ""))
	if ds[0].(map[string]any)["holdStatus"] != "notApplied" {
		t.Fatalf("released source = %v", ds[0])
	}
}

func TestDeleteTenantRefusedWhileBlockersRemain(t *testing.T) {
	spec := smallSpec()
	spec.Subscriptions = append(spec.Subscriptions, SubscriptionSpec{SkuPartNumber: "POWER_BI_STANDARD", SelfService: true, Licenses: 1000000})
	spec.LinkedAzureSubscription = true
	e := newRawEnv(t, spec, Assumptions{})
	subs := values(t, e.do("GET", "v1.0", "/directory/subscriptions", ""))
	selfService := ""
	for _, v := range subs {
		s := v.(map[string]any)
		if s["skuPartNumber"] == "POWER_BI_STANDARD" {
			if s["ownerType"] != "User" {
				t.Fatalf("self-service product = %v", s)
			}
			selfService = s["id"].(string)
		}
	}
	checks := strings.Join(e.t.DeleteTenantChecks(), "\n")
	for _, want := range []string{"Users:", "Applications:", "Enterprise applications: Fabrikam SaaS 1", "Enterprise applications: Northwind Connector 1",
		"Enterprise applications: Legacy app 1", "Subscriptions: SPE_E3", "Self-service sign-up products: POWER_BI_STANDARD", "Azure subscriptions:"} {
		if !strings.Contains(checks, want) {
			t.Errorf("checks lack %q:\n%s", want, checks)
		}
	}
	if strings.Contains(checks, "Microsoft Graph (") {
		t.Error("Microsoft's own service principals do not block")
	}
	if err := e.t.DeleteTenant(false); err == nil {
		t.Fatal("delete tenant must be refused")
	}
	// The undeletable third-party SP refuses deletion; disabling clears it.
	for _, v := range values(t, e.do("GET", "v1.0", "/servicePrincipals?$top=999", "")) {
		sp := v.(map[string]any)
		if sp["displayName"] == "Northwind Connector 1" {
			wantError(t, e.do("DELETE", "v1.0", "/servicePrincipals/"+sp["id"].(string), ""), 403, "Authorization_RequestDenied")
			if rec := e.do("PATCH", "v1.0", "/servicePrincipals/"+sp["id"].(string), `{"accountEnabled":false}`); rec.Code != 204 {
				t.Fatalf("disable: %d %s", rec.Code, rec.Body.String())
			}
		}
	}
	if strings.Contains(strings.Join(e.t.DeleteTenantChecks(), "\n"), "Northwind Connector 1") {
		t.Error("a disabled service principal no longer blocks")
	}
	if err := e.t.DeleteSelfServiceProduct(selfService); err != nil {
		t.Fatal(err)
	}
	if err := e.t.RemoveAzureSubscription(); err != nil {
		t.Fatal(err)
	}
	checks = strings.Join(e.t.DeleteTenantChecks(), "\n")
	if strings.Contains(checks, "Azure subscriptions:") {
		t.Errorf("Azure still blocks:\n%s", checks)
	}
	if !strings.Contains(checks, "Self-service sign-up products: POWER_BI_STANDARD") {
		t.Error("a deleted self-service product blocks until deprovisioned (72 h)")
	}
	e.clock.Advance(73 * time.Hour)
	if strings.Contains(strings.Join(e.t.DeleteTenantChecks(), "\n"), "Self-service") {
		t.Error("deprovisioned self-service product still blocks")
	}
}

func TestPerUserMFAUnknownFutureValue(t *testing.T) {
	spec := smallSpec()
	spec.PerUserMFAUnknown = 1
	e := newRawEnv(t, spec, Assumptions{})
	found := false
	for _, u := range e.t.Users() {
		if u.MFAState == "unknownFutureValue" {
			found = true
			m := decode(t, e.do("GET", "beta", "/users/"+u.ID+"/authentication/requirements", ""))
			if m["perUserMfaState"] != "unknownFutureValue" {
				t.Fatalf("requirements = %v", m)
			}
		}
	}
	if !found {
		t.Fatal("no user seeded with unknownFutureValue")
	}
}
