package graphtest

// Seeding: tenants of any size, built deterministically from a seed, with
// every kind of object closebot's preflight and plan read (DESIGN §5).

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// SubscriptionSpec seeds one /directory/subscriptions item.
type SubscriptionSpec struct {
	SkuPartNumber string // e.g. ENTERPRISEPACK
	SkuID         string // "" → derived
	Channel       string // "direct" (default), "csp" or "mca"
	Status        string // Enabled (default), Warning, Suspended, LockedOut, Deleted
	Licenses      int
	Consumed      int
	Trial         bool
	PartnerTenant string        // CSP: the partner's tenant id ("" → derived)
	NextLifecycle time.Duration // from seeding time; 0 → one year (Enabled) or the state's period
	// SelfService marks a self-service sign-up product (e.g.
	// POWER_BI_STANDARD, FLOW_FREE): a user signed up, so ownerType is
	// "User" and ownerId that user; it is removed under Entra admin center
	// → Licenses → Self-service sign-up products (DeleteSelfServiceProduct).
	SelfService bool
}

// TenantSpec describes a tenant to seed. Counts are of users on top of the
// kept admin; zero values mean "none" except where noted.
type TenantSpec struct {
	Seed             uint64 // same seed, same ids
	ID               string // "" → derived from Seed
	Name             string // "" → "Contoso <seed>"
	Domain           string // initial domain label: <Domain>.onmicrosoft.com; "" → contoso<seed>
	VerifiedDomains  []string
	FederatedDomains []string
	TenantType       string // "" → AAD

	Members, Guests, Synced, Disabled int
	GlobalAdmins                      int // other active permanent Global Admins
	PrivilegedAuthAdmins, UserAdmins  int
	EligibleGlobalAdmins              int // PIM-eligible only
	RestrictedAUMembers               int // ordinary members placed in a restricted-management admin unit
	PerUserMFAEnforced                int // ordinary members with per-user MFA enforced
	// PerUserMFAUnknown ordinary members read perUserMfaState
	// unknownFutureValue (beta's evolvable enum sentinel).
	PerUserMFAUnknown int

	SyncEnabled         bool          // directory sync on (synced users exist either way when Synced > 0)
	SyncConversionDelay time.Duration // synced users stay synced this long after sync-off
	SyncOffRefused      bool          // refuse PATCH onPremisesSyncEnabled=false with 403

	Subscriptions    []SubscriptionSpec
	SecurityDefaults bool
	CAPolicies       int
	Devices          int
	M365Groups       int
	SecurityGroups   int
	LegalHold        bool // an eDiscovery case with a custodian on hold
	NoncustodialHold bool // the case's non-custodial data source on hold
	HoldPolicy       bool // the case's legal hold policy enabled
	// LinkedAzureSubscription: an Azure subscription still relies on the
	// tenant (not visible in Graph; blocks DeleteTenant until
	// RemoveAzureSubscription).
	LinkedAzureSubscription bool

	SingleTenantApps, MultiTenantApps int // tenant-owned app registrations (+ their SPs)
	ManagedIdentities                 int
	FirstPartySPs                     bool // Microsoft's own service principals
	// ThirdPartySPs are enterprise apps of other publishers' multi-tenant
	// apps (appOwnerOrganizationId another tenant); UndeletableSPs more of
	// them that Graph refuses to delete (403) so they must be disabled;
	// LegacySPs servicePrincipalType Legacy with no owner; SAMLApps
	// tenant-owned apps with preferredSingleSignOnMode saml.
	ThirdPartySPs, UndeletableSPs, LegacySPs, SAMLApps int
	ClosebotAppID                                      string   // closebot's app registration (+SP); "" → none
	ClosebotRoles                                      []string // role template ids held by closebot's SP

	KeptAdminUPN        string // local part; "" → admin
	KeptAdminWithoutMFA bool   // kept admin has only a password method
	Created             time.Time
}

