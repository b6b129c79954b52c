package closure

import (
	"slices"
	"strings"
	"time"
)

// UserKind is how the plan and step 1 classify a user.
type UserKind string

// User kinds (DESIGN §5). A user holding any directory role, active or
// eligible, is privileged whatever else it is; the others are synced (still
// mastered on premises), guests or ordinary members.
const (
	KindKeep       UserKind = "keep"
	KindMember     UserKind = "member"
	KindGuest      UserKind = "guest"
	KindSynced     UserKind = "synced"
	KindPrivileged UserKind = "privileged"
)

// Subscription channels. Graph cannot tell a direct (admin-center)
// purchase from one under a Microsoft Customer Agreement: both are owned
// by the tenant itself. closebot therefore classifies every subscription
// the tenant owns as ChannelDirect, and the direct gate's instructions
// cover both cases (cancel in Billing → Your products; under an MCA, turn
// off recurring billing and wait for the term end given as ETA). A
// subscription owned by another tenant is partner-billed: ChannelCSP.
const (
	ChannelDirect = "direct"
	ChannelCSP    = "csp"
	// ChannelSelfService is a self-service sign-up product: a user signed
	// up, not an admin; it is removed in the Entra admin center (Licenses →
	// Self-service sign-up products), not under Billing.
	ChannelSelfService = "self_service"
)

// Microsoft's own tenants: service principals they own are never touched
// (community convention, graph-wire §1.4).
var microsoftTenants = []string{
	"f8cdef31-a31e-4b4a-93e4-5f571e91255a", // Microsoft Services
	"72f988bf-86f1-41af-91ab-2d7cd011db47", // Microsoft corp
}

// FirstPartyAppIDs are critical Microsoft app ids closebot never deletes,
// whoever appears to own them.
var FirstPartyAppIDs = []string{
	"00000003-0000-0000-c000-000000000000", // Microsoft Graph
	"00000002-0000-0ff1-ce00-000000000000", // Office 365 Exchange Online
	"00000003-0000-0ff1-ce00-000000000000", // Office 365 SharePoint Online
	"00000002-0000-0000-c000-000000000000", // Windows Azure Active Directory
	"c44b4083-3bb0-49c1-b47d-974e53cbdf3c", // Azure Portal
	"14d82eec-204b-4c2f-b7e8-296a70dab67e", // Microsoft Graph Command Line Tools (sign-in proof)
	"04b07795-8ddb-461a-bbee-02f9e1bf7b46", // Microsoft Azure CLI
	"1950a258-227b-4e31-a9cf-717495945fc2", // Microsoft Azure PowerShell
	"797f4846-ba00-4fd7-ba43-dac1f8f63013", // Windows Azure Service Management API
	"00000004-0000-0ff1-ce00-000000000000", // Skype for Business Online
	"0000000a-0000-0000-c000-000000000000", // Microsoft Intune
	"c5393580-f805-4401-95e8-94b7a6ef2fc2", // Office 365 Management APIs
	"00000007-0000-0000-c000-000000000000", // Dynamics CRM
	"0000000c-0000-0000-c000-000000000000", // Microsoft App Access Panel
}

