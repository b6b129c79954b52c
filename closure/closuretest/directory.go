package closuretest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/closebot/closebot/closure"
)

// Write is one write the fake Directory accepted or refused.
type Write struct {
	Op       string // "disable_sync", "delete_user", "restore_user", "purge", "set_mfa", "delete_app", "delete_sp"
	ID       string
	Value    string // new value, if any
	Previous string // previous value, if any
	Refused  bool
}

// Directory is an in-memory closure.Directory modelling one tenant the way
// the Graph emulator does (closure/graphtest/FIDELITY.graph.md): synced
// users cannot be deleted while synced and turn cloud-only ConversionDelay
// after sync-off; members of restricted admin units answer 403; deleted
// users go to deleted items (restorable, purgeable) and drop out of role
// assignments and units; subscriptions move when a test says so; tenant
// deletion makes the authority answer "not found". Every write is recorded.
type Directory struct {
	mu    sync.Mutex
	clock closure.Clock

	org       closure.Organization
	domains   []closure.Domain
	users     []*closure.User // in creation order
	deleted   map[string]*closure.User
	active    []closure.RoleAssignment
	eligible  []closure.RoleAssignment
	units     []closure.AdministrativeUnit
	methods   map[string][]string
	mfa       map[string]string
	subs      []closure.CompanySubscription
	secDef    bool
	ca        []closure.CAPolicy
	counts    closure.DataCounts
	holds     []closure.LegalHold
	apps      []closure.Application
	sps       []closure.ServicePrincipal
	deletedOb map[string]string // deleted app / SP ids → kind
	syncOffAt time.Time
	gone      bool
	writes    []Write
	revoked   map[string]bool // application permissions of DefaultPermissions closebot's app lost
	extra     map[string]bool // application permissions granted beyond DefaultPermissions

	// ConversionDelay is how long synced users stay synced after sync-off.
	ConversionDelay time.Duration
	// SyncOffRefused makes DisableSync answer 403.
	SyncOffRefused bool
	// MFARefused makes SetPerUserMFA answer 403.
	MFARefused bool
	// NoPIM makes the PIM reads (ActiveSchedules, EligibleAssignments)
	// answer 400 AadPremiumLicenseRequired, as a tenant without Entra ID P2.
	NoPIM bool
	// NoP1 makes ConditionalAccessPolicies answer 403
	// Authentication_RequestFromNonPremiumTenantOrB2CTenant, as a tenant
	// without Entra ID P1.
	NoP1 bool
	// SPDeleteRefused names service principals DeleteServicePrincipal
	// answers 403 for (a third-party app the tenant cannot delete).
	SPDeleteRefused map[string]bool
	// Proof is what ProveSignIn returns (after showing a code); ProofErr
	// makes it fail.
	Proof    closure.SignInProof
	ProofErr error
	// BeforeWrite, if set, runs before every write; an error refuses it
	// (tests use it to cancel a context or pause mid-step).
	BeforeWrite func(w Write) error
	// AfterWrite, if set, runs after every accepted write.
	AfterWrite func(w Write)
}

var _ closure.Directory = (*Directory)(nil)

// NewDirectory returns an empty AAD tenant.
func NewDirectory(tenantID, name string, clock closure.Clock) *Directory {
	return &Directory{
		clock:     clock,
		org:       closure.Organization{ID: tenantID, DisplayName: name, TenantType: "AAD"},
		deleted:   map[string]*closure.User{},
		methods:   map[string][]string{},
		mfa:       map[string]string{},
		deletedOb: map[string]string{},
	}
}

// --- test set-up and human actions ---

// SetOrganization replaces the organization (keep ID stable).
func (d *Directory) SetOrganization(o closure.Organization) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.org = o
}

// AddDomain adds a domain.
func (d *Directory) AddDomain(dm closure.Domain) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.domains = append(d.domains, dm)
}

// AddUser adds a user (Enabled as given).
func (d *Directory) AddUser(u closure.User) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := u
	d.users = append(d.users, &c)
}