// DefaultTenantSpec is a realistic tenant of `users` users in total (kept
// admin included) with one of everything its licences allow: Microsoft 365
// E3 with Office 365 E5, so no Entra ID P2 and no PIM-eligible admins.
// WithP2 turns it into an E5 tenant with an eligible Global Admin.
func DefaultTenantSpec(users int) TenantSpec {
	spec := TenantSpec{
		Seed: 1, Domain: "contoso", Name: "Contoso",
		VerifiedDomains: []string{"contoso.com"}, FederatedDomains: []string{"corp.contoso.com"},
		GlobalAdmins: 1, PrivilegedAuthAdmins: 1, UserAdmins: 1,
		SyncEnabled: true, SecurityDefaults: true, CAPolicies: 2, SecurityGroups: 2,
		SingleTenantApps: 2, MultiTenantApps: 1, ManagedIdentities: 1, FirstPartySPs: true,
		ThirdPartySPs: 1, UndeletableSPs: 1, LegacySPs: 1, SAMLApps: 1,
		ClosebotAppID: "11111111-1111-1111-1111-111111111111",
		ClosebotRoles: []string{RolePrivilegedAuthenticationAdmin},
		// Microsoft 365 E3 with Office 365 E5: Entra ID P1 and eDiscovery
		// (Premium), no P2, so no PIM (issue 10's common mix).
		Subscriptions: append(E3WithOffice365E5(25),
			SubscriptionSpec{SkuPartNumber: "VISIOCLIENT", Channel: "mca", Licenses: 5, Consumed: 2},
			SubscriptionSpec{SkuPartNumber: "POWER_BI_PRO", Channel: "direct", Status: "Warning", Licenses: 5, Trial: true},
			SubscriptionSpec{SkuPartNumber: "PROJECTPREMIUM", Channel: "direct", Status: "Suspended", Licenses: 3},
		),
	}
	rest := users - 1 - spec.GlobalAdmins - spec.PrivilegedAuthAdmins - spec.UserAdmins - spec.EligibleGlobalAdmins
	if rest < 0 {
		rest = 0
	}
	spec.Guests, spec.Synced, spec.Disabled = rest/20, rest/20, rest/50
	spec.Members = rest - spec.Guests - spec.Synced - spec.Disabled
	spec.RestrictedAUMembers = min(3, spec.Members)
	spec.PerUserMFAEnforced = min(5, spec.Members-spec.RestrictedAUMembers)
	spec.Devices = users / 10
	spec.M365Groups = users/25 + 1
	return spec
}

// WithP2 makes the tenant Microsoft 365 E5 (Entra ID P1 and P2, eDiscovery
// Premium) instead of E3 with Office 365 E5, and turns `eligible` ordinary
// members into PIM-eligible Global Admins.
func (spec TenantSpec) WithP2(eligible int) TenantSpec {
	subs := append([]SubscriptionSpec(nil), spec.Subscriptions...)
	for i := range subs {
		if subs[i].SkuPartNumber == "SPE_E3" {
			subs[i].SkuPartNumber, subs[i].SkuID = "SPE_E5", ""
		}
	}
	spec.Subscriptions = subs
	n := min(eligible, spec.Members)
	spec.Members -= n
	spec.EligibleGlobalAdmins += n
	return spec
}

// Validate reports a spec the emulator cannot seed faithfully.
func (spec TenantSpec) Validate() error {
	if spec.EligibleGlobalAdmins > 0 {
		p2 := false
		for _, ss := range spec.Subscriptions {
			if ss.Status == "Deleted" {
				continue
			}
			for _, p := range plansOf(ss.SkuPartNumber) {
				p2 = p2 || p == planEntraP2 || p == planGovernance
			}
		}
		if !p2 {
			return fmt.Errorf("graphtest: %d PIM-eligible Global Admins need a subscription with Entra ID P2 or ID Governance (PIM does not exist without it)", spec.EligibleGlobalAdmins)
		}
	}
	for _, ss := range spec.Subscriptions {
		if _, ok := skuCatalog[ss.SkuPartNumber]; !ok && ss.SkuID == "" {
			return fmt.Errorf("graphtest: unknown SKU %q: give its SkuID (service plans unknown, no features)", ss.SkuPartNumber)
		}
	}
	return nil
}

