package graphtest

// "Human" actions: what an administrator does in the Microsoft 365 or
// Entra admin centers, where no API exists (graph-wire.md §0), plus test
// accessors. All are plain methods so control.go can mount them over HTTP.

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ErrNoTenant is returned for an unknown or deleted tenant.
var ErrNoTenant = errors.New("graphtest: no such tenant")

// ErrNotFound is returned for an unknown object.
var ErrNotFound = errors.New("graphtest: no such object")

// Tenant is a test handle on a seeded tenant.
type Tenant struct {
	s             *Server
	ID            string // tenant id
	Domain        string // initial *.onmicrosoft.com domain
	Name          string
	ClosebotAppID string
	keptAdmin     string
}

// Tenant returns the handle of a seeded tenant (deleted ones included), nil if unknown.
func (s *Server) Tenant(idOrDomain string) *Tenant {
	s.dir.mu.Lock()
	defer s.dir.mu.Unlock()
	t := s.dir.lookupTenant(idOrDomain)
	if t == nil {
		return nil
	}
	return &Tenant{s: s, ID: t.id, Domain: t.initialDomain, Name: t.name, ClosebotAppID: t.closebotAppID, keptAdmin: t.keptAdmin}
}

// UserInfo describes a user for assertions.
type UserInfo struct {
	ID, UPN    string
	UserType   string   // Member or Guest
	Synced     bool     // mastered on-premises (now)
	Enabled    bool     // accountEnabled
	Roles      []string // active role template ids
	Eligible   []string // eligible role template ids
	MFAState   string   // per-user MFA: enforced, enabled, disabled
	Deleted    bool     // soft-deleted
	Restricted bool     // member of a restricted-management admin unit
}

// with runs f on the tenant under the directory lock, settled to now.
func (t *Tenant) with(f func(td *tenantData, now time.Time) error) error {
	d := t.s.dir
	d.mu.Lock()
	defer d.mu.Unlock()
	td := d.tenants[t.ID]
	if td == nil {
		return ErrNoTenant
	}
	now := d.now()
	td.settle(now)
	return f(td, now)
}

func (td *tenantData) userInfo(o *dirObject, now time.Time) UserInfo {
	u := UserInfo{
		ID: o.id, UPN: o.str("userPrincipalName"), UserType: o.str("userType"), Synced: td.userSynced(o, now),
		Enabled: o.boolean("accountEnabled"), Roles: td.rolesOf(o.id, now), MFAState: o.mfaState,
		Deleted: o.deletedAt != nil, Restricted: td.inRestrictedAU(o.id),
	}
	for _, g := range td.eligibilities {
		if g.principalID == o.id {
			u.Eligible = append(u.Eligible, g.roleID)
		}
	}
	sort.Strings(u.Roles)
	return u
}

// Users lists live users sorted by id.
func (t *Tenant) Users() []UserInfo {
	var out []UserInfo
	_ = t.with(func(td *tenantData, now time.Time) error {
		for _, o := range td.byKind("user", false) {
			out = append(out, td.userInfo(o, now))
		}
		return nil
	})
	return out
}

// User describes one user (soft-deleted ones included) by id or UPN.
func (t *Tenant) User(idOrUPN string) (UserInfo, bool) {
	var out UserInfo
	found := false
	_ = t.with(func(td *tenantData, now time.Time) error {
		o := td.objects[strings.ToLower(idOrUPN)]
		if o == nil {
			o = td.findUser(idOrUPN)
		}
		if o != nil && o.kind == "user" {
			out, found = td.userInfo(o, now), true
		}
		return nil
	})
	return out, found
}

// KeptAdmin is the seeded admin who finishes the closure.
func (t *Tenant) KeptAdmin() UserInfo {
	u, _ := t.User(t.keptAdmin)
	return u
}

// Count returns the number of live objects of a kind: user, group, device,
// application, servicePrincipal, administrativeUnit; or subscription,
// conditionalAccessPolicy, ediscoveryCase.
func (t *Tenant) Count(kind string) int {
	n := 0
	_ = t.with(func(td *tenantData, now time.Time) error {
		switch kind {
		case "subscription":
			n = len(td.subs)
		case "conditionalAccessPolicy":
			n = len(td.ca)
		case "ediscoveryCase":
			n = len(td.cases)
		default:
			n = td.liveCount(kind)
		}
		return nil
	})
	return n
}