// UpdateUser changes a user in place.
func (d *Directory) UpdateUser(id string, f func(*closure.User)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if u := d.findLocked(id); u != nil {
		f(u)
	}
}

// AddRole adds an active (eligible=false) or eligible role assignment.
func (d *Directory) AddRole(a closure.RoleAssignment, eligible bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if eligible {
		d.eligible = append(d.eligible, a)
	} else {
		d.active = append(d.active, a)
	}
}

// RemoveRoles removes every assignment of a principal.
func (d *Directory) RemoveRoles(principalID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	of := func(a closure.RoleAssignment) bool { return a.PrincipalID == principalID }
	d.active = slices.DeleteFunc(d.active, of)
	d.eligible = slices.DeleteFunc(d.eligible, of)
}

// AddUnit adds an administrative unit.
func (d *Directory) AddUnit(u closure.AdministrativeUnit) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.units = append(d.units, u)
}

// RemoveFromUnits removes a user from every administrative unit (the
// human's action at the restricted-unit gate).
func (d *Directory) RemoveFromUnits(userID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.units {
		d.units[i].Members = slices.DeleteFunc(d.units[i].Members, func(m string) bool { return m == userID })
	}
}

// SetMethods sets a user's registered authentication methods.
func (d *Directory) SetMethods(userID string, methods ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.methods[userID] = methods
}

// SetMFA sets a user's per-user MFA state.
func (d *Directory) SetMFA(userID, state string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.mfa[userID] = state
}

// MFA returns a user's per-user MFA state.
func (d *Directory) MFA(userID string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.mfaLocked(userID)
}

func (d *Directory) mfaLocked(id string) string {
	if s, ok := d.mfa[id]; ok {
		return s
	}
	return "disabled"
}

// AddSubscription adds a subscription.
func (d *Directory) AddSubscription(s closure.CompanySubscription) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.subs = append(d.subs, s)
}

// SetSubscription moves a subscription to a status (a human's billing
// action or Microsoft's lifecycle); "" removes it.
func (d *Directory) SetSubscription(id, status string, next time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.subs {
		if d.subs[i].ID == id {
			if status == "" {
				d.subs = slices.Delete(d.subs, i, i+1)
				return
			}
			d.subs[i].Status, d.subs[i].NextLifecycle = status, next
			return
		}
	}
}

// SetSecurityDefaults sets the security defaults policy.
func (d *Directory) SetSecurityDefaults(on bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.secDef = on
}

// AddCAPolicy adds a conditional-access policy.
func (d *Directory) AddCAPolicy(p closure.CAPolicy) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ca = append(d.ca, p)
}

// SetCounts sets the data counts.
func (d *Directory) SetCounts(c closure.DataCounts) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.counts = c
}

// AddHold adds an eDiscovery custodian.
func (d *Directory) AddHold(h closure.LegalHold) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.holds = append(d.holds, h)
}

// SetHoldStatus changes the status of every hold named name (a release in
// Purview, say).
func (d *Directory) SetHoldStatus(name, status string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.holds {
		if d.holds[i].Name == name {
			d.holds[i].HoldStatus = status
		}
	}
}

// AddApp adds an app registration.
func (d *Directory) AddApp(a closure.Application) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.apps = append(d.apps, a)
}

// AddSP adds a service principal.
func (d *Directory) AddSP(sp closure.ServicePrincipal) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sps = append(d.sps, sp)
}

// Apps and SPs return the current app registrations and service principals.
func (d *Directory) Apps() []closure.Application {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.apps)
}

// SPs returns the current service principals.
func (d *Directory) SPs() []closure.ServicePrincipal {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.sps)
}

// UserIDs returns the ids of the live users.
func (d *Directory) UserIDs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, u := range d.users {
		out = append(out, u.ID)
	}
	return out
}

// DeletedIDs returns the ids of soft-deleted users.
func (d *Directory) DeletedIDs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for id := range d.deleted {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// TurnSyncOff is the human running Update-MgOrganization at the sync gate.
func (d *Directory) TurnSyncOff() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.org.SyncEnabled = false
	d.syncOffAt = d.clock.Now()
}