// firstParty are Microsoft service principals with their real app ids.
var firstParty = []struct {
	appID, name string
	undeletable bool
}{
	{"00000003-0000-0000-c000-000000000000", "Microsoft Graph", true},
	{"00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online", true},
	{"00000003-0000-0ff1-ce00-000000000000", "Office 365 SharePoint Online", true},
	{"00000002-0000-0000-c000-000000000000", "Windows Azure Active Directory", true},
	{"c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal", false},
	{"14d82eec-204b-4c2f-b7e8-296a70dab67e", "Microsoft Graph Command Line Tools", false},
	{"04b07795-8ddb-461a-bbee-02f9e1bf7b46", "Microsoft Azure CLI", false},
	{"1950a258-227b-4e31-a9cf-717495945fc2", "Microsoft Azure PowerShell", false},
	{"797f4846-ba00-4fd7-ba43-dac1f8f63013", "Windows Azure Service Management API", false},
	{"00000004-0000-0ff1-ce00-000000000000", "Skype for Business Online", false},
	{"0000000a-0000-0000-c000-000000000000", "Microsoft Intune", false},
	{"c5393580-f805-4401-95e8-94b7a6ef2fc2", "Office 365 Management APIs", false},
}

var roleCatalog = []roleDef{
	{RoleGlobalAdministrator, "Global Administrator", "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.", true},
	{RolePrivilegedAuthenticationAdmin, "Privileged Authentication Administrator", "Can access to view, set and reset authentication method information for any user (admin or non-admin).", true},
	{RolePrivilegedRoleAdministrator, "Privileged Role Administrator", "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.", true},
	{RoleUserAdministrator, "User Administrator", "Can manage all aspects of users and groups, including resetting passwords for limited admins.", true},
	{RoleHybridIdentityAdministrator, "Hybrid Identity Administrator", "Can manage Active Directory to Microsoft Entra cloud provisioning, Microsoft Entra Connect, and federation settings.", true},
	{RoleExchangeAdministrator, "Exchange Administrator", "Can manage all aspects of the Exchange product.", false},
	{RoleAuthenticationAdministrator, "Authentication Administrator", "Can access to view, set and reset authentication method information for any non-admin user.", true},
	{RoleSecurityAdministrator, "Security Administrator", "Can read security information and reports, and manage configuration in Microsoft Entra ID and Office 365.", true},
	{RoleDirectorySynchronizationAccounts, "Directory Synchronization Accounts", "Only used by Microsoft Entra Connect service.", true},
}

// seeder builds one tenant deterministically.
type seeder struct {
	rng     *rand.Rand
	t       *tenantData
	now     time.Time
	spec    TenantSpec
	members []*dirObject // ordinary members, in seeding order
}

// signUpUser is who signed up for a self-service product: the first
// ordinary member, else the kept admin.
func (sd *seeder) signUpUser() string {
	if len(sd.members) > 0 {
		return sd.members[0].id
	}
	return sd.t.keptAdmin
}

func (sd *seeder) guid() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := sd.rng.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (sd *seeder) ago(maxDays int) time.Time {
	return sd.now.Add(-time.Duration(1+sd.rng.IntN(maxDays)) * 24 * time.Hour).Truncate(time.Second)
}

func (sd *seeder) add(kind string, props map[string]any) *dirObject {
	o := &dirObject{kind: kind, id: sd.guid(), props: props}
	sd.t.objects[o.id] = o
	return o
}