// DeletedCount returns the number of soft-deleted objects of a kind.
func (t *Tenant) DeletedCount(kind string) int {
	n := 0
	_ = t.with(func(td *tenantData, now time.Time) error {
		n = len(td.byKind(kind, true))
		return nil
	})
	return n
}

// IDs lists the live object ids of a kind, sorted.
func (t *Tenant) IDs(kind string) []string {
	var out []string
	_ = t.with(func(td *tenantData, now time.Time) error {
		for _, o := range td.byKind(kind, false) {
			out = append(out, o.id)
		}
		return nil
	})
	return out
}

// SubscriptionInfo describes a subscription for assertions.
type SubscriptionInfo struct {
	ID, CommerceID, SkuPartNumber string
	Channel                       string // direct, csp, mca
	Status                        string
	NextLifecycle                 *time.Time
}

// Subscriptions lists subscriptions still visible in Graph, sorted by id.
func (t *Tenant) Subscriptions() []SubscriptionInfo {
	var out []SubscriptionInfo
	_ = t.with(func(td *tenantData, now time.Time) error {
		for _, id := range sortedIDs(td.subs) {
			s := td.subs[id]
			out = append(out, SubscriptionInfo{ID: s.id, CommerceID: s.commerceID, SkuPartNumber: s.skuPart,
				Channel: s.channel, Status: s.status, NextLifecycle: s.next})
		}
		return nil
	})
	return out
}

// CaseIDs lists eDiscovery case ids.
func (t *Tenant) CaseIDs() []string {
	var out []string
	_ = t.with(func(td *tenantData, now time.Time) error {
		out = sortedIDs(td.cases)
		return nil
	})
	return out
}

// SecurityDefaults reports whether security defaults are on.
func (t *Tenant) SecurityDefaults() bool {
	on := false
	_ = t.with(func(td *tenantData, now time.Time) error { on = td.secDefaults; return nil })
	return on
}

// SyncEnabled reports the organization's onPremisesSyncEnabled.
func (t *Tenant) SyncEnabled() bool {
	on := false
	_ = t.with(func(td *tenantData, now time.Time) error { on = td.syncEnabled; return nil })
	return on
}

// SetSyncOffRefused makes PATCH onPremisesSyncEnabled=false answer 403, so
// the product's "run Update-MgOrganization yourself" gate can be tested.
func (t *Tenant) SetSyncOffRefused(refused bool) error {
	return t.with(func(td *tenantData, now time.Time) error { td.syncOffRefused = refused; return nil })
}

// --- human actions ---------------------------------------------------------

// CancelSubscription is the admin-center "Cancel subscription" (direct), the
// partner's cancellation (CSP) or turning off recurring billing (MCA). Direct
// and CSP subscriptions go to Suspended (the admin center's "Disabled") for
// 90 days; MCA stays Enabled until its term ends, then Warning 30 days,
// Suspended 90 days. The clock advances the lifecycle afterwards.
func (t *Tenant) CancelSubscription(subID string) error {
	return t.with(func(td *tenantData, now time.Time) error {
		s := td.subs[strings.ToLower(subID)]
		if s == nil {
			return fmt.Errorf("subscription %s: %w", subID, ErrNotFound)
		}
		switch s.status {
		case "Enabled", "Warning":
		default:
			return fmt.Errorf("subscription %s is %s: nothing to cancel", subID, s.status)
		}
		if s.channel == "mca" {
			s.recurringOff = true
			return nil
		}
		s.status = "Suspended"
		s.next = ptrTime(now.Add(disabledPeriod))
		return nil
	})
}

// DeleteSubscription is the admin-center "Delete subscription" on a disabled
// subscription: Deleted now, absent from Graph 72 hours later.
func (t *Tenant) DeleteSubscription(subID string) error {
	return t.with(func(td *tenantData, now time.Time) error {
		s := td.subs[strings.ToLower(subID)]
		if s == nil {
			return fmt.Errorf("subscription %s: %w", subID, ErrNotFound)
		}
		if s.status == "Enabled" {
			return fmt.Errorf("subscription %s is Enabled: cancel it first", subID)
		}
		if s.status != "Deleted" {
			s.status, s.deletedAt, s.next = "Deleted", ptrTime(now), ptrTime(now.Add(deprovisioning))
		}
		return nil
	})
}