// HumanDeleteUser is a person deleting a user in a portal.
func (d *Directory) HumanDeleteUser(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.deleteUserLocked(id)
}

// DeleteTenant is the kept admin deleting the tenant: closebot's app
// (appID) first, then the tenant, if the portal's pre-checks pass.
func (d *Directory) DeleteTenant(closebotAppID string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.apps = slices.DeleteFunc(d.apps, func(a closure.Application) bool { return strings.EqualFold(a.AppID, closebotAppID) })
	d.sps = slices.DeleteFunc(d.sps, func(sp closure.ServicePrincipal) bool { return strings.EqualFold(sp.AppID, closebotAppID) })
	if len(d.users) != 1 {
		return fmt.Errorf("tenant deletion: %d users remain", len(d.users))
	}
	if len(d.apps) > 0 {
		return fmt.Errorf("tenant deletion: %d app registrations remain", len(d.apps))
	}
	for _, s := range d.subs {
		if s.Status != "Deleted" {
			return fmt.Errorf("tenant deletion: subscription %s is %s", s.ID, s.Status)
		}
	}
	d.gone = true
	return nil
}

// ForceDeleteTenant deletes the tenant whatever remains in it (as the
// emulator's DeleteTenant(force)): the authority answers "not found" and
// Graph refuses every call.
func (d *Directory) ForceDeleteTenant() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gone = true
}

// Writes returns every write, in order.
func (d *Directory) Writes() []Write {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.writes)
}

// --- closure.Directory reads ---

func (d *Directory) live() error {
	if d.gone {
		return &closure.APIError{Status: 401, Code: "InvalidAuthenticationToken", Message: "tenant not found", Op: "read"}
	}
	return nil
}

// convertLocked turns synced users cloud-only ConversionDelay after sync-off.
func (d *Directory) convertLocked() {
	if d.org.SyncEnabled || d.syncOffAt.IsZero() || d.clock.Now().Before(d.syncOffAt.Add(d.ConversionDelay)) {
		return
	}
	for _, u := range d.users {
		u.Synced = false
	}
}

// Organization implements closure.Directory.
func (d *Directory) Organization(context.Context) (closure.Organization, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.deniedLocked("read organization", "Organization.ReadWrite.All", "Organization.Read.All"); err != nil {
		return closure.Organization{}, err
	}
	return d.org, d.live()
}

// Domains implements closure.Directory.
func (d *Directory) Domains(context.Context) ([]closure.Domain, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.deniedLocked("list domains", "Domain.Read.All"); err != nil {
		return nil, err
	}
	return slices.Clone(d.domains), d.live()
}

// Users implements closure.Directory.
func (d *Directory) Users(ctx context.Context, fn func(closure.User) error) error {
	d.mu.Lock()
	if err := d.deniedLocked("list users", "User.ReadWrite.All", "User.Read.All"); err != nil {
		d.mu.Unlock()
		return err
	}
	if err := d.live(); err != nil {
		d.mu.Unlock()
		return err
	}
	d.convertLocked()
	list := make([]closure.User, len(d.users))
	for i, u := range d.users {
		list[i] = *u
	}
	d.mu.Unlock()
	for _, u := range list {
		if err := fn(u); err != nil {
			return err
		}
	}
	return nil
}

func notFound(op, id string) error {
	return &closure.APIError{Status: 404, Code: "Request_ResourceNotFound", Message: "Resource '" + id + "' does not exist", Op: op}
}

func (d *Directory) findLocked(idOrUPN string) *closure.User {
	for _, u := range d.users {
		if strings.EqualFold(u.ID, idOrUPN) || strings.EqualFold(u.UPN, idOrUPN) {
			return u
		}
	}
	return nil
}

// User implements closure.Directory.
func (d *Directory) User(_ context.Context, idOrUPN string) (closure.User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.deniedLocked("read user "+idOrUPN, "User.ReadWrite.All", "User.Read.All"); err != nil {
		return closure.User{}, err
	}
	if err := d.live(); err != nil {
		return closure.User{}, err
	}
	d.convertLocked()
	if u := d.findLocked(idOrUPN); u != nil {
		return *u, nil
	}
	return closure.User{}, notFound("get user", idOrUPN)
}