// AddTenant seeds a tenant and returns its handle. It panics on a spec
// Validate refuses.
func (s *Server) AddTenant(spec TenantSpec) *Tenant {
	if err := spec.Validate(); err != nil {
		panic(err)
	}
	now := s.clock.Now().UTC().Truncate(time.Second)
	sd := &seeder{rng: rand.New(rand.NewPCG(spec.Seed, spec.Seed^0x9e3779b97f4a7c15)), t: newTenantData(), now: now, spec: spec}
	t := sd.t
	t.id = strings.ToLower(spec.ID)
	if t.id == "" {
		t.id = sd.guid()
	}
	if spec.Domain == "" {
		spec.Domain = fmt.Sprintf("contoso%d", spec.Seed)
	}
	t.name = spec.Name
	if t.name == "" {
		t.name = fmt.Sprintf("Contoso %d", spec.Seed)
	}
	if spec.TenantType != "" {
		t.tenantType = spec.TenantType
	}
	t.created = spec.Created
	if t.created.IsZero() {
		t.created = now.AddDate(-2, 0, 0)
	}
	t.initialDomain = strings.ToLower(spec.Domain) + ".onmicrosoft.com"
	t.domains = append(t.domains, &domainRec{name: t.initialDomain, initial: true, isDefault: len(spec.VerifiedDomains) == 0, verified: true})
	for i, dm := range spec.VerifiedDomains {
		t.domains = append(t.domains, &domainRec{name: strings.ToLower(dm), isDefault: i == 0, verified: true})
	}
	for _, dm := range spec.FederatedDomains {
		t.domains = append(t.domains, &domainRec{name: strings.ToLower(dm), verified: true, federated: true})
	}
	t.syncConfigured = spec.SyncEnabled || spec.Synced > 0
	t.syncEnabled = spec.SyncEnabled
	if t.syncConfigured && !t.syncEnabled {
		t.syncOffAt = now.Add(-100 * 24 * time.Hour)
	}
	t.syncDelay, t.syncOffRefused = spec.SyncConversionDelay, spec.SyncOffRefused
	t.lastSync = now.Add(-30 * time.Minute)
	t.secDefaults = spec.SecurityDefaults
	for i := range roleCatalog {
		r := roleCatalog[i]
		t.roleDefs[r.id] = &r
	}
	sd.users()
	sd.billing()
	sd.policies()
	sd.objects()
	sd.apps()
	sd.otherSPs()

	s.dir.mu.Lock()
	s.dir.tenants[t.id] = t
	s.dir.mu.Unlock()
	return &Tenant{s: s, ID: t.id, Domain: t.initialDomain, Name: t.name, ClosebotAppID: spec.ClosebotAppID, keptAdmin: t.keptAdmin}
}

func (sd *seeder) user(local, display, userType string, domain string) *dirObject {
	upn := local + "@" + domain
	given, sur, _ := strings.Cut(display, " ")
	return sd.add("user", map[string]any{
		"displayName": display, "givenName": given, "surname": sur, "userPrincipalName": upn, "mail": upn,
		"mailNickname": local, "userType": userType, "accountEnabled": true, "createdDateTime": stamp(sd.ago(700)),
		"jobTitle": nil, "businessPhones": []string{}, "mobilePhone": nil, "officeLocation": nil,
		"preferredLanguage": "en-US", "usageLocation": "US", "onPremisesImmutableId": nil,
		"onPremisesSamAccountName": nil, "onPremisesDomainName": nil, "onPremisesLastSyncDateTime": nil,
		"creationType": nil, "externalUserState": nil,
	})
}

func (sd *seeder) password(o *dirObject) {
	o.methods = append(o.methods, authMethod{kind: "passwordAuthenticationMethod", props: map[string]any{
		// The password method's id is fixed (documented).
		"id": "28c10230-6103-485e-b985-444c60001490", "password": nil, "createdDateTime": o.props["createdDateTime"],
	}})
}

func (sd *seeder) authenticator(o *dirObject) {
	o.methods = append(o.methods, authMethod{kind: "microsoftAuthenticatorAuthenticationMethod", props: map[string]any{
		"id": sd.guid(), "displayName": "iPhone 15", "deviceTag": "SoftwareTokenActivated", "phoneAppVersion": "6.8.7",
		"createdDateTime": stamp(sd.ago(300)),
	}})
}

func (sd *seeder) phone(o *dirObject) {
	o.methods = append(o.methods, authMethod{kind: "phoneAuthenticationMethod", props: map[string]any{
		// Mobile phone methods have a fixed id (documented).
		"id": "3179e48a-750b-4051-897c-87b9720928f7", "phoneNumber": fmt.Sprintf("+1 2065550%03d", sd.rng.IntN(1000)),
		"phoneType": "mobile", "smsSignInState": "notSupported",
	}})
}