// AdvanceSubscription moves a subscription to its next lifecycle state now,
// as if its nextLifecycleDateTime had passed.
func (t *Tenant) AdvanceSubscription(subID string) error {
	return t.with(func(td *tenantData, now time.Time) error {
		s := td.subs[strings.ToLower(subID)]
		if s == nil {
			return fmt.Errorf("subscription %s: %w", subID, ErrNotFound)
		}
		if s.status == "Enabled" && !s.recurringOff {
			return fmt.Errorf("subscription %s is Enabled and renewing", subID)
		}
		s.next = ptrTime(now)
		s.advance(now)
		td.settle(now)
		return nil
	})
}

// ReleaseHold releases every hold of an eDiscovery case (Purview → the
// case → Data sources / Hold policies → release): custodians, non-custodial
// data sources and hold policies.
func (t *Tenant) ReleaseHold(caseID string) error {
	for _, src := range []string{HoldCustodian, HoldNoncustodial, HoldPolicy} {
		if err := t.SetHold(caseID, src, "notApplied"); err != nil {
			return err
		}
	}
	return nil
}

// Where a hold is placed, for SetHold.
const (
	HoldCustodian    = "custodian"
	HoldNoncustodial = "noncustodial"
	HoldPolicy       = "policy"
)

// SetHold places, changes or releases the holds of one kind in an
// eDiscovery case (Purview): status is a holdStatus, notApplied, applied,
// applying, removing or partial. A hold policy shows it as isEnabled and
// status: applied = enabled/success, applying = enabled/pending, removing =
// disabled/pending, partial = enabled/error, notApplied = disabled/success.
func (t *Tenant) SetHold(caseID, source, status string) error {
	return t.with(func(td *tenantData, now time.Time) error {
		c := td.cases[strings.ToLower(caseID)]
		if c == nil {
			return fmt.Errorf("case %s: %w", caseID, ErrNotFound)
		}
		switch source {
		case HoldCustodian, HoldNoncustodial:
			list := c.custodians
			if source == HoldNoncustodial {
				list = c.noncustody
			}
			for _, cu := range list {
				cu.holdStatus, cu.lastModifiedTime = status, now
				if status == "notApplied" {
					cu.status, cu.released = "released", ptrTime(now)
				} else {
					cu.status, cu.released = "active", nil
				}
			}
		case HoldPolicy:
			for _, h := range c.holdPolicies {
				h.mod = now
				switch status {
				case "applied":
					h.enabled, h.status = true, "success"
				case "applying":
					h.enabled, h.status = true, "pending"
				case "removing":
					h.enabled, h.status = false, "pending"
				case "partial":
					h.enabled, h.status = true, "error"
				case "notApplied":
					h.enabled, h.status = false, "success"
				default:
					return fmt.Errorf("hold policy status %q: want applied, applying, removing, partial or notApplied", status)
				}
			}
		default:
			return fmt.Errorf("hold source %q: want custodian, noncustodial or policy", source)
		}
		return nil
	})
}

// DeleteSelfServiceProduct is Entra admin center → Licenses → Self-service
// sign-up products → Delete: the product is Deleted now and, like any
// deleted subscription, deprovisioned (absent from Graph) 72 hours later.
func (t *Tenant) DeleteSelfServiceProduct(subID string) error {
	return t.with(func(td *tenantData, now time.Time) error {
		s := td.subs[strings.ToLower(subID)]
		if s == nil {
			return fmt.Errorf("subscription %s: %w", subID, ErrNotFound)
		}
		if !s.selfService {
			return fmt.Errorf("subscription %s is not a self-service sign-up product: cancel it under Billing", subID)
		}
		if s.status != "Deleted" {
			s.status, s.deletedAt, s.next = "Deleted", ptrTime(now), ptrTime(now.Add(deprovisioning))
		}
		return nil
	})
}

// RemoveAzureSubscription is the Azure portal's cancel and delete (or the
// transfer to another tenant) of every Azure subscription tied to the
// tenant; their managed identities go with their resources.
func (t *Tenant) RemoveAzureSubscription() error {
	return t.with(func(td *tenantData, now time.Time) error {
		td.linkedAzure = false
		for _, o := range td.byKind("servicePrincipal", false) {
			if o.str("servicePrincipalType") == "ManagedIdentity" {
				o.deletedAt = ptrTime(now)
			}
		}
		return nil
	})
}