// principalLive reports whether a role's principal exists (deleted users'
// assignments disappear, as in Graph).
func (d *Directory) principalLive(id string) bool {
	if _, del := d.deleted[id]; del {
		return false
	}
	return true
}

// RoleAssignments implements closure.Directory: the active assignments as
// /roleAssignments shows them, without PIM's detail (no end, no activation);
// a role held through a group is listed under the group, not the user.
func (d *Directory) RoleAssignments(context.Context) ([]closure.RoleAssignment, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.deniedLocked("list role assignments", "RoleManagement.Read.Directory"); err != nil {
		return nil, err
	}
	var out []closure.RoleAssignment
	for _, a := range d.active {
		if !d.principalLive(a.PrincipalID) || (a.MemberType != "" && a.MemberType != "Direct") {
			continue
		}
		a.AssignmentType, a.MemberType, a.Start, a.End = "Assigned", "Direct", time.Time{}, time.Time{}
		out = append(out, a)
	}
	return out, d.live()
}

func unlicensedPIM(op string) error {
	return &closure.APIError{Status: 400, Code: "AadPremiumLicenseRequired", Op: op,
		Message: "The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license."}
}

// ActiveSchedules implements closure.Directory.
func (d *Directory) ActiveSchedules(context.Context) ([]closure.RoleAssignment, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.deniedLocked("list role assignment schedule instances", "RoleManagement.Read.Directory"); err != nil {
		return nil, err
	}
	if d.NoPIM {
		return nil, unlicensedPIM("list role assignment schedule instances")
	}
	return slices.DeleteFunc(slices.Clone(d.active), func(a closure.RoleAssignment) bool { return !d.principalLive(a.PrincipalID) }), d.live()
}

// EligibleAssignments implements closure.Directory.
func (d *Directory) EligibleAssignments(context.Context) ([]closure.RoleAssignment, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.deniedLocked("list role eligibility schedule instances", "RoleManagement.Read.Directory"); err != nil {
		return nil, err
	}
	if d.NoPIM {
		return nil, unlicensedPIM("list role eligibility schedule instances")
	}
	var out []closure.RoleAssignment
	for _, a := range d.eligible {
		if d.principalLive(a.PrincipalID) {
			// An eligibility schedule instance has no assignmentType (Graph
			// gives it to assignment schedule instances only).
			a.AssignmentType = ""
			out = append(out, a)
		}
	}
	return out, d.live()
}

// AdministrativeUnits implements closure.Directory.
func (d *Directory) AdministrativeUnits(context.Context) ([]closure.AdministrativeUnit, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.deniedLocked("list administrative units", "AdministrativeUnit.Read.All"); err != nil {
		return nil, err
	}
	out := make([]closure.AdministrativeUnit, len(d.units))
	for i, u := range d.units {
		u.Members = slices.DeleteFunc(slices.Clone(u.Members), func(m string) bool { return !d.principalLive(m) })
		out[i] = u
	}
	return out, d.live()
}

// AuthenticationMethods implements closure.Directory.
func (d *Directory) AuthenticationMethods(_ context.Context, userID string) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.deniedLocked("list authentication methods of "+userID, "UserAuthenticationMethod.Read.All"); err != nil {
		return nil, err
	}
	if d.findLocked(userID) == nil {
		return nil, notFound("list methods", userID)
	}
	return slices.Clone(d.methods[userID]), d.live()
}

// PerUserMFA implements closure.Directory.
func (d *Directory) PerUserMFA(_ context.Context, userID string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.deniedLocked("read per-user MFA of "+userID, "Policy.Read.All", "Policy.ReadWrite.AuthenticationMethod"); err != nil {
		return "", err
	}
	if d.findLocked(userID) == nil {
		return "", notFound("get requirements", userID)
	}
	return d.mfaLocked(userID), d.live()
}