// Plan is preflight's read-only picture of a tenant (DESIGN §5): what the
// request card, `closebot plan` and the approvers see. Facts() is the part
// the approvals pin.
type Plan struct {
	TenantID      string    `json:"tenant_id"`
	TenantName    string    `json:"tenant_name"`
	TenantType    string    `json:"tenant_type"`
	InitialDomain string    `json:"initial_domain"`
	ReadAt        time.Time `json:"read_at"`

	VerifiedDomains  []string  `json:"verified_domains"`
	FederatedDomains []string  `json:"federated_domains,omitempty"`
	SyncEnabled      bool      `json:"sync_enabled"`
	LastSync         time.Time `json:"last_sync,omitempty"`

	// Keep is the kept admin; KeepAssignmentID its active permanent direct
	// Global Administrator assignment.
	Keep             PlanUser `json:"keep"`
	KeepAssignmentID string   `json:"keep_assignment_id"`

	// Users are every user except the kept admin, in deletion order:
	// members, guests, synced, then privileged.
	Users []PlanUser `json:"users"`
	// EligibleGlobalAdmins are the principals with a PIM-eligible Global
	// Administrator assignment (users among them are also in Users).
	EligibleGlobalAdmins []string `json:"eligible_global_admins,omitempty"`
	// Privileged are the ids of every principal holding a directory role,
	// active or eligible: users, groups and service principals, keep included.
	Privileged []string `json:"privileged"`
	// RestrictedUnits are the restricted-management administrative units;
	// their members cannot be deleted by closebot (403).
	RestrictedUnits []PlanAdminUnit `json:"restricted_units,omitempty"`

	Subscriptions []PlanSubscription `json:"subscriptions"`
	Counts        DataCounts         `json:"counts"`

	// Apps are all app registrations; Delete says whether step 5 deletes it.
	Apps []PlanApp `json:"apps"`
	// ServicePrincipals are the tenant-owned Application service
	// principals step 5 deletes; KeptServicePrincipals counts those it never
	// touches (Microsoft's, closebot's, other publishers', managed identities).
	ServicePrincipals     []PlanServicePrincipal `json:"service_principals"`
	KeptServicePrincipals int                    `json:"kept_service_principals"`
	// OtherServicePrincipals are the enabled service principals of other
	// publishers (third-party multi-tenant apps, legacy and SAML ones) that
	// would block the tenant's deletion: step 5 deletes them, or sets
	// accountEnabled=false where Graph refuses (Microsoft's "Delete a tenant").
	OtherServicePrincipals []PlanServicePrincipal `json:"other_service_principals,omitempty"`

	// SecurityDefaults and BlockingCAPolicies protect the last admin:
	// closebot never changes them; the plan shows those that could lock the
	// kept admin out.
	SecurityDefaults   bool       `json:"security_defaults"`
	BlockingCAPolicies []CAPolicy `json:"blocking_ca_policies,omitempty"`

	Budget Budget `json:"budget"`
	// RestoreDeadline is how long deleted users can be restored if the
	// closure started now (30 days after the first deletion).
	RestoreDeadline time.Time `json:"restore_deadline"`
	// Warnings are things worth a human look that do not refuse the request.
	Warnings []string `json:"warnings,omitempty"`
	// Unavailable names the display-only reads this tenant's licences do
	// not include ("conditional access (needs Microsoft Entra ID P1)").
	Unavailable []string `json:"unavailable,omitempty"`
	// PIM reports whether the PIM routes answered (Entra ID P2);
	// EligibleOnly are the privileged principals only PIM showed.
	PIM          bool     `json:"pim,omitempty"`
	EligibleOnly []string `json:"eligible_only,omitempty"`
}

// PlanUser is one user of the plan.
type PlanUser struct {
	ID          string   `json:"id"`
	UPN         string   `json:"upn"`
	DisplayName string   `json:"display_name,omitempty"`
	Kind        UserKind `json:"kind"`
	Synced      bool     `json:"synced,omitempty"`
	Enabled     bool     `json:"enabled"`
	Roles       []string `json:"roles,omitempty"` // role template ids, active or eligible
	// RestrictedUnit names the restricted admin unit holding the user.
	RestrictedUnit string `json:"restricted_unit,omitempty"`
}

// PlanAdminUnit is a restricted-management administrative unit.
type PlanAdminUnit struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Members []string `json:"members"` // UPNs (ids when the member is not a user)
}

// PlanSubscription is one /directory/subscriptions item with its channel.
type PlanSubscription struct {
	ID            string    `json:"id"`
	SkuPartNumber string    `json:"sku_part_number"`
	Status        string    `json:"status"`
	Channel       string    `json:"channel"` // direct (or MCA) | csp
	OwnerTenantID string    `json:"owner_tenant_id,omitempty"`
	IsTrial       bool      `json:"is_trial,omitempty"`
	TotalLicenses int       `json:"total_licenses"`
	ETA           time.Time `json:"eta,omitempty"` // nextLifecycleDateTime
}

// Active reports whether step 2 still has to see it cancelled.
func (s PlanSubscription) Active() bool { return s.Status == "Enabled" || s.Status == "Warning" }