// RemoveFromRestrictedUnits is an administrator scoped to the units
// removing users (object ids) from every restricted-management
// administrative unit (Entra admin center → Admin units → the unit →
// Users → Remove), the fix closebot's restricted-unit gate asks for.
func (t *Tenant) RemoveFromRestrictedUnits(userIDs ...string) error {
	return t.with(func(td *tenantData, now time.Time) error {
		for _, au := range td.byKind("administrativeUnit", false) {
			if !au.boolean("isMemberManagementRestricted") {
				continue
			}
			kept := au.members[:0]
			for _, m := range au.members {
				if !containsFold(userIDs, m) {
					kept = append(kept, m)
				}
			}
			au.members = kept
		}
		return nil
	})
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// RenameUser is an administrator changing a user's sign-in name (Update
// user, PATCH userPrincipalName: the object id stays, the UPN a config
// names no longer resolves). The new name must be free, as Graph requires.
func (t *Tenant) RenameUser(userIDOrUPN, newUPN string) error {
	return t.with(func(td *tenantData, now time.Time) error {
		u := td.findUser(userIDOrUPN)
		if u == nil {
			return fmt.Errorf("user %s: %w", userIDOrUPN, ErrNotFound)
		}
		if o := td.findUser(newUPN); o != nil && o != u {
			return fmt.Errorf("user %s: another object already uses %s", userIDOrUPN, newUPN)
		}
		u.props["userPrincipalName"] = newUPN
		return nil
	})
}

// AssignRole is an administrator giving a user an active, permanent, direct
// directory role (e.g. another Global Administrator appearing mid-closure:
// the drift a closure must notice).
func (t *Tenant) AssignRole(userIDOrUPN, roleTemplateID string) error {
	return t.with(func(td *tenantData, now time.Time) error {
		u := td.findUser(userIDOrUPN)
		if u == nil || u.deletedAt != nil {
			return fmt.Errorf("user %s: %w", userIDOrUPN, ErrNotFound)
		}
		g := &roleGrant{id: newGUID(), principalID: u.id, roleID: strings.ToLower(roleTemplateID), start: now, memberType: "Direct"}
		td.assignments[g.id] = g
		return nil
	})
}

// AssignClosebotRole is an administrator assigning a directory role to
// closebot's service principal (Roles & admins → Add assignments, or
// New-MgRoleManagementDirectoryRoleAssignment): active, permanent, direct,
// at the directory scope, as Graph then lists it.
func (t *Tenant) AssignClosebotRole(roleTemplateID string) error {
	return t.with(func(td *tenantData, now time.Time) error {
		sp := td.closebotSP()
		if sp == nil {
			return fmt.Errorf("no closebot service principal: %w", ErrNotFound)
		}
		for _, g := range td.assignments {
			if g.principalID == sp.id && strings.EqualFold(g.roleID, roleTemplateID) {
				return nil
			}
		}
		g := &roleGrant{id: newGUID(), principalID: sp.id, roleID: strings.ToLower(roleTemplateID), start: now, memberType: "Direct"}
		td.assignments[g.id] = g
		return nil
	})
}

// RemoveClosebotRole is an administrator removing that assignment again.
func (t *Tenant) RemoveClosebotRole(roleTemplateID string) error {
	return t.with(func(td *tenantData, now time.Time) error {
		sp := td.closebotSP()
		if sp == nil {
			return fmt.Errorf("no closebot service principal: %w", ErrNotFound)
		}
		for id, g := range td.assignments {
			if g.principalID == sp.id && strings.EqualFold(g.roleID, roleTemplateID) {
				delete(td.assignments, id)
			}
		}
		return nil
	})
}

// ClosebotRoles are the role template ids closebot's service principal
// holds now.
func (t *Tenant) ClosebotRoles() []string {
	var out []string
	_ = t.with(func(td *tenantData, now time.Time) error {
		if sp := td.closebotSP(); sp != nil {
			out = td.rolesOf(sp.id, now)
		}
		return nil
	})
	return out
}

// closebotSP is closebot's live service principal, if any.
func (td *tenantData) closebotSP() *dirObject {
	for _, o := range td.byKind("servicePrincipal", false) {
		if td.closebotAppID != "" && strings.EqualFold(o.str("appId"), td.closebotAppID) {
			return o
		}
	}
	return nil
}

// TurnSyncOff is Update-MgOrganization run by a Hybrid Identity Admin.
func (t *Tenant) TurnSyncOff() error {
	return t.with(func(td *tenantData, now time.Time) error {
		if td.syncEnabled {
			td.syncEnabled, td.syncOffAt = false, now
		}
		return nil
	})
}

// RemoveClosebotApp is the kept admin deleting closebot's app registration
// (and so its service principal) at the end; purge hard-deletes both.
func (t *Tenant) RemoveClosebotApp(purge bool) error {
	return t.with(func(td *tenantData, now time.Time) error {
		if td.closebotAppID == "" {
			return fmt.Errorf("no closebot app: %w", ErrNotFound)
		}
		for id, o := range td.objects {
			if (o.kind == "application" || o.kind == "servicePrincipal") && strings.EqualFold(o.str("appId"), td.closebotAppID) {
				if purge {
					delete(td.objects, id)
				} else if o.deletedAt == nil {
					o.deletedAt = ptrTime(now)
				}
			}
		}
		return nil
	})
}

// DeleteTenantChecks lists what the Entra admin center's "Delete tenant"
// checks would refuse now, each line starting with the check's name
// (Microsoft's "Delete a tenant in Microsoft Entra ID"); empty means go.
func (t *Tenant) DeleteTenantChecks() []string {
	var out []string
	_ = t.with(func(td *tenantData, now time.Time) error {
		if n := td.liveCount("user"); n > 1 {
			out = append(out, fmt.Sprintf("Users: %d users remain; delete every user except the one Global Administrator deleting the organization", n))
		}
		if td.syncEnabled {
			out = append(out, "Users: users are synchronized from on-premises; turn off the sync first")
		}
		if n := td.liveCount("application"); n > 0 {
			out = append(out, fmt.Sprintf("Applications: %d app registrations remain; remove any applications before you delete the organization", n))
		}
		for _, o := range td.byKind("servicePrincipal", false) {
			owner, typ := o.str("appOwnerOrganizationId"), o.str("servicePrincipalType")
			if owner == microsoftServicesTenant || owner == microsoftCorpTenant || typ == "ManagedIdentity" || !o.boolean("accountEnabled") {
				continue
			}
			out = append(out, fmt.Sprintf("Enterprise applications: %s (%s) is enabled; delete it, or set accountEnabled to false if it can't be deleted", o.str("displayName"), o.id))
		}
		for _, id := range sortedIDs(td.subs) {
			s := td.subs[id]
			if s.selfService {
				out = append(out, fmt.Sprintf("Self-service sign-up products: %s (%s) is %s; delete it under Licenses > Self-service sign-up products", s.skuPart, s.id, s.status))
				continue
			}
			out = append(out, fmt.Sprintf("Subscriptions: %s (%s) is %s, not Deprovisioned; cancel and delete it, deprovisioning takes 72 hours", s.skuPart, s.id, s.status))
		}
		if td.linkedAzure {
			out = append(out, "Azure subscriptions: an Azure subscription is associated with the organization; cancel and delete it, or transfer it to another tenant")
		}
		for _, o := range td.byKind("servicePrincipal", false) {
			if o.str("servicePrincipalType") == "ManagedIdentity" {
				out = append(out, fmt.Sprintf("Azure subscriptions: managed identity %s belongs to an Azure resource; delete the Azure subscription that holds it", o.str("displayName")))
			}
		}
		return nil
	})
	return out
}

// DeleteTenant is Entra admin center → Manage tenants → Delete. It refuses
// while DeleteTenantChecks finds anything unless force. Afterwards Graph and
// discovery answer as for an unknown tenant (AADSTS90002).
func (t *Tenant) DeleteTenant(force bool) error {
	if problems := t.DeleteTenantChecks(); len(problems) > 0 && !force {
		return fmt.Errorf("tenant %s cannot be deleted: %s", t.ID, strings.Join(problems, "; "))
	}
	return t.with(func(td *tenantData, now time.Time) error {
		td.deleted, td.deletedAt = true, now
		return nil
	})
}