// Subscriptions implements closure.Directory.
func (d *Directory) Subscriptions(context.Context) ([]closure.CompanySubscription, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.deniedLocked("list subscriptions", "Organization.ReadWrite.All", "Organization.Read.All"); err != nil {
		return nil, err
	}
	return slices.Clone(d.subs), d.live()
}

// SecurityDefaultsEnabled implements closure.Directory.
func (d *Directory) SecurityDefaultsEnabled(context.Context) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.deniedLocked("read security defaults", "Policy.Read.All"); err != nil {
		return false, err
	}
	return d.secDef, d.live()
}

// ConditionalAccessPolicies implements closure.Directory.
func (d *Directory) ConditionalAccessPolicies(context.Context) ([]closure.CAPolicy, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.deniedLocked("list conditional access policies", "Policy.Read.All"); err != nil {
		return nil, err
	}
	if d.NoP1 {
		return nil, &closure.APIError{Status: 403, Code: "Authentication_RequestFromNonPremiumTenantOrB2CTenant", Op: "list conditional access policies",
			Message: "Neither tenant is B2C or tenant doesn't have premium license"}
	}
	return slices.Clone(d.ca), d.live()
}

// Counts implements closure.Directory.
func (d *Directory) Counts(context.Context) (closure.DataCounts, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.deniedLocked("count devices", "Device.Read.All"); err != nil {
		return closure.DataCounts{}, err
	}
	if err := d.deniedLocked("count groups", "GroupMember.Read.All"); err != nil {
		return closure.DataCounts{}, err
	}
	return d.counts, d.live()
}

// LegalHolds implements closure.Directory.
func (d *Directory) LegalHolds(context.Context) ([]closure.LegalHold, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.deniedLocked("list eDiscovery cases", "eDiscovery.Read.All"); err != nil {
		return nil, err
	}
	return slices.Clone(d.holds), d.live()
}

// Applications implements closure.Directory.
func (d *Directory) Applications(context.Context) ([]closure.Application, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.deniedLocked("list applications", "Application.ReadWrite.All", "Application.Read.All"); err != nil {
		return nil, err
	}
	return slices.Clone(d.apps), d.live()
}

// ServicePrincipals implements closure.Directory.
func (d *Directory) ServicePrincipals(context.Context) ([]closure.ServicePrincipal, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.deniedLocked("list service principals", "Application.ReadWrite.All", "Application.Read.All"); err != nil {
		return nil, err
	}
	return slices.Clone(d.sps), d.live()
}

// DeletedUsers implements closure.Directory.
func (d *Directory) DeletedUsers(context.Context) ([]closure.User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.deniedLocked("list deleted users", "User.ReadWrite.All", "User.Read.All"); err != nil {
		return nil, err
	}
	var out []closure.User
	for _, id := range sortedIDs(d.deleted) {
		out = append(out, *d.deleted[id])
	}
	return out, d.live()
}