// PlanApp is an app registration.
type PlanApp struct {
	ID          string `json:"id"`
	AppID       string `json:"app_id"`
	Name        string `json:"name"`
	MultiTenant bool   `json:"multi_tenant,omitempty"` // deleting it breaks other tenants
	Closebot    bool   `json:"closebot,omitempty"`     // closebot's own: the kept admin removes it last
	Delete      bool   `json:"delete"`
}

// PlanServicePrincipal is a service principal step 5 removes.
type PlanServicePrincipal struct {
	ID    string `json:"id"`
	AppID string `json:"app_id"`
	Name  string `json:"name"`
	Type  string `json:"type,omitempty"`  // Application, Legacy, SocialIdp
	Owner string `json:"owner,omitempty"` // appOwnerOrganizationId, for other publishers
}

// CountKind returns how many users (keep excluded) are of a kind.
func (p *Plan) CountKind(k UserKind) int {
	n := 0
	for _, u := range p.Users {
		if u.Kind == k {
			n++
		}
	}
	return n
}

// Facts returns the digested part of the plan (DESIGN §3).
func (p *Plan) Facts() PlanFacts {
	f := PlanFacts{
		TenantID:         p.TenantID,
		KeepObjectID:     p.Keep.ID,
		KeepAssignmentID: p.KeepAssignmentID,
		Privileged:       append([]string(nil), p.Privileged...),
		SyncEnabled:      p.SyncEnabled,
		PIM:              p.PIM,
		EligibleOnly:     slices.Clone(p.EligibleOnly),
	}
	for _, s := range p.Subscriptions {
		f.Subscriptions = append(f.Subscriptions, Subscription{ID: s.ID, Status: s.Status})
	}
	for _, a := range p.Apps {
		f.Apps = append(f.Apps, a.ID)
	}
	for _, u := range p.Users {
		if u.Kind != KindPrivileged {
			f.OrdinaryUsers++
		}
	}
	return f
}

// ChannelOf classifies a subscription (see ChannelDirect).
func ChannelOf(s CompanySubscription, tenantID string) string {
	switch {
	case s.SelfService:
		return ChannelSelfService
	case s.OwnerTenantID != "" && !strings.EqualFold(s.OwnerTenantID, tenantID):
		return ChannelCSP
	}
	return ChannelDirect
}

// UntouchableApp reports whether closebot must never delete an app or
// service principal with this app id: closebot's own, or a first-party one.
func UntouchableApp(appID, closebotAppID string) bool {
	if appID == "" {
		return false
	}
	if closebotAppID != "" && strings.EqualFold(appID, closebotAppID) {
		return true
	}
	for _, id := range FirstPartyAppIDs {
		if strings.EqualFold(id, appID) {
			return true
		}
	}
	return false
}

// microsoftOwned reports whether Microsoft publishes the app (community
// convention on appOwnerOrganizationId, graph-wire §1.4, or the deny-list).
func microsoftOwned(sp ServicePrincipal) bool {
	for _, ms := range microsoftTenants {
		if strings.EqualFold(sp.AppOwnerOrganizationID, ms) {
			return true
		}
	}
	for _, id := range FirstPartyAppIDs {
		if strings.EqualFold(id, sp.AppID) {
			return true
		}
	}
	return false
}

// OtherPublisherSP reports whether a service principal is one step 5
// removes besides the tenant-owned Application ones: enabled, not
// Microsoft's, not closebot's, not a managed identity (it goes with its
// Azure resource).
func OtherPublisherSP(sp ServicePrincipal, tenantID, closebotAppID string) bool {
	switch {
	case !sp.AccountEnabled, sp.Type == "ManagedIdentity", microsoftOwned(sp),
		UntouchableApp(sp.AppID, closebotAppID), TenantOwnedApplicationSP(sp, tenantID, closebotAppID):
		return false
	}
	return true
}

// TenantOwnedApplicationSP reports whether step 5 may delete a service
// principal: type Application, owned by this tenant, not untouchable.
func TenantOwnedApplicationSP(sp ServicePrincipal, tenantID, closebotAppID string) bool {
	if sp.Type != "Application" || !strings.EqualFold(sp.AppOwnerOrganizationID, tenantID) {
		return false
	}
	for _, ms := range microsoftTenants {
		if strings.EqualFold(sp.AppOwnerOrganizationID, ms) {
			return false
		}
	}
	return !UntouchableApp(sp.AppID, closebotAppID)
}