func (sd *seeder) fido2(o *dirObject) {
	o.methods = append(o.methods, authMethod{kind: "fido2AuthenticationMethod", props: map[string]any{
		"id": sd.guid(), "displayName": "YubiKey 5 NFC", "aaGuid": "cb69481e-8ff7-4039-93ec-0a2729a154a8",
		"model": "YubiKey 5 Series", "attestationLevel": "attested", "attestationCertificates": []string{},
		"createdDateTime": stamp(sd.ago(200)),
	}})
}

func (sd *seeder) grant(dst map[string]*roleGrant, principal, role string) {
	g := &roleGrant{id: sd.guid(), principalID: principal, roleID: role, start: sd.ago(400), memberType: "Direct"}
	dst[g.id] = g
}

func (sd *seeder) users() {
	spec, t := sd.spec, sd.t
	dom := t.initialDomain
	local := spec.KeptAdminUPN
	if local == "" {
		local = "admin"
	}
	kept := sd.user(local, "Kept Admin", "Member", dom)
	kept.mfaState = "disabled"
	sd.password(kept)
	if !spec.KeptAdminWithoutMFA {
		sd.authenticator(kept)
		sd.fido2(kept)
	}
	t.keptAdmin = kept.id
	sd.grant(t.assignments, kept.id, RoleGlobalAdministrator)

	privileged := func(n int, prefix, title, role string) {
		for i := 1; i <= n; i++ {
			u := sd.user(fmt.Sprintf("%s%02d", prefix, i), fmt.Sprintf("%s %02d", title, i), "Member", dom)
			u.props["jobTitle"] = title
			u.mfaState = "disabled"
			sd.password(u)
			sd.authenticator(u)
			sd.grant(t.assignments, u.id, role)
		}
	}
	privileged(spec.GlobalAdmins, "ga", "Global Admin", RoleGlobalAdministrator)
	privileged(spec.PrivilegedAuthAdmins, "paa", "Auth Admin", RolePrivilegedAuthenticationAdmin)
	privileged(spec.UserAdmins, "useradmin", "User Admin", RoleUserAdministrator)
	for i := 1; i <= spec.EligibleGlobalAdmins; i++ {
		u := sd.user(fmt.Sprintf("eligible%02d", i), fmt.Sprintf("Eligible Admin %02d", i), "Member", dom)
		u.mfaState = "disabled"
		sd.password(u)
		sd.authenticator(u)
		sd.grant(t.eligibilities, u.id, RoleGlobalAdministrator)
	}
	var restricted []string
	for i := 1; i <= spec.Members; i++ {
		u := sd.user(fmt.Sprintf("user%05d", i), fmt.Sprintf("User %05d", i), "Member", dom)
		u.mfaState = "disabled"
		sd.members = append(sd.members, u)
		sd.password(u)
		switch {
		case i <= spec.RestrictedAUMembers:
			restricted = append(restricted, u.id)
		case i <= spec.RestrictedAUMembers+spec.PerUserMFAEnforced:
			u.mfaState = "enforced"
			sd.phone(u)
		case i <= spec.RestrictedAUMembers+spec.PerUserMFAEnforced+spec.PerUserMFAUnknown:
			u.mfaState = "unknownFutureValue"
		case i%7 == 0:
			sd.authenticator(u)
		}
	}
	for i := 1; i <= spec.Guests; i++ {
		ext := fmt.Sprintf("guest%05d_fabrikam.com#EXT#", i)
		u := sd.user(ext, fmt.Sprintf("Guest %05d", i), "Guest", dom)
		u.props["mail"] = fmt.Sprintf("guest%05d@fabrikam.com", i)
		u.props["creationType"] = "Invitation"
		u.props["externalUserState"] = "Accepted"
		u.mfaState = "disabled"
	}
	syncDom := dom
	if len(spec.FederatedDomains) > 0 {
		syncDom = strings.ToLower(spec.FederatedDomains[0])
	}
	for i := 1; i <= spec.Synced; i++ {
		u := sd.user(fmt.Sprintf("sync%05d", i), fmt.Sprintf("Synced %05d", i), "Member", syncDom)
		u.synced = true
		u.mfaState = "disabled"
		u.props["onPremisesImmutableId"] = base64.StdEncoding.EncodeToString([]byte(sd.guid())[:16])
		u.props["onPremisesSamAccountName"] = fmt.Sprintf("sync%05d", i)
		u.props["onPremisesDomainName"] = "corp.contoso.local"
		u.props["onPremisesLastSyncDateTime"] = stamp(t.lastSync)
		sd.password(u)
	}
	for i := 1; i <= spec.Disabled; i++ {
		u := sd.user(fmt.Sprintf("disabled%05d", i), fmt.Sprintf("Disabled %05d", i), "Member", dom)
		u.props["accountEnabled"] = false
		u.mfaState = "disabled"
		sd.password(u)
	}
	if spec.RestrictedAUMembers > 0 {
		au := sd.add("administrativeUnit", map[string]any{
			"displayName": "Executives (restricted)", "description": "Restricted management administrative unit",
			"isMemberManagementRestricted": true, "visibility": nil, "membershipType": nil,
			"membershipRule": nil, "membershipRuleProcessingState": nil,
		})
		au.members = restricted
	}
	sd.add("administrativeUnit", map[string]any{
		"displayName": "Sales", "description": "Regional sales", "isMemberManagementRestricted": false,
		"visibility": nil, "membershipType": nil, "membershipRule": nil, "membershipRuleProcessingState": nil,
	})
}