func sortedIDs(m map[string]*closure.User) []string {
	out := make([]string, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// --- closure.Directory writes ---

// write records w and runs the hooks; refusal is the fake's own verdict.
func (d *Directory) write(w Write, refusal error) error {
	if d.BeforeWrite != nil {
		if err := d.BeforeWrite(w); err != nil {
			return err
		}
	}
	d.mu.Lock()
	if err := d.live(); err != nil {
		d.mu.Unlock()
		return err
	}
	if refusal != nil {
		w.Refused = true
	}
	d.writes = append(d.writes, w)
	d.mu.Unlock()
	if refusal == nil && d.AfterWrite != nil {
		d.AfterWrite(w)
	}
	return refusal
}

func forbidden(op, msg string) error {
	return &closure.APIError{Status: 403, Code: "Authorization_RequestDenied", Message: msg, Op: op}
}

// DefaultPermissions are the application permissions closebot's app holds
// unless RevokePermission or GrantPermission changed them: those of
// closebot's table (closure/msgraph.Permissions), as the emulator's
// default app roles are.
var DefaultPermissions = []string{
	"Organization.ReadWrite.All", "Domain.Read.All", "User.ReadWrite.All", "User.DeleteRestore.All",
	"RoleManagement.Read.Directory", "AdministrativeUnit.Read.All", "UserAuthenticationMethod.Read.All",
	"Policy.Read.All", "Policy.ReadWrite.AuthenticationMethod", "Device.Read.All", "GroupMember.Read.All",
	"eDiscovery.Read.All", "Application.ReadWrite.All",
}

// RevokePermission withdraws one of closebot's application permissions
// (an administrator removing its admin consent). Every call that needs it
// then answers as Graph does and the adapter reports it: 403
// Authorization_RequestDenied, before anything else is looked at, with
// Permission naming what to grant.
func (d *Directory) RevokePermission(perm string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.revoked == nil {
		d.revoked = map[string]bool{}
	}
	d.revoked[perm] = true
	delete(d.extra, perm)
}

// GrantPermission gives closebot's app an application permission (admin
// consent to one more app role, or back after RevokePermission).
func (d *Directory) GrantPermission(perm string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.revoked, perm)
	if !slices.Contains(DefaultPermissions, perm) {
		if d.extra == nil {
			d.extra = map[string]bool{}
		}
		d.extra[perm] = true
	}
}

// hasLocked reports whether closebot's app holds an application permission.
func (d *Directory) hasLocked(perm string) bool {
	return (slices.Contains(DefaultPermissions, perm) && !d.revoked[perm]) || d.extra[perm]
}

// GrantedPermissions implements closure.Directory: the application
// permissions closebot's app holds now (a token issued now).
func (d *Directory) GrantedPermissions(context.Context) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.live(); err != nil {
		return nil, err
	}
	var out []string
	for _, p := range DefaultPermissions {
		if !d.revoked[p] {
			out = append(out, p)
		}
	}
	for p := range d.extra {
		out = append(out, p)
	}
	slices.Sort(out)
	return out, nil
}

// RemoveRole removes the active role assignments of roleID held directly
// by principalID (an administrator removing a role).
func (d *Directory) RemoveRole(principalID, roleID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.active = slices.DeleteFunc(d.active, func(a closure.RoleAssignment) bool {
		return strings.EqualFold(a.PrincipalID, principalID) && strings.EqualFold(a.RoleDefinitionID, roleID)
	})
}

// deniedLocked is the refusal of a call needing perm when closebot's app
// lacks it and every other permission the call accepts (also).
func (d *Directory) deniedLocked(op, perm string, also ...string) error {
	if d.hasLocked(perm) {
		return nil
	}
	for _, p := range also {
		if d.hasLocked(p) {
			return nil
		}
	}
	err := forbidden(op, "Insufficient privileges to complete the operation.").(*closure.APIError)
	err.Permission = perm
	return err
}

// denied is deniedLocked for a caller not holding d.mu.
func (d *Directory) denied(op, perm string, also ...string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.deniedLocked(op, perm, also...)
}

// undeletableFirstParty are the Microsoft service principals Graph refuses
// to delete (400 Request_BadRequest), as the emulator models them.
var undeletableFirstParty = []string{
	"00000003-0000-0000-c000-000000000000", // Microsoft Graph
	"00000002-0000-0ff1-ce00-000000000000", // Office 365 Exchange Online
	"00000003-0000-0ff1-ce00-000000000000", // Office 365 SharePoint Online
	"00000002-0000-0000-c000-000000000000", // Windows Azure Active Directory
}

// DisableSync implements closure.Directory.
func (d *Directory) DisableSync(_ context.Context, orgID string) error {
	d.mu.Lock()
	prev := fmt.Sprint(d.org.SyncEnabled)
	refusal := d.deniedLocked("turn off directory sync for organization "+orgID, "Organization.ReadWrite.All")
	if refusal == nil && d.SyncOffRefused {
		refusal = forbidden("disable sync", "Insufficient privileges to complete the operation.")
	}
	d.mu.Unlock()
	if err := d.write(Write{Op: "disable_sync", ID: orgID, Value: "false", Previous: prev}, refusal); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.org.SyncEnabled {
		d.org.SyncEnabled = false
		d.syncOffAt = d.clock.Now()
	}
	return nil
}

