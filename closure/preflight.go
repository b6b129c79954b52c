package closure

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Preflight refusal codes (DESIGN §5); stable, for tests and logs.
const (
	RefuseTenantType      = "tenant_type"
	RefuseKeepMissing     = "keep_missing"
	RefuseKeepGuest       = "keep_guest"
	RefuseKeepSynced      = "keep_synced"
	RefuseKeepDisabled    = "keep_disabled"
	RefuseKeepFederated   = "keep_federated"
	RefuseKeepRestricted  = "keep_restricted_admin_unit"
	RefuseKeepNotGA       = "keep_not_global_admin"
	RefuseKeepNoMFA       = "keep_no_mfa_method"
	RefuseLegalHold       = "legal_hold"
	RefuseClosebotUnknown = "closebot_app_unknown"
)

// PreflightItem is one failed preflight check: what is wrong and what to fix.
type PreflightItem struct {
	Code    string `json:"code"`
	Problem string `json:"problem"`
	Fix     string `json:"fix"`
}

// PreflightError refuses a request: every failed item, each naming what
// to fix. It is a requirement not met, not a fault.
type PreflightError struct {
	TenantID string
	Items    []PreflightItem
}

func (e *PreflightError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "preflight refused tenant %s (%d item(s) to fix):", e.TenantID, len(e.Items))
	for i, it := range e.Items {
		fmt.Fprintf(&b, " %d) %s; fix: %s", i+1, it.Problem, it.Fix)
		if i < len(e.Items)-1 {
			b.WriteByte(';')
		}
	}
	return b.String()
}

// Has reports whether the refusal includes an item with code.
func (e *PreflightError) Has(code string) bool {
	for _, it := range e.Items {
		if it.Code == code {
			return true
		}
	}
	return false
}

// mfaCapable are the registered authentication method types that can be
// a second factor (Learn "authentication methods" API: password and email
// are not; email is for self-service password reset only).
var mfaCapable = []string{
	"#microsoft.graph.microsoftAuthenticatorAuthenticationMethod",
	"#microsoft.graph.phoneAuthenticationMethod",
	"#microsoft.graph.fido2AuthenticationMethod",
	"#microsoft.graph.windowsHelloForBusinessAuthenticationMethod",
	"#microsoft.graph.softwareOathAuthenticationMethod",
	"#microsoft.graph.hardwareOathAuthenticationMethod",
	"#microsoft.graph.platformCredentialAuthenticationMethod",
	"#microsoft.graph.x509CertificateAuthenticationMethod",
}

// minKeepMFAMethods is how many MFA-capable methods the kept admin needs.
const minKeepMFAMethods = 2

