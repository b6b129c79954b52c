package graphtest

// The per-tenant object model. Objects keep their JSON properties in the
// names msgraph-sdk-go v1.89.0 models know, so a typed read leaves
// GetAdditionalData() empty apart from @odata.* annotations.

import (
	"sort"
	"strings"
	"time"
)

// dirObject is one directoryObject: user, group, device, application,
// servicePrincipal or administrativeUnit.
type dirObject struct {
	kind      string // OData type name: user, group, device, application, servicePrincipal, administrativeUnit
	id        string
	props     map[string]any // everything but id, @odata.type, deletedDateTime, onPremisesSyncEnabled
	deletedAt *time.Time

	synced      bool         // user mastered on-premises
	methods     []authMethod // user
	mfaState    string       // user: enforced, enabled, disabled
	undeletable bool         // service principal Graph refuses to delete
	members     []string     // administrative unit / group member ids
}

type authMethod struct {
	kind  string // passwordAuthenticationMethod, microsoftAuthenticatorAuthenticationMethod, …
	props map[string]any
}

func (m authMethod) json() map[string]any {
	out := map[string]any{"@odata.type": "#microsoft.graph." + m.kind}
	for k, v := range m.props {
		out[k] = v
	}
	return out
}

func (o *dirObject) str(k string) string { s, _ := o.props[k].(string); return s }

func (o *dirObject) boolean(k string) bool { b, _ := o.props[k].(bool); return b }

func (o *dirObject) odataType() string { return "#microsoft.graph." + o.kind }

// json is the object's full representation at now; withType adds
// @odata.type, which directoryObject collections need for the SDK's
// discriminator.
func (o *dirObject) json(t *tenantData, now time.Time, withType bool) map[string]any {
	out := make(map[string]any, len(o.props)+4)
	for k, v := range o.props {
		out[k] = v
	}
	out["id"] = o.id
	if withType {
		out["@odata.type"] = o.odataType()
	}
	if o.deletedAt != nil {
		out["deletedDateTime"] = stamp(*o.deletedAt)
	}
	if o.kind == "user" {
		switch {
		case t.userSynced(o, now):
			out["onPremisesSyncEnabled"] = true
		case o.synced:
			// Converted to cloud-only after sync-off; the flag reads false (assumed).
			out["onPremisesSyncEnabled"] = false
		default:
			out["onPremisesSyncEnabled"] = nil
		}
	}
	return out
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func stampPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return stamp(*t)
}

type domainRec struct {
	name      string
	initial   bool
	isDefault bool
	verified  bool
	federated bool
}

func (d *domainRec) json() map[string]any {
	auth := "Managed"
	if d.federated {
		auth = "Federated"
	}
	return map[string]any{
		"id": d.name, "authenticationType": auth, "isDefault": d.isDefault, "isInitial": d.initial,
		"isVerified": d.verified, "isAdminManaged": true, "isRoot": true,
		"supportedServices":  []string{"Email", "OfficeCommunicationsOnline"},
		"availabilityStatus": nil, "passwordNotificationWindowInDays": nil, "passwordValidityPeriodInDays": nil,
	}
}

type roleDef struct {
	id, name, description string
	privileged            bool
}

func (r *roleDef) json() map[string]any {
	return map[string]any{
		"id": r.id, "templateId": r.id, "displayName": r.name, "description": r.description,
		"isBuiltIn": true, "isEnabled": true, "version": "1", "resourceScopes": []string{"/"},
		"rolePermissions": []any{}, "inheritsPermissionsFrom": []any{},
	}
}

// roleGrant is an active role assignment or an eligibility, directory-wide.
type roleGrant struct {
	id, principalID, roleID string
	start                   time.Time
	end                     *time.Time // nil: permanent
	memberType              string     // Direct
}

type subscription struct {
	id, commerceID, skuID, skuPart string
	channel                        string // direct, csp, mca
	ownerType, ownerID, ownerTID   string
	status                         string // Enabled, Warning, Suspended, LockedOut, Deleted
	created                        time.Time
	next                           *time.Time
	trial                          bool
	licenses, consumed             int
	recurringOff                   bool // MCA: expires at term end
	deletedAt                      *time.Time
	selfService                    bool // self-service sign-up product (ownerType User)
}

func (s *subscription) json() map[string]any {
	return map[string]any{
		"id": s.id, "commerceSubscriptionId": s.commerceID, "skuId": s.skuID, "skuPartNumber": s.skuPart,
		"status": s.status, "createdDateTime": stamp(s.created), "nextLifecycleDateTime": stampPtr(s.next),
		"isTrial": s.trial, "totalLicenses": s.licenses, "ownerId": s.ownerID, "ownerTenantId": s.ownerTID,
		"ownerType": s.ownerType, "serviceStatus": s.serviceStatus(),
	}
}

