package closure

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Done is what a request did, or its gates asked a human to do, since its
// Facts were read; the drift rule does not count these as drift (§8).
type Done struct {
	DeletedUsers      int      `json:"deleted_users"`                // ordinary users this request deleted
	DeletedPrivileged []string `json:"deleted_privileged,omitempty"` // privileged object ids it deleted
	DeletedApps       []string `json:"deleted_apps,omitempty"`       // app registration ids it deleted (step 5)
	// SyncOff: this request turned directory sync off or opened the gate
	// asking a human to.
	SyncOff bool `json:"sync_off,omitempty"`
}

// Fact names used in Change.Fact.
const (
	FactTenant         = "tenant"
	FactKeep           = "keep"
	FactKeepAssignment = "keep_assignment"
	FactPrivileged     = "privileged"
	FactSubscription   = "subscription"
	FactApp            = "app"
	FactSync           = "sync"
	FactOrdinaryUsers  = "ordinary_users"
	// FactPreflight is a preflight item failing on a fresh read; ID is its
	// code, Now the problem and its fix.
	FactPreflight = "preflight"
)

// Change is one difference between the approved plan and a fresh read.
// Was or Now is "" when the object is new or gone.
type Change struct {
	Fact string `json:"fact"`
	ID   string `json:"id,omitempty"`
	Was  string `json:"was,omitempty"`
	Now  string `json:"now,omitempty"`
}