// DeleteUser implements closure.Directory.
func (d *Directory) DeleteUser(_ context.Context, id string) error {
	d.mu.Lock()
	d.convertLocked()
	u := d.findLocked(id)
	refusal := d.deniedLocked("delete user "+id, "User.ReadWrite.All")
	switch {
	case refusal != nil:
	case u == nil:
		d.mu.Unlock()
		return nil // already gone: idempotent
	case u.Synced:
		refusal = &closure.APIError{Status: 400, Code: "Request_BadRequest", Op: "delete user " + id,
			Message: "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration."}
	case d.inRestrictedUnitLocked(u.ID):
		refusal = forbidden("delete user "+id, "Insufficient privileges to complete the operation.")
	}
	d.mu.Unlock()
	if err := d.write(Write{Op: "delete_user", ID: id}, refusal); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.deleteUserLocked(id)
	return nil
}

func (d *Directory) inRestrictedUnitLocked(id string) bool {
	for _, au := range d.units {
		if au.Restricted && slices.Contains(au.Members, id) {
			return true
		}
	}
	return false
}

func (d *Directory) deleteUserLocked(id string) {
	for i, u := range d.users {
		if strings.EqualFold(u.ID, id) {
			u.DeletedAt = d.clock.Now()
			d.deleted[u.ID] = u
			d.users = slices.Delete(d.users, i, i+1)
			return
		}
	}
}

// RestoreUser implements closure.Directory.
func (d *Directory) RestoreUser(_ context.Context, id string) error {
	d.mu.Lock()
	u, ok := d.deleted[id]
	refusal := d.deniedLocked("restore user "+id, "User.DeleteRestore.All")
	d.mu.Unlock()
	if refusal != nil {
		return d.write(Write{Op: "restore_user", ID: id}, refusal)
	}
	if !ok {
		return notFound("restore "+id, id)
	}
	if err := d.write(Write{Op: "restore_user", ID: id}, nil); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.deleted, id)
	u.DeletedAt = time.Time{}
	d.users = append(d.users, u)
	return nil
}

// PurgeDeleted implements closure.Directory.
func (d *Directory) PurgeDeleted(_ context.Context, id string) error {
	d.mu.Lock()
	_, user := d.deleted[id]
	_, other := d.deletedOb[id]
	var refusal error
	switch {
	case user:
		refusal = d.deniedLocked("purge deleted object "+id, "User.DeleteRestore.All")
	case other:
		refusal = d.deniedLocked("purge deleted object "+id, "Application.ReadWrite.All")
	}
	d.mu.Unlock()
	if refusal != nil {
		return d.write(Write{Op: "purge", ID: id}, refusal)
	}
	if !user && !other {
		return nil
	}
	if err := d.write(Write{Op: "purge", ID: id}, nil); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.deleted, id)
	delete(d.deletedOb, id)
	return nil
}

// SetPerUserMFA implements closure.Directory.
func (d *Directory) SetPerUserMFA(_ context.Context, userID, state string) error {
	d.mu.Lock()
	prev := d.mfaLocked(userID)
	if state != "enforced" && state != "enabled" && state != "disabled" {
		d.mu.Unlock()
		return fmt.Errorf("set per-user MFA of %s to %s: unknown state", userID, state)
	}
	refusal := d.deniedLocked("set per-user MFA of "+userID+" to "+state, "Policy.ReadWrite.AuthenticationMethod")
	if refusal == nil && d.findLocked(userID) == nil {
		d.mu.Unlock()
		return notFound("set requirements", userID)
	}
	if refusal == nil && d.MFARefused {
		refusal = forbidden("set requirements "+userID, "Insufficient privileges to complete the operation.")
	}
	d.mu.Unlock()
	if err := d.write(Write{Op: "set_mfa", ID: userID, Value: state, Previous: prev}, refusal); err != nil {
		return err
	}
	d.SetMFA(userID, state)
	return nil
}

