package closure

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Actor is the person behind a decision, as users.info and
// usergroups.users.list describe them at decision time (DESIGN §3).
type Actor struct {
	UserID          string
	TeamID          string
	Deleted         bool
	Bot             bool
	Restricted      bool     // multi-channel guest
	UltraRestricted bool     // single-channel guest
	Groups          []string // user-group ids (S…) the user belongs to now
}

// SystemActor is the Actor field of events the bot itself causes.
const SystemActor = "closebot"

// Policy is the part of the configuration the domain decides with (§8).
// Requesters and Approvers hold Slack user ids or user-group ids.
type Policy struct {
	TeamID       string
	Requesters   []string
	Approvers    []string
	Required     int
	Disjoint     bool
	ExpiresAfter time.Duration
	AbortWindow  time.Duration
	DriftPercent float64
	StuckAfter   time.Duration
	Tenants      []TenantPolicy
	// WriteGrants are the grants closebot's app needs only while a closure
	// writes: what a just-in-time tenant is asked to grant before step 1
	// and to remove after step 5's last write. The adapter's permission
	// table fills them in (cmd/closebot); the core only names them.
	WriteGrants []WriteGrant
}

// WriteAccess says when closebot's app holds its write permissions.
type WriteAccess string

const (
	// WriteStanding: granted once, held between closures (the zero value:
	// configurations written before just-in-time mode keep their behaviour).
	WriteStanding WriteAccess = "standing"
	// WriteJustInTime: the app reads only at rest; the kept admin grants
	// the write permissions and role for one closure and removes them after.
	WriteJustInTime WriteAccess = "just_in_time"
)

// WriteGrant is one application permission of Microsoft Graph, or one
// directory role, closebot's app needs only to write.
type WriteGrant struct {
	Name string // e.g. User.ReadWrite.All, or the role's display name
	// AppRoleID is Microsoft Graph's app role id of the application
	// permission (Learn: "Microsoft Graph permissions reference"); empty
	// for a directory role.
	AppRoleID string
	// RoleTemplateID is the directory role's template id; empty for an
	// application permission.
	RoleTemplateID string
	// ReadAtRest is the read-only application permission that covers this
	// one's reads between closures ("" when it has none to cover).
	ReadAtRest string
}

// IsRole reports whether the grant is a directory role.
func (g WriteGrant) IsRole() bool { return g.RoleTemplateID != "" }

// TenantPolicy is one configured tenant's authorisation part.
type TenantPolicy struct {
	ID            string // Entra tenant id
	Domain        string // initial *.onmicrosoft.com domain
	Keep          string // UPN of the Global Admin who finishes the closure
	KeepSlackUser string // Slack user id of that person
	// ClientID is closebot's own app id in this tenant: its app
	// registration and service principal are never deleted by closebot.
	ClientID string
	// WriteAccess is write_access: standing ("" too) or just_in_time.
	WriteAccess WriteAccess
}

// JustInTime reports whether closebot's app holds write access only
// during a closure of this tenant.
func (t TenantPolicy) JustInTime() bool { return t.WriteAccess == WriteJustInTime }

// RestoreWindow is how long Entra keeps deleted users.
const RestoreWindow = 30 * 24 * time.Hour

// Validate checks the contract of DESIGN §8 for the fields the domain uses.
func (p *Policy) Validate() error {
	var errs []error
	if p.TeamID == "" {
		errs = append(errs, errors.New("slack.team_id is required"))
	}
	if len(p.Requesters) == 0 {
		errs = append(errs, errors.New("slack.requesters must name at least one user or group"))
	}
	if len(p.Approvers) == 0 {
		errs = append(errs, errors.New("slack.approvers must name at least one user or group"))
	}
	if p.Required < 1 {
		errs = append(errs, fmt.Errorf("approval.required is %d; it must be at least 1", p.Required))
	}
	if p.ExpiresAfter <= 0 {
		errs = append(errs, errors.New("approval.expires_after must be positive"))
	}
	if p.AbortWindow < 0 {
		errs = append(errs, errors.New("approval.abort_window must not be negative"))
	}
	if p.StuckAfter <= 0 {
		errs = append(errs, errors.New("gates.stuck_after must be positive"))
	}
	if p.DriftPercent < 0 || p.DriftPercent > 100 {
		errs = append(errs, fmt.Errorf("approval.drift_percent is %v; it must be between 0 and 100", p.DriftPercent))
	}
	seen := map[string]bool{}
	for i, t := range p.Tenants {
		if t.ID == "" || t.Domain == "" || t.Keep == "" || t.KeepSlackUser == "" {
			errs = append(errs, fmt.Errorf("tenants[%d] needs id, domain, keep and keep_slack_user", i))
		}
		for _, k := range []string{strings.ToLower(t.ID), strings.ToLower(t.Domain)} {
			if k != "" && seen[k] {
				errs = append(errs, fmt.Errorf("tenants[%d]: %q is configured twice", i, k))
			}
			seen[k] = true
		}
	}
	return errors.Join(errs...)
}

// Tenant finds a configured tenant by id or initial domain (case-insensitive).
func (p *Policy) Tenant(idOrDomain string) (TenantPolicy, bool) {
	for _, t := range p.Tenants {
		if strings.EqualFold(t.ID, idOrDomain) || strings.EqualFold(t.Domain, idOrDomain) {
			return t, true
		}
	}
	return TenantPolicy{}, false
}

// Roles are what the configuration lets an actor do; a person can hold
// several. Owner is per request and computed separately.
type Roles struct {
	Requester bool
	Approver  bool
	Keep      bool     // the tenant's keep_slack_user
	Groups    []string // the actor's groups that granted a role (for the audit event)
}

// Any reports whether the actor holds any configured role.
func (r Roles) Any() bool { return r.Requester || r.Approver || r.Keep }

// RolesOf computes an actor's roles for a tenant ("" for none) from user ids
// and the actor's current group memberships.
func (p *Policy) RolesOf(a Actor, tenantID string) Roles {
	var r Roles
	var groups []string
	match := func(entries []string) bool {
		ok := false
		for _, e := range entries {
			if e == "" {
				continue
			}
			if e == a.UserID {
				ok = true
				continue
			}
			for _, g := range a.Groups {
				if g == e {
					ok = true
					if !contains(groups, g) {
						groups = append(groups, g)
					}
				}
			}
		}
		return ok
	}
	r.Requester = a.UserID != "" && match(p.Requesters)
	r.Approver = a.UserID != "" && match(p.Approvers)
	if t, ok := p.Tenant(tenantID); ok && tenantID != "" && a.UserID != "" && t.KeepSlackUser == a.UserID {
		r.Keep = true
	}
	r.Groups = groups
	return r
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
