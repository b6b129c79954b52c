package closure

import (
	"strconv"
	"strings"
)

// PlanFacts is the part of a plan that approvers approve and that the drift
// check compares (DESIGN §3). Issue D's full plan embeds it.
type PlanFacts struct {
	TenantID string `json:"tenant_id"`
	// KeepObjectID is the kept admin's user object id; KeepAssignmentID the
	// id of their active permanent Global Administrator role assignment.
	KeepObjectID     string `json:"keep_object_id"`
	KeepAssignmentID string `json:"keep_assignment_id"`
	// Privileged are the object ids of every principal holding a privileged
	// role (active or eligible), the kept admin included.
	Privileged    []string       `json:"privileged"`
	Subscriptions []Subscription `json:"subscriptions"`
	// Apps are app registration (application object) ids.
	Apps []string `json:"apps"`
	// SyncEnabled is organization.onPremisesSyncEnabled.
	SyncEnabled bool `json:"sync_enabled"`
	// OrdinaryUsers counts users that are neither privileged nor the kept
	// admin. It is not digested: it may drift by approval.drift_percent.
	OrdinaryUsers int `json:"ordinary_users"`
	// PIM says the plan was read with PIM (Entra ID P2), and EligibleOnly
	// names the privileged principals PIM alone showed (eligible, not
	// active). Not digested: when step 3 removes P2, PIM stops answering
	// and those principals vanish from the read without anyone removing them.
	PIM          bool     `json:"pim,omitempty"`
	EligibleOnly []string `json:"eligible_only,omitempty"`
}

// Subscription is one /directory/subscriptions item.
type Subscription struct {
	ID     string `json:"id"`
	Status string `json:"status"` // Enabled | Warning | Suspended | LockedOut | Deleted
}

// Digest is the SHA-256 (hex) of a canonical encoding of the digested
// facts: tenant id, kept admin and role assignment, privileged principals,
// subscription ids and statuses, app registration ids and sync state.
// Sets are order-independent; ids compare case-insensitively (Graph GUIDs).
func (f PlanFacts) Digest() string {
	c := newCanon("closebot-plan-v1")
	c.field("tenant", lower(f.TenantID))
	c.field("keep", lower(f.KeepObjectID))
	c.field("keep_assignment", lower(f.KeepAssignmentID))
	c.set("privileged", lowerAll(f.Privileged))
	subs := make([]string, 0, len(f.Subscriptions))
	for _, s := range f.Subscriptions {
		// Quote both parts so no id can forge a status.
		subs = append(subs, strconv.Quote(lower(s.ID))+" "+strconv.Quote(s.Status))
	}
	c.set("subscriptions", subs)
	c.set("apps", lowerAll(f.Apps))
	c.field("sync", strconv.FormatBool(f.SyncEnabled))
	return c.sum()
}

func lower(s string) string { return strings.ToLower(s) }

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }

func lowerAll(v []string) []string {
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = lower(s)
	}
	return out
}