// DeleteApplication implements closure.Directory: the app and its home
// tenant's service principal are soft-deleted.
func (d *Directory) DeleteApplication(_ context.Context, id string) error {
	if err := d.denied("delete application "+id, "Application.ReadWrite.All"); err != nil {
		return d.write(Write{Op: "delete_app", ID: id}, err)
	}
	d.mu.Lock()
	i := slices.IndexFunc(d.apps, func(a closure.Application) bool { return a.ID == id })
	d.mu.Unlock()
	if i < 0 {
		return nil
	}
	if err := d.write(Write{Op: "delete_app", ID: id}, nil); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	i = slices.IndexFunc(d.apps, func(a closure.Application) bool { return a.ID == id })
	if i < 0 {
		return nil
	}
	app := d.apps[i]
	d.apps = slices.Delete(d.apps, i, i+1)
	d.deletedOb[id] = "application"
	d.sps = slices.DeleteFunc(d.sps, func(sp closure.ServicePrincipal) bool {
		home := sp.AppID == app.AppID && strings.EqualFold(sp.AppOwnerOrganizationID, d.org.ID)
		if home {
			d.deletedOb[sp.ID] = "servicePrincipal"
		}
		return home
	})
	return nil
}

// DeleteServicePrincipal implements closure.Directory.
func (d *Directory) DeleteServicePrincipal(_ context.Context, id string) error {
	if err := d.denied("delete service principal "+id, "Application.ReadWrite.All"); err != nil {
		return d.write(Write{Op: "delete_sp", ID: id}, err)
	}
	d.mu.Lock()
	i := slices.IndexFunc(d.sps, func(sp closure.ServicePrincipal) bool { return sp.ID == id })
	firstParty := i >= 0 && strings.EqualFold(d.sps[i].AppOwnerOrganizationID, MicrosoftTenant) &&
		slices.Contains(undeletableFirstParty, strings.ToLower(d.sps[i].AppID))
	d.mu.Unlock()
	if i < 0 {
		return nil
	}
	var refusal error
	switch {
	case firstParty:
		refusal = &closure.APIError{Status: 400, Code: "Request_BadRequest", Op: "delete service principal " + id,
			Message: "Cannot delete the service principal of a Microsoft first-party application."}
	case d.SPDeleteRefused[id]:
		refusal = forbidden("delete service principal "+id, "Insufficient privileges to complete the operation.")
	}
	if err := d.write(Write{Op: "delete_sp", ID: id}, refusal); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sps = slices.DeleteFunc(d.sps, func(sp closure.ServicePrincipal) bool { return sp.ID == id })
	d.deletedOb[id] = "servicePrincipal"
	return nil
}

// DisableServicePrincipal implements closure.Directory.
func (d *Directory) DisableServicePrincipal(_ context.Context, id string) error {
	if err := d.denied("disable service principal "+id, "Application.ReadWrite.All"); err != nil {
		return d.write(Write{Op: "disable_sp", ID: id}, err)
	}
	d.mu.Lock()
	i := slices.IndexFunc(d.sps, func(sp closure.ServicePrincipal) bool { return sp.ID == id })
	d.mu.Unlock()
	if i < 0 {
		return nil
	}
	if err := d.write(Write{Op: "disable_sp", ID: id}, nil); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.sps {
		if d.sps[i].ID == id {
			d.sps[i].AccountEnabled = false
		}
	}
	return nil
}

// TenantGone implements closure.Directory.
func (d *Directory) TenantGone(context.Context) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.gone, nil
}

// ProveSignIn implements closure.Directory: it shows a code, then returns
// Proof (the test plays the person signing in) or ProofErr.
func (d *Directory) ProveSignIn(ctx context.Context, show func(closure.DeviceCode) error) (closure.SignInProof, error) {
	d.mu.Lock()
	proof, perr := d.Proof, d.ProofErr
	d.mu.Unlock()
	dc := closure.DeviceCode{UserCode: "ABCD-EFGH", VerificationURL: "https://microsoft.com/devicelogin",
		Message: "To sign in, use a web browser to open https://microsoft.com/devicelogin and enter the code ABCD-EFGH to authenticate."}
	if err := show(dc); err != nil {
		return closure.SignInProof{}, fmt.Errorf("show code: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return closure.SignInProof{}, err
	}
	return proof, perr
}