func (sd *seeder) billing() {
	t := sd.t
	for _, ss := range sd.spec.Subscriptions {
		s := &subscription{
			id: sd.guid(), commerceID: sd.guid(), skuPart: ss.SkuPartNumber, skuID: ss.SkuID, channel: ss.Channel,
			status: ss.Status, created: sd.ago(500), trial: ss.Trial, licenses: ss.Licenses, consumed: ss.Consumed,
		}
		if s.skuID == "" {
			s.skuID = skuCatalog[ss.SkuPartNumber].id
		}
		if s.skuID == "" {
			s.skuID = sd.guid()
		}
		if s.channel == "" {
			s.channel = "direct"
		}
		if s.status == "" {
			s.status = "Enabled"
		}
		s.ownerType, s.ownerID, s.ownerTID = "Company", t.id, t.id
		if ss.SelfService {
			// A user signed up: the user owns it (companySubscription.ownerType
			// "User", as in directory-list-subscriptions' sample).
			s.selfService = true
			s.ownerType, s.ownerID = "User", sd.signUpUser()
		}
		if s.channel == "csp" {
			partner := strings.ToLower(ss.PartnerTenant)
			if partner == "" {
				partner = sd.guid()
			}
			s.ownerID, s.ownerTID = partner, partner
		}
		next := ss.NextLifecycle
		if next == 0 {
			switch s.status {
			case "Enabled":
				next = 365 * 24 * time.Hour
			case "Warning":
				next = expiredPeriod / 2
			case "Suspended", "LockedOut":
				next = disabledPeriod / 2
			case "Deleted":
				next = deprovisioning / 2
			}
		}
		s.next = ptrTime(sd.now.Add(next))
		if s.status == "Deleted" {
			s.deletedAt = ptrTime(s.next.Add(-deprovisioning))
		}
		t.subs[s.id] = s
	}
}

