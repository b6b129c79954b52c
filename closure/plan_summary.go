package closure

import "time"

// summaryTop is how many items of each list a PlanSummary keeps; the
// counts keep the totals, so the card can say "+k more".
const summaryTop = 10

// PlanSummary is the part of a plan a request keeps for its card: what the
// approvers saw, with counts and the first items of each list. The full
// plan is posted in the request's thread when it opens.
type PlanSummary struct {
	TenantName       string           `json:"tenant_name"`
	TenantType       string           `json:"tenant_type"`
	VerifiedDomains  []string         `json:"verified_domains,omitempty"`
	FederatedDomains []string         `json:"federated_domains,omitempty"`
	SyncEnabled      bool             `json:"sync_enabled,omitempty"`
	Keep             PlanUser         `json:"keep"`
	UsersByKind      map[UserKind]int `json:"users_by_kind"`
	UsersToDelete    int              `json:"users_to_delete"`
	TopUsers         []string         `json:"top_users,omitempty"` // UPNs, in deletion order
	EligibleGAs      int              `json:"eligible_global_admins,omitempty"`

	RestrictedUnits   []PlanAdminUnit `json:"restricted_units,omitempty"` // members cut to summaryTop
	RestrictedMembers int             `json:"restricted_members,omitempty"`

	Subscriptions      []PlanSubscription `json:"subscriptions,omitempty"` // cut to summaryTop
	SubscriptionsTotal int                `json:"subscriptions_total"`
	Counts             DataCounts         `json:"counts"`

	Apps                  int      `json:"apps"`
	AppsToDelete          int      `json:"apps_to_delete"`
	MultiTenantApps       []string `json:"multi_tenant_apps,omitempty"` // names, cut to summaryTop
	MultiTenantAppsTotal  int      `json:"multi_tenant_apps_total,omitempty"`
	ServicePrincipals     int      `json:"service_principals"` // tenant-owned, to delete
	KeptServicePrincipals int      `json:"kept_service_principals"`
	// OtherServicePrincipals are other publishers' enabled ones step 5
	// deletes (or disables where Graph refuses).
	OtherServicePrincipals int `json:"other_service_principals,omitempty"`

	SecurityDefaults        bool     `json:"security_defaults,omitempty"`
	BlockingCAPolicies      []string `json:"blocking_ca_policies,omitempty"` // names, cut to summaryTop
	BlockingCAPoliciesTotal int      `json:"blocking_ca_policies_total,omitempty"`

	Budget          Budget    `json:"budget"`
	RestoreDeadline time.Time `json:"restore_deadline,omitempty"`
	Warnings        []string  `json:"warnings,omitempty"`
}

// Summary cuts the plan down to what a request keeps for its card.
func (p *Plan) Summary() PlanSummary {
	s := PlanSummary{
		TenantName: p.TenantName, TenantType: p.TenantType,
		VerifiedDomains: p.VerifiedDomains, FederatedDomains: p.FederatedDomains,
		SyncEnabled: p.SyncEnabled, Keep: p.Keep,
		UsersByKind: map[UserKind]int{}, UsersToDelete: len(p.Users),
		EligibleGAs:        len(p.EligibleGlobalAdmins),
		SubscriptionsTotal: len(p.Subscriptions), Counts: p.Counts,
		Apps: len(p.Apps), ServicePrincipals: len(p.ServicePrincipals), KeptServicePrincipals: p.KeptServicePrincipals,
		OtherServicePrincipals: len(p.OtherServicePrincipals),
		SecurityDefaults:       p.SecurityDefaults, BlockingCAPoliciesTotal: len(p.BlockingCAPolicies),
		Budget: p.Budget, RestoreDeadline: p.RestoreDeadline, Warnings: p.Warnings,
	}
	for _, u := range p.Users {
		s.UsersByKind[u.Kind]++
		if len(s.TopUsers) < summaryTop {
			s.TopUsers = append(s.TopUsers, u.UPN)
		}
	}
	for _, au := range p.RestrictedUnits {
		s.RestrictedMembers += len(au.Members)
		if len(s.RestrictedUnits) < summaryTop {
			cut := au
			cut.Members = append([]string(nil), au.Members[:min(len(au.Members), summaryTop)]...)
			s.RestrictedUnits = append(s.RestrictedUnits, cut)
		}
	}
	s.Subscriptions = append(s.Subscriptions, p.Subscriptions[:min(len(p.Subscriptions), summaryTop)]...)
	for _, a := range p.Apps {
		if a.Delete {
			s.AppsToDelete++
		}
		if a.MultiTenant {
			s.MultiTenantAppsTotal++
			if len(s.MultiTenantApps) < summaryTop {
				s.MultiTenantApps = append(s.MultiTenantApps, a.Name)
			}
		}
	}
	for _, c := range p.BlockingCAPolicies {
		if len(s.BlockingCAPolicies) < summaryTop {
			s.BlockingCAPolicies = append(s.BlockingCAPolicies, c.DisplayName)
		}
	}
	return s
}

// SameApproval reports whether two summaries ask the approver the same
// things: the users to delete they type, and the irreversible items they
// tick (sync turned off, multi-tenant apps deleted).
func (s *PlanSummary) SameApproval(o *PlanSummary) bool {
	if s == nil || o == nil {
		return s == o
	}
	return s.UsersToDelete == o.UsersToDelete && s.SyncEnabled == o.SyncEnabled &&
		(s.MultiTenantAppsTotal > 0) == (o.MultiTenantAppsTotal > 0)
}