func countMFACapable(methods []string) int {
	n := 0
	for _, m := range methods {
		if slices.ContainsFunc(mfaCapable, func(c string) bool { return strings.EqualFold(c, m) }) {
			n++
		}
	}
	return n
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// holdProblem and holdFix say what an active hold is and how to release it.
func holdProblem(h LegalHold) string {
	what := map[string]string{
		HoldCustodian:    "custodian " + h.Name,
		HoldNoncustodial: "the non-custodial data source " + h.Name,
		HoldPolicy:       "the hold policy " + h.Name,
	}[h.Source]
	if what == "" {
		what = h.Name
	}
	return fmt.Sprintf("eDiscovery case %q holds data (%s, hold %s): closing would destroy held data", h.CaseName, what, h.HoldStatus)
}

func holdFix(h LegalHold) string {
	where := "Data sources"
	if h.Source == HoldPolicy {
		where = "Holds"
	}
	return "once legal agrees, release it in Microsoft Purview (eDiscovery → the case → " + where + ") and wait until it shows as not applied; closebot cannot override a hold"
}

// TenantRead is everything a plan is built from, as read from the
// Directory: the input of BuildPlan, with no I/O left to do.
type TenantRead struct {
	Organization     Organization
	Domains          []Domain
	Users            []User // without the users the request deleted
	Roles            RoleView
	Units            []AdministrativeUnit
	Subscriptions    []CompanySubscription
	SecurityDefaults bool
	CAPolicies       []CAPolicy
	Counts           DataCounts
	Holds            []LegalHold
	Apps             []Application
	SPs              []ServicePrincipal
	// Unavailable lists the display-only reads the tenant's licences do
	// not allow ("what (needs ...)"), in read order; PIM's absence is
	// told by Roles.PIM, not here.
	Unavailable []string
	// KeepMethods are the registered authentication method types of the
	// kept admin (the user whose UPN is TenantPolicy.Keep); nil when no
	// such user was read.
	KeepMethods []string
}

// KeepUser is the kept admin (the user whose UPN is tenant.Keep) among
// the users read, or nil.
func (in *TenantRead) KeepUser(tenant TenantPolicy) *User {
	var keep *User
	for i, u := range in.Users {
		if strings.EqualFold(u.UPN, tenant.Keep) {
			keep = &in.Users[i]
		}
	}
	return keep
}

// BuildPlan builds the plan of a tenant from what run.ReadTenant read, and
// lists the failed preflight items (DESIGN §5); it does no I/O. The plan
// is built even when items fail: the runner's drift check uses it (a kept
// admin who lost their role is drift).
func BuildPlan(tenant TenantPolicy, in TenantRead, now time.Time) (*Plan, []PreflightItem) {
	org, domains, users := in.Organization, in.Domains, in.Users
	active, eligible := in.Roles.Active, in.Roles.Eligible
	units, subs, cas, holds, apps, sps := in.Units, in.Subscriptions, in.CAPolicies, in.Holds, in.Apps, in.SPs
	unavailable := slices.Clone(in.Unavailable)

	if !in.Roles.PIM {
		unavailable = append(unavailable, "PIM (needs Microsoft Entra ID P2 or ID Governance; every role assignment read is permanent and none eligible)")
	}
	p := &Plan{
		TenantID: tenant.ID, TenantName: org.DisplayName, TenantType: org.TenantType,
		InitialDomain: tenant.Domain, ReadAt: now, SyncEnabled: org.SyncEnabled, LastSync: org.LastSync,
		SecurityDefaults: in.SecurityDefaults, Counts: in.Counts, Unavailable: unavailable, PIM: in.Roles.PIM,
	}
	if org.ID != "" {
		p.TenantID = org.ID
	}
	var items []PreflightItem
	refuse := func(code, problem, fix string) {
		items = append(items, PreflightItem{Code: code, Problem: problem, Fix: fix})
	}
	if org.TenantType != "AAD" {
		refuse(RefuseTenantType, fmt.Sprintf("tenant type is %q, not AAD (a workforce tenant)", org.TenantType),
			"closebot closes workforce tenants only; close B2C or External ID tenants in the Azure portal")
	}
	if tenant.ClientID == "" {
		refuse(RefuseClosebotUnknown, "closebot's own app id is not configured, so it cannot tell its app apart",
			"set tenants[].client_id in closebot.yaml")
	}

	federated := map[string]bool{}
	for _, d := range domains {
		if d.Verified {
			p.VerifiedDomains = append(p.VerifiedDomains, d.ID)
		}
		if d.Federated {
			p.FederatedDomains = append(p.FederatedDomains, d.ID)
			federated[strings.ToLower(d.ID)] = true
		}
		if d.Initial && p.InitialDomain == "" {
			p.InitialDomain = d.ID
		}
	}

	// closebot's own service principal is no admin to delete, and with
	// write_access just_in_time its directory role comes and goes during
	// the closure: it is not a privileged principal of the plan.
	self := map[string]bool{}
	for _, sp := range sps {
		if tenant.ClientID != "" && strings.EqualFold(sp.AppID, tenant.ClientID) {
			self[strings.ToLower(sp.ID)] = true
		}
	}
	roles := map[string][]string{} // principal → role template ids
	addRole := func(a RoleAssignment) {
		id := strings.ToLower(a.PrincipalID)
		if self[id] {
			return
		}
		if !slices.Contains(roles[id], a.RoleDefinitionID) {
			roles[id] = append(roles[id], a.RoleDefinitionID)
		}
		if !slices.Contains(p.Privileged, a.PrincipalID) {
			p.Privileged = append(p.Privileged, a.PrincipalID)
		}
	}
	for _, a := range active {
		addRole(a)
	}
	activeIDs := map[string]bool{}
	for _, a := range active {
		activeIDs[strings.ToLower(a.PrincipalID)] = true
	}
	for _, a := range eligible {
		if !activeIDs[strings.ToLower(a.PrincipalID)] && !slices.Contains(p.EligibleOnly, a.PrincipalID) {
			p.EligibleOnly = append(p.EligibleOnly, a.PrincipalID)
		}
		addRole(a)
		if a.RoleDefinitionID == RoleGlobalAdministrator && !slices.Contains(p.EligibleGlobalAdmins, a.PrincipalID) {
			p.EligibleGlobalAdmins = append(p.EligibleGlobalAdmins, a.PrincipalID)
		}
	}

	byID := map[string]User{}
	for _, u := range users {
		byID[strings.ToLower(u.ID)] = u
	}
	keep := in.KeepUser(tenant)
	restrictedOf := map[string]string{} // member id → unit name
	for _, au := range units {
		if !au.Restricted {
			continue
		}
		pu := PlanAdminUnit{ID: au.ID, Name: au.DisplayName}
		for _, m := range au.Members {
			name := m
			if u, ok := byID[strings.ToLower(m)]; ok {
				name = u.UPN
			}
			pu.Members = append(pu.Members, name)
			restrictedOf[strings.ToLower(m)] = au.DisplayName
		}
		p.RestrictedUnits = append(p.RestrictedUnits, pu)
	}

	// The kept admin.
	if keep == nil {
		refuse(RefuseKeepMissing, fmt.Sprintf("the kept admin %s does not exist in the tenant", tenant.Keep),
			"create that account as a cloud-only Global Administrator, or set tenants[].keep to an existing one")
	} else {
		p.Keep = PlanUser{ID: keep.ID, UPN: keep.UPN, DisplayName: keep.DisplayName, Kind: KindKeep,
			Synced: keep.Synced, Enabled: keep.Enabled, Roles: roles[strings.ToLower(keep.ID)]}
		if strings.EqualFold(keep.UserType, "Guest") {
			refuse(RefuseKeepGuest, "the kept admin "+keep.UPN+" is a guest",
				"use a member account of this tenant as tenants[].keep")
		}
		if keep.Synced {
			refuse(RefuseKeepSynced, "the kept admin "+keep.UPN+" is synced from on-premises and would be lost when sync is turned off",
				"use a cloud-only account (…@"+tenant.Domain+") as tenants[].keep")
		}
		if !keep.Enabled {
			refuse(RefuseKeepDisabled, "the kept admin "+keep.UPN+" is disabled",
				"enable the account in the Entra admin center (Users → the user → Edit properties → Account enabled)")
		}
		if at := strings.LastIndex(keep.UPN, "@"); at >= 0 && federated[strings.ToLower(keep.UPN[at+1:])] {
			refuse(RefuseKeepFederated, "the kept admin "+keep.UPN+" is on a federated domain and signs in through a federation server",
				"use an account on the initial domain "+tenant.Domain+" as tenants[].keep")
		}
		if au, ok := restrictedOf[strings.ToLower(keep.ID)]; ok {
			refuse(RefuseKeepRestricted, "the kept admin "+keep.UPN+" is in the restricted-management administrative unit "+au,
				"remove the account from that administrative unit, or choose another kept admin")
		}
		for _, a := range active {
			if PermanentGlobalAdmin(a, keep.ID) {
				p.KeepAssignmentID = a.ID
				break
			}
		}
		if p.KeepAssignmentID == "" {
			refuse(RefuseKeepNotGA, "the kept admin "+keep.UPN+" has no active, permanent, direct Global Administrator assignment at directory scope",
				"assign Global Administrator to the account directly (not through a group or PIM activation), permanent, scope the whole directory")
		}
		methods := in.KeepMethods
		// Soon the only Global Administrator: one lost phone must not lock
		// the tenant (and its deletion) out.
		if n := countMFACapable(methods); n < minKeepMFAMethods {
			refuse(RefuseKeepNoMFA, fmt.Sprintf("the kept admin %s has %d MFA-capable sign-in %s registered; the last Global Administrator needs at least %d (a password or an email address is not one)",
				keep.UPN, n, pluralWord(n, "method", "methods"), minKeepMFAMethods),
				"have the kept admin register a second method (Microsoft Authenticator, a FIDO2 key, a phone) at https://aka.ms/mysecurityinfo")
		}
	}
	for _, h := range holds {
		if h.Active() {
			refuse(RefuseLegalHold, holdProblem(h), holdFix(h))
		}
	}

	// Users by kind, in deletion order.
	for _, u := range users {
		if keep != nil && u.ID == keep.ID {
			continue
		}
		pu := PlanUser{ID: u.ID, UPN: u.UPN, DisplayName: u.DisplayName, Synced: u.Synced, Enabled: u.Enabled,
			Roles: roles[strings.ToLower(u.ID)], RestrictedUnit: restrictedOf[strings.ToLower(u.ID)]}
		pu.Kind = KindOf(u, len(pu.Roles) > 0)
		p.Users = append(p.Users, pu)
	}
	slices.SortStableFunc(p.Users, func(a, b PlanUser) int {
		if d := kindOrder(a.Kind) - kindOrder(b.Kind); d != 0 {
			return d
		}
		return strings.Compare(strings.ToLower(a.UPN), strings.ToLower(b.UPN))
	})

	for _, s := range subs {
		p.Subscriptions = append(p.Subscriptions, PlanSubscription{
			ID: s.ID, SkuPartNumber: s.SkuPartNumber, Status: s.Status, Channel: ChannelOf(s, p.TenantID),
			OwnerTenantID: s.OwnerTenantID, IsTrial: s.IsTrial, TotalLicenses: s.TotalLicenses, ETA: s.NextLifecycle,
		})
	}
	for _, a := range apps {
		pa := PlanApp{ID: a.ID, AppID: a.AppID, Name: a.DisplayName, MultiTenant: a.MultiTenant(),
			Closebot: tenant.ClientID != "" && strings.EqualFold(a.AppID, tenant.ClientID)}
		pa.Delete = !UntouchableApp(a.AppID, tenant.ClientID) && tenant.ClientID != ""
		if pa.MultiTenant && pa.Delete {
			p.Warnings = append(p.Warnings, fmt.Sprintf("app registration %q is multi-tenant: deleting it breaks every other tenant using it", a.DisplayName))
		}
		p.Apps = append(p.Apps, pa)
	}
	for _, sp := range sps {
		psp := PlanServicePrincipal{ID: sp.ID, AppID: sp.AppID, Name: sp.DisplayName, Type: sp.Type}
		switch {
		case tenant.ClientID != "" && TenantOwnedApplicationSP(sp, p.TenantID, tenant.ClientID):
			p.ServicePrincipals = append(p.ServicePrincipals, psp)
		case tenant.ClientID != "" && OtherPublisherSP(sp, p.TenantID, tenant.ClientID):
			psp.Owner = sp.AppOwnerOrganizationID
			p.OtherServicePrincipals = append(p.OtherServicePrincipals, psp)
		default:
			p.KeptServicePrincipals++
		}
	}
	for _, s := range p.Subscriptions {
		if s.Channel == ChannelSelfService {
			p.Warnings = append(p.Warnings, fmt.Sprintf("self-service sign-up product %s: remove it in the Entra admin center → Licenses → Self-service sign-up products (not under Billing)", s.SkuPartNumber))
		}
	}
	if keep != nil {
		for _, c := range cas {
			if couldBlock(c, keep.ID) {
				p.BlockingCAPolicies = append(p.BlockingCAPolicies, c)
			}
		}
	}
	for _, u := range unavailable {
		p.Warnings = append(p.Warnings, "not available on this tenant: "+u)
	}
	if len(p.BlockingCAPolicies) > 0 {
		p.Warnings = append(p.Warnings, fmt.Sprintf("%d conditional-access policies could block the kept admin; closebot leaves them alone: check them before the closure", len(p.BlockingCAPolicies)))
	}
	if n := p.CountKind(KindSynced); n > 0 || p.SyncEnabled {
		p.Warnings = append(p.Warnings, fmt.Sprintf("directory sync is %s; %d synced users wait until they turn cloud-only (up to 72 h after sync is off)", onOff(p.SyncEnabled), n))
	}
	p.Budget = NewBudget(p)
	if len(p.Users) > 0 {
		p.RestoreDeadline = now.Add(RestoreWindow)
	}
	return p, items
}

// KindOf is the kind of a user other than the kept admin; privileged:
// the user holds a directory role (active or eligible).
func KindOf(u User, privileged bool) UserKind {
	switch {
	case privileged:
		return KindPrivileged
	case u.Synced:
		return KindSynced
	case strings.EqualFold(u.UserType, "Guest"):
		return KindGuest
	}
	return KindMember
}

func kindOrder(k UserKind) int {
	switch k {
	case KindMember:
		return 0
	case KindGuest:
		return 1
	case KindSynced:
		return 2
	}
	return 3
}

// couldBlock reports whether an enforced conditional-access policy could
// apply to the kept admin with a control beyond MFA (which they have):
// block, compliant or joined device, and the like. Group membership is not
// resolved, so a policy including any group counts.
func couldBlock(c CAPolicy, keepID string) bool {
	if c.State != "enabled" {
		return false
	}
	has := func(list []string, v string) bool {
		return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, v) })
	}
	if has(c.ExcludeUsers, keepID) || has(c.ExcludeRoles, RoleGlobalAdministrator) {
		return false
	}
	applies := has(c.IncludeUsers, "All") || has(c.IncludeUsers, keepID) || has(c.IncludeRoles, RoleGlobalAdministrator) || len(c.IncludeGroups) > 0
	if !applies {
		return false
	}
	for _, g := range c.GrantControls {
		if !strings.EqualFold(g, "mfa") {
			return true
		}
	}
	return false
}