func (sd *seeder) policies() {
	t := sd.t
	names := []string{"Require MFA for admins", "Block legacy authentication", "Require compliant devices", "Block risky sign-ins"}
	for i := 0; i < sd.spec.CAPolicies; i++ {
		state := "enabledForReportingButNotEnforced"
		if !sd.spec.SecurityDefaults && i == 0 {
			state = "enabled" // CA policies cannot be enabled while security defaults are on
		}
		p := &caPolicy{id: sd.guid(), name: names[i%len(names)], state: state, created: sd.ago(300),
			includeUsers: []string{"All"}, excludeUsers: []string{}, builtIn: []string{"mfa"}}
		if i > 0 {
			p.name = fmt.Sprintf("%s %d", p.name, i)
		}
		p.changed = p.created
		t.ca[p.id] = p
	}
	c := &ediscoveryCase{id: sd.guid(), name: "Litigation 2024-017", created: sd.ago(200)}
	hold := func(name, email string, on bool) *custodian {
		cu := &custodian{id: sd.guid(), name: name, email: email, created: sd.ago(150), holdStatus: "notApplied", status: "released"}
		cu.lastModifiedTime = cu.created
		if on {
			cu.holdStatus, cu.status, cu.acked = "applied", "active", ptrTime(cu.created)
		} else {
			cu.released = ptrTime(cu.created.Add(24 * time.Hour))
		}
		return cu
	}
	kept := t.objects[t.keptAdmin].str("userPrincipalName")
	c.custodians = append(c.custodians, hold("Kept Admin", kept, sd.spec.LegalHold))
	ds := hold("Finance SharePoint site", "", sd.spec.NoncustodialHold)
	ds.acked = nil
	c.noncustody = append(c.noncustody, ds)
	pol := &holdPolicy{id: sd.guid(), name: "Litigation hold 2024-017", query: "subject:\"contract\"",
		enabled: sd.spec.HoldPolicy, status: "success", created: sd.ago(150)}
	pol.mod = pol.created
	c.holdPolicies = append(c.holdPolicies, pol)
	t.cases[c.id] = c
	t.linkedAzure = sd.spec.LinkedAzureSubscription
}

func (sd *seeder) objects() {
	t := sd.t
	oses := []string{"Windows", "iOS", "Android", "MacMDM"}
	for i := 1; i <= sd.spec.Devices; i++ {
		reg := sd.ago(600)
		sd.add("device", map[string]any{
			"displayName": fmt.Sprintf("DESKTOP-%05d", i), "deviceId": sd.guid(), "operatingSystem": oses[i%len(oses)],
			"operatingSystemVersion": "10.0.22631", "accountEnabled": true, "trustType": "AzureAd",
			"registrationDateTime": stamp(reg), "approximateLastSignInDateTime": stamp(sd.ago(30)),
			"isCompliant": i%3 != 0, "isManaged": true,
		})
	}
	group := func(i int, name string, unified bool) {
		nick := strings.ToLower(strings.ReplaceAll(name, " ", ""))
		g := map[string]any{
			"displayName": name, "description": nil, "mailNickname": nick, "createdDateTime": stamp(sd.ago(500)),
			"groupTypes": []string{}, "mailEnabled": false, "securityEnabled": true, "mail": nil, "visibility": nil,
		}
		if unified {
			g["groupTypes"] = []string{"Unified"}
			g["mailEnabled"], g["securityEnabled"] = true, false
			g["mail"] = nick + "@" + t.initialDomain
			g["visibility"] = "Private"
		}
		sd.add("group", g)
	}
	for i := 1; i <= sd.spec.M365Groups; i++ {
		group(i, fmt.Sprintf("Team %03d", i), true)
	}
	for i := 1; i <= sd.spec.SecurityGroups; i++ {
		group(i, fmt.Sprintf("Security %03d", i), false)
	}
}