// String says the change in words (ids are shown as given).
func (c Change) String() string {
	switch c.Fact {
	case FactTenant:
		return fmt.Sprintf("tenant id changed from %s to %s", c.Was, c.Now)
	case FactKeep:
		return fmt.Sprintf("kept admin object id changed from %s to %s", orNone(c.Was), orNone(c.Now))
	case FactKeepAssignment:
		return fmt.Sprintf("kept admin's Global Administrator assignment changed from %s to %s", orNone(c.Was), orNone(c.Now))
	case FactPrivileged:
		if c.Was == "" {
			return "new privileged principal " + c.ID
		}
		return "privileged principal " + c.ID + " disappeared without this request deleting it"
	case FactSubscription:
		if c.Was == "" {
			return fmt.Sprintf("new subscription %s (%s)", c.ID, c.Now)
		}
		return fmt.Sprintf("subscription %s went from %s back to %s", c.ID, c.Was, orNone(c.Now))
	case FactApp:
		if c.Was == "" {
			return "new app registration " + c.ID
		}
		return "app registration " + c.ID + " disappeared without this request deleting it"
	case FactSync:
		return fmt.Sprintf("directory sync changed from %s to %s", c.Was, c.Now)
	case FactOrdinaryUsers:
		return fmt.Sprintf("ordinary users: expected %s, found %s", c.Was, c.Now)
	case FactPreflight:
		return "preflight: " + c.Now
	}
	return fmt.Sprintf("%s %s changed from %s to %s", c.Fact, c.ID, c.Was, c.Now)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// Drift is the typed difference found by CheckDrift; empty means no drift.
type Drift struct {
	Changes []Change `json:"changes,omitempty"`
}

// WithPreflight adds the preflight items that fail on the fresh read.
func (d Drift) WithPreflight(items []PreflightItem) Drift {
	for _, it := range items {
		d.Changes = append(d.Changes, Change{Fact: FactPreflight, ID: it.Code,
			Now: strings.TrimRight(it.Problem, ".") + "; fix: " + it.Fix})
	}
	return d
}

// Drifted reports whether anything changed that the approvers did not approve.
func (d Drift) Drifted() bool { return len(d.Changes) > 0 }

// Lines says each change in words, in a stable order.
func (d Drift) Lines() []string {
	out := make([]string, len(d.Changes))
	for i, c := range d.Changes {
		out[i] = c.String()
	}
	return out
}

// subscriptionRank orders statuses by how far they are towards deletion;
// absent is furthest. Moving to a higher rank is what step 2-3 gates ask
// for, so it is not drift. Unknown statuses rank -1: any change is drift.
func subscriptionRank(status string, present bool) int {
	if !present {
		return 4
	}
	switch status {
	case "Enabled":
		return 0
	case "Warning":
		return 1
	case "Suspended", "LockedOut":
		return 2
	case "Deleted":
		return 3
	}
	return -1
}

// CheckDrift compares a fresh read with the approved facts minus what the
// request has done (DESIGN §8): users it deleted, sync it turned off and
// subscriptions moving towards Deleted or absent are not drift; the number
// of ordinary users may differ from the expected one by driftPercent of the
// approved number; any other change is drift.
func CheckDrift(approved, fresh PlanFacts, done Done, driftPercent float64) Drift {
	var d Drift
	add := func(c Change) { d.Changes = append(d.Changes, c) }

	if lower(approved.TenantID) != lower(fresh.TenantID) {
		add(Change{Fact: FactTenant, Was: approved.TenantID, Now: fresh.TenantID})
	}
	if lower(approved.KeepObjectID) != lower(fresh.KeepObjectID) {
		add(Change{Fact: FactKeep, Was: approved.KeepObjectID, Now: fresh.KeepObjectID})
	}
	if lower(approved.KeepAssignmentID) != lower(fresh.KeepAssignmentID) {
		add(Change{Fact: FactKeepAssignment, Was: approved.KeepAssignmentID, Now: fresh.KeepAssignmentID})
	}

	gone := done.DeletedPrivileged
	if approved.PIM && !fresh.PIM {
		// PIM stopped answering (step 3 removed P2): the principals only
		// PIM showed are no longer visible, not removed.
		gone = append(slices.Clone(gone), approved.EligibleOnly...)
	}
	setDrift(FactPrivileged, approved.Privileged, fresh.Privileged, gone, add)

	was := map[string]string{}
	for _, s := range approved.Subscriptions {
		was[lower(s.ID)] = s.Status
	}
	now := map[string]string{}
	for _, s := range fresh.Subscriptions {
		now[lower(s.ID)] = s.Status
	}
	for _, id := range sortedKeys(now) {
		if _, ok := was[id]; !ok {
			add(Change{Fact: FactSubscription, ID: id, Now: now[id]})
		}
	}
	for _, id := range sortedKeys(was) {
		st, present := now[id]
		if st == was[id] {
			continue
		}
		if subscriptionRank(st, present) < subscriptionRank(was[id], true) || subscriptionRank(was[id], true) < 0 {
			add(Change{Fact: FactSubscription, ID: id, Was: was[id], Now: st})
		}
	}

	setDrift(FactApp, approved.Apps, fresh.Apps, done.DeletedApps, add)

	if approved.SyncEnabled != fresh.SyncEnabled && !(approved.SyncEnabled && done.SyncOff) {
		add(Change{Fact: FactSync, Was: onOff(approved.SyncEnabled), Now: onOff(fresh.SyncEnabled)})
	}

	expected := max(approved.OrdinaryUsers-done.DeletedUsers, 0)
	tolerance := math.Floor(float64(approved.OrdinaryUsers) * driftPercent / 100)
	if math.Abs(float64(fresh.OrdinaryUsers-expected)) > tolerance {
		add(Change{Fact: FactOrdinaryUsers, Was: strconv.Itoa(expected), Now: strconv.Itoa(fresh.OrdinaryUsers)})
	}
	return d
}

// setDrift reports ids new in fresh, and ids gone from fresh that the
// request did not remove itself.
func setDrift(fact string, approved, fresh, removedByUs []string, add func(Change)) {
	a, f, r := lowerSet(approved), lowerSet(fresh), lowerSet(removedByUs)
	for _, id := range sortedKeys(f) {
		if !a[id] {
			add(Change{Fact: fact, ID: id, Now: "present"})
		}
	}
	for _, id := range sortedKeys(a) {
		if !f[id] && !r[id] {
			add(Change{Fact: fact, ID: id, Was: "present"})
		}
	}
}

func lowerSet(v []string) map[string]bool {
	m := make(map[string]bool, len(v))
	for _, s := range v {
		if s != "" {
			m[lower(s)] = true
		}
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