// serviceStatus lists the SKU's service plans (servicePlanInfo), provisioned
// while the subscription is not Deleted.
func (s *subscription) serviceStatus() []any {
	out := []any{}
	for _, p := range plansOf(s.skuPart) {
		status := "Success"
		switch s.status {
		case "Suspended", "LockedOut":
			status = "Disabled"
		case "Deleted":
			status = "Deleted"
		}
		out = append(out, map[string]any{"servicePlanId": p.id, "servicePlanName": p.name,
			"provisioningStatus": status, "appliesTo": "User"})
	}
	return out
}

type caPolicy struct {
	id, name, state  string
	created, changed time.Time
	includeUsers     []string
	excludeUsers     []string
	builtIn          []string
}

func (p *caPolicy) json() map[string]any {
	return map[string]any{
		"id": p.id, "displayName": p.name, "state": p.state, "createdDateTime": stamp(p.created),
		"modifiedDateTime": stamp(p.changed), "templateId": nil, "description": nil,
		"conditions": map[string]any{
			"clientAppTypes": []string{"all"},
			"users": map[string]any{"includeUsers": nonNil(p.includeUsers), "excludeUsers": nonNil(p.excludeUsers),
				"includeGroups": []string{}, "excludeGroups": []string{}, "includeRoles": []string{}, "excludeRoles": []string{}},
			"applications": map[string]any{"includeApplications": []string{"All"}, "excludeApplications": []string{}},
		},
		"grantControls": map[string]any{"operator": "OR", "builtInControls": nonNil(p.builtIn)},
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type ediscoveryCase struct {
	id, name     string
	created      time.Time
	custodians   []*custodian
	noncustody   []*custodian // non-custodial data sources: same hold fields
	holdPolicies []*holdPolicy
}

// holdPolicy is a case's legal hold policy (v1.0 ediscoveryHoldPolicy):
// isEnabled and status (pending, error, success).
type holdPolicy struct {
	id, name, query string
	enabled         bool
	status          string // pending, error, success
	created, mod    time.Time
}

func (h *holdPolicy) json() map[string]any {
	return map[string]any{
		"id": h.id, "displayName": h.name, "description": "Legal hold for the case", "isEnabled": h.enabled,
		"status": h.status, "contentQuery": h.query, "errors": []string{},
		"createdDateTime": stamp(h.created), "lastModifiedDateTime": stamp(h.mod),
		"createdBy":      map[string]any{"user": map[string]any{"displayName": "eDiscovery Manager"}},
		"lastModifiedBy": map[string]any{"user": map[string]any{"displayName": "eDiscovery Manager"}},
	}
}

func (e *ediscoveryCase) json() map[string]any {
	return map[string]any{
		"id": e.id, "displayName": e.name, "description": "", "status": "active",
		"createdDateTime": stamp(e.created), "lastModifiedDateTime": stamp(e.created),
	}
}

type custodian struct {
	id, name, email  string
	holdStatus       string // applied, notApplied, …
	status           string // active, released
	created          time.Time
	released, acked  *time.Time
	lastModifiedTime time.Time
}

func (c *custodian) json() map[string]any {
	return map[string]any{
		"id": c.id, "displayName": c.name, "email": c.email, "holdStatus": c.holdStatus, "status": c.status,
		"createdDateTime": stamp(c.created), "lastModifiedDateTime": stamp(c.lastModifiedTime),
		"releasedDateTime": stampPtr(c.released), "acknowledgedDateTime": stampPtr(c.acked),
	}
}

// noncustodialJSON is a non-custodial data source (v1.0
// ediscoveryNoncustodialDataSource: a dataSourceContainer without email).
func (c *custodian) noncustodialJSON() map[string]any {
	return map[string]any{
		"id": c.id, "displayName": c.name, "holdStatus": c.holdStatus, "status": c.status,
		"createdDateTime": stamp(c.created), "lastModifiedDateTime": stamp(c.lastModifiedTime),
		"releasedDateTime": stampPtr(c.released),
	}
}

// tenantData is one tenant's whole directory.
type tenantData struct {
	id, name      string
	initialDomain string
	domains       []*domainRec
	tenantType    string
	created       time.Time
	deleted       bool
	deletedAt     time.Time

	syncConfigured bool // the tenant has ever synced from on-premises
	syncEnabled    bool
	syncOffAt      time.Time
	syncDelay      time.Duration // how long synced users stay synced after sync-off
	syncOffRefused bool          // PATCH onPremisesSyncEnabled=false is refused (403)
	lastSync       time.Time

	objects       map[string]*dirObject
	roleDefs      map[string]*roleDef
	assignments   map[string]*roleGrant
	eligibilities map[string]*roleGrant
	subs          map[string]*subscription
	secDefaults   bool
	ca            map[string]*caPolicy
	cases         map[string]*ediscoveryCase

	keptAdmin     string // object id
	closebotAppID string
	linkedAzure   bool // an Azure subscription relies on the tenant (not in Graph)
}

func newTenantData() *tenantData {
	return &tenantData{
		objects: map[string]*dirObject{}, roleDefs: map[string]*roleDef{}, assignments: map[string]*roleGrant{},
		eligibilities: map[string]*roleGrant{}, subs: map[string]*subscription{}, ca: map[string]*caPolicy{},
		cases: map[string]*ediscoveryCase{}, tenantType: "AAD",
	}
}

func (t *tenantData) userSynced(o *dirObject, now time.Time) bool {
	if !o.synced {
		return false
	}
	if t.syncEnabled {
		return true
	}
	return now.Before(t.syncOffAt.Add(t.syncDelay))
}

// live returns the object id if it exists and is not soft-deleted.
func (t *tenantData) live(id string) *dirObject {
	o := t.objects[strings.ToLower(id)]
	if o == nil || o.deletedAt != nil {
		return nil
	}
	return o
}

func (t *tenantData) liveKind(id, kind string) *dirObject {
	if o := t.live(id); o != nil && o.kind == kind {
		return o
	}
	return nil
}

func (t *tenantData) findUser(idOrUPN string) *dirObject {
	if o := t.liveKind(idOrUPN, "user"); o != nil {
		return o
	}
	if !strings.Contains(idOrUPN, "@") {
		return nil
	}
	for _, o := range t.objects {
		if o.kind == "user" && o.deletedAt == nil && strings.EqualFold(o.str("userPrincipalName"), idOrUPN) {
			return o
		}
	}
	return nil
}

// byKind returns live (or soft-deleted) objects of a kind sorted by id.
func (t *tenantData) byKind(kind string, deleted bool) []*dirObject {
	var out []*dirObject
	for _, o := range t.objects {
		if o.kind == kind && (o.deletedAt != nil) == deleted {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

func (t *tenantData) liveCount(kind string) int {
	n := 0
	for _, o := range t.objects {
		if o.kind == kind && o.deletedAt == nil {
			n++
		}
	}
	return n
}

// rolesOf returns the role ids a principal holds actively now.
func (t *tenantData) rolesOf(principal string, now time.Time) []string {
	var out []string
	for _, g := range t.assignments {
		if g.principalID == principal && grantActive(g, now) {
			out = append(out, g.roleID)
		}
	}
	return out
}

func grantActive(g *roleGrant, now time.Time) bool {
	return !now.Before(g.start) && (g.end == nil || now.Before(*g.end))
}

// settle applies everything the clock decides: purge of soft-deleted
// objects after 30 days and the subscription lifecycle.
func (t *tenantData) settle(now time.Time) {
	for id, o := range t.objects {
		if o.deletedAt != nil && !now.Before(o.deletedAt.Add(deletedRetention)) {
			delete(t.objects, id)
		}
	}
	for id, s := range t.subs {
		for s.advance(now) {
		}
		if s.status == "Deleted" && s.deletedAt != nil && !now.Before(s.deletedAt.Add(72*time.Hour)) {
			delete(t.subs, id)
		}
	}
}

// Lifecycle lengths (documented for Microsoft 365 business subscriptions:
// Expired 30 days, Disabled 90 days, then deleted; deprovisioning of a
// deleted subscription takes up to 72 hours).
const (
	expiredPeriod  = 30 * 24 * time.Hour
	disabledPeriod = 90 * 24 * time.Hour
	deprovisioning = 72 * time.Hour
)

// advance moves a subscription one lifecycle step if its date has passed.
func (s *subscription) advance(now time.Time) bool {
	if s.next == nil || now.Before(*s.next) {
		return false
	}
	at := *s.next
	switch s.status {
	case "Enabled":
		if !s.recurringOff {
			s.next = ptrTime(at.AddDate(1, 0, 0)) // renews for another term
			return true
		}
		s.status = "Warning"
		s.next = ptrTime(at.Add(expiredPeriod))
	case "Warning":
		s.status = "Suspended"
		s.next = ptrTime(at.Add(disabledPeriod))
	case "Suspended", "LockedOut":
		s.status = "Deleted"
		s.deletedAt = ptrTime(at)
		s.next = ptrTime(at.Add(deprovisioning))
	default:
		return false
	}
	return true
}

func ptrTime(t time.Time) *time.Time { return &t }