func (sd *seeder) apps() {
	t, spec := sd.t, sd.spec
	app := func(appID, name, audience string) *dirObject {
		if appID == "" {
			appID = sd.guid()
		}
		sd.add("application", map[string]any{
			"appId": appID, "displayName": name, "signInAudience": audience, "createdDateTime": stamp(sd.ago(400)),
			"publisherDomain": t.initialDomain, "identifierUris": []string{}, "tags": []string{}, "description": nil,
			"passwordCredentials": []map[string]any{},
		})
		return sd.add("servicePrincipal", map[string]any{
			"appId": appID, "displayName": name, "appDisplayName": name, "appOwnerOrganizationId": t.id,
			"servicePrincipalType": "Application", "accountEnabled": true, "signInAudience": audience,
			"servicePrincipalNames": []string{appID}, "tags": []string{}, "appRoleAssignmentRequired": false,
		})
	}
	for i := 1; i <= spec.SingleTenantApps; i++ {
		app("", fmt.Sprintf("Line-of-business app %d", i), "AzureADMyOrg")
	}
	for i := 1; i <= spec.MultiTenantApps; i++ {
		app("", fmt.Sprintf("Multi-tenant SaaS %d", i), "AzureADMultipleOrgs")
	}
	if spec.ClosebotAppID != "" {
		t.closebotAppID = strings.ToLower(spec.ClosebotAppID)
		sp := app(t.closebotAppID, "closebot", "AzureADMyOrg")
		for _, role := range spec.ClosebotRoles {
			sd.grant(t.assignments, sp.id, role)
		}
	}
	for i := 1; i <= spec.ManagedIdentities; i++ {
		appID := sd.guid()
		sd.add("servicePrincipal", map[string]any{
			"appId": appID, "displayName": fmt.Sprintf("mi-automation-%d", i), "appDisplayName": nil,
			"appOwnerOrganizationId": nil, "servicePrincipalType": "ManagedIdentity", "accountEnabled": true,
			"signInAudience": nil, "servicePrincipalNames": []string{appID}, "tags": []string{}, "appRoleAssignmentRequired": false,
		})
	}
	if spec.FirstPartySPs {
		for _, fp := range firstParty {
			sp := sd.add("servicePrincipal", map[string]any{
				"appId": fp.appID, "displayName": fp.name, "appDisplayName": fp.name,
				"appOwnerOrganizationId": microsoftServicesTenant, "servicePrincipalType": "Application",
				"accountEnabled": true, "signInAudience": "AzureADMultipleOrgs", "servicePrincipalNames": []string{fp.appID},
				"tags": []string{}, "appRoleAssignmentRequired": false,
			})
			sp.undeletable = fp.undeletable
		}
	}
}

// otherSPs seeds the service principals Microsoft's "Delete a tenant"
// how-to says to delete or disable: other publishers' multi-tenant apps,
// legacy ones and SAML apps.
func (sd *seeder) otherSPs() {
	t, spec := sd.t, sd.spec
	sp := func(name, owner, typ string, extra map[string]any) *dirObject {
		appID := sd.guid()
		props := map[string]any{
			"appId": appID, "displayName": name, "appDisplayName": name, "appOwnerOrganizationId": owner,
			"servicePrincipalType": typ, "accountEnabled": true, "signInAudience": "AzureADMultipleOrgs",
			"servicePrincipalNames": []string{appID}, "tags": []string{"WindowsAzureActiveDirectoryIntegratedApp"},
			"appRoleAssignmentRequired": false, "preferredSingleSignOnMode": nil,
		}
		if owner == "" {
			props["appOwnerOrganizationId"] = nil
		}
		for k, v := range extra {
			props[k] = v
		}
		return sd.add("servicePrincipal", props)
	}
	for i := 1; i <= spec.ThirdPartySPs; i++ {
		sp(fmt.Sprintf("Fabrikam SaaS %d", i), sd.guid(), "Application", nil)
	}
	for i := 1; i <= spec.UndeletableSPs; i++ {
		o := sp(fmt.Sprintf("Northwind Connector %d", i), sd.guid(), "Application", nil)
		o.undeletable = true
	}
	for i := 1; i <= spec.LegacySPs; i++ {
		sp(fmt.Sprintf("Legacy app %d", i), "", "Legacy", map[string]any{
			"appDisplayName": nil, "signInAudience": nil, "servicePrincipalNames": []string{}, "tags": []string{}})
	}
	for i := 1; i <= spec.SAMLApps; i++ {
		// A gallery SAML app: its application object and SP live in the tenant.
		appID := sd.guid()
		name := fmt.Sprintf("Contoso SAML app %d", i)
		sd.add("application", map[string]any{
			"appId": appID, "displayName": name, "signInAudience": "AzureADMyOrg", "createdDateTime": stamp(sd.ago(400)),
			"publisherDomain": t.initialDomain, "identifierUris": []string{"https://saml.example/" + appID}, "tags": []string{},
			"description": nil, "passwordCredentials": []map[string]any{},
		})
		sp(name, t.id, "Application", map[string]any{"appId": appID, "servicePrincipalNames": []string{appID},
			"preferredSingleSignOnMode": "saml", "signInAudience": "AzureADMyOrg",
			"tags": []string{"WindowsAzureActiveDirectoryCustomSingleSignOnApplication", "WindowsAzureActiveDirectoryIntegratedApp"}})
	}
}
