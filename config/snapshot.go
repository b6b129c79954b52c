package config

import (
	"fmt"
	"slices"
	"strings"
)

// Snapshot is the authorisation part of the configuration (DESIGN §3): who
// may request and approve, how many approvals, and each tenant's kept
// admin. The bot stores it and, at start-up, posts DiffSnapshots against
// the previous run's. It is JSON-serialisable; lists are sorted sets.
type Snapshot struct {
	Requesters []string         `json:"requesters"`
	Approvers  []string         `json:"approvers"`
	Required   int              `json:"required"`
	Disjoint   bool             `json:"disjoint"`
	Tenants    []TenantSnapshot `json:"tenants"`
}

// TenantSnapshot is one tenant's part of a Snapshot.
type TenantSnapshot struct {
	ID            string `json:"id"`
	Domain        string `json:"domain"`
	Keep          string `json:"keep"`
	KeepSlackUser string `json:"keep_slack_user"`
}

// Snapshot captures the authorisation part of c.
func (c *Config) Snapshot() Snapshot {
	s := Snapshot{
		Requesters: sortedSet(c.Slack.Requesters),
		Approvers:  sortedSet(c.Slack.Approvers),
		Required:   c.Approval.Required,
		Disjoint:   c.Approval.Disjoint,
	}
	for _, t := range c.Tenants {
		s.Tenants = append(s.Tenants, TenantSnapshot{ID: t.ID, Domain: t.Domain, Keep: t.Keep, KeepSlackUser: t.KeepSlackUser})
	}
	slices.SortFunc(s.Tenants, func(a, b TenantSnapshot) int { return strings.Compare(a.ID, b.ID) })
	return s
}

// DiffSnapshots describes, one human-readable line per change, how next
// differs from prev. Nothing changed: nil. Ids are left as ids; the caller
// turns them into mentions.
func DiffSnapshots(prev, next Snapshot) []string {
	var out []string
	out = append(out, setDiff("slack.requesters", prev.Requesters, next.Requesters)...)
	out = append(out, setDiff("slack.approvers", prev.Approvers, next.Approvers)...)
	if prev.Required != next.Required {
		out = append(out, fmt.Sprintf("approval.required: %d → %d", prev.Required, next.Required))
	}
	if prev.Disjoint != next.Disjoint {
		out = append(out, fmt.Sprintf("approval.disjoint: %t → %t", prev.Disjoint, next.Disjoint))
	}
	old := map[string]TenantSnapshot{}
	for _, t := range prev.Tenants {
		old[strings.ToLower(t.ID)] = t
	}
	seen := map[string]bool{}
	for _, t := range next.Tenants {
		id := strings.ToLower(t.ID)
		seen[id] = true
		o, ok := old[id]
		name := fmt.Sprintf("tenant %s (%s)", t.Domain, t.ID)
		if !ok {
			out = append(out, fmt.Sprintf("%s added: keep %s, keep_slack_user %s", name, t.Keep, t.KeepSlackUser))
			continue
		}
		if !strings.EqualFold(o.Keep, t.Keep) {
			out = append(out, fmt.Sprintf("%s: keep %s → %s", name, o.Keep, t.Keep))
		}
		if o.KeepSlackUser != t.KeepSlackUser {
			out = append(out, fmt.Sprintf("%s: keep_slack_user %s → %s", name, o.KeepSlackUser, t.KeepSlackUser))
		}
		if !strings.EqualFold(o.Domain, t.Domain) {
			out = append(out, fmt.Sprintf("tenant %s: domain %s → %s", t.ID, o.Domain, t.Domain))
		}
	}
	for _, t := range prev.Tenants {
		if !seen[strings.ToLower(t.ID)] {
			out = append(out, fmt.Sprintf("tenant %s (%s) removed", t.Domain, t.ID))
		}
	}
	return out
}

// setDiff is one line for a changed set: what was added and removed.
func setDiff(key string, prev, next []string) []string {
	var added, removed []string
	for _, s := range sortedSet(next) {
		if !slices.Contains(prev, s) {
			added = append(added, s)
		}
	}
	for _, s := range sortedSet(prev) {
		if !slices.Contains(next, s) {
			removed = append(removed, s)
		}
	}
	var parts []string
	if len(added) > 0 {
		parts = append(parts, "added "+strings.Join(added, ", "))
	}
	if len(removed) > 0 {
		parts = append(parts, "removed "+strings.Join(removed, ", "))
	}
	if len(parts) == 0 {
		return nil
	}
	return []string{key + ": " + strings.Join(parts, "; ")}
}

func sortedSet(list []string) []string {
	out := dedupe(list)
	slices.Sort(out)
	if out == nil {
		out = []string{}
	}
	return out
}
