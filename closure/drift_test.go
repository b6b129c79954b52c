package closure_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/closebot/closebot/closure"
)

func TestDrift(t *testing.T) {
	type tc struct {
		change func(f *closure.PlanFacts, d *closure.Done)
		facts  []string // expected Change.Fact values, in order; empty: no drift
	}
	cases := map[string]tc{
		"nothing changed": {func(*closure.PlanFacts, *closure.Done) {}, nil},
		"users we deleted": {func(f *closure.PlanFacts, d *closure.Done) {
			f.OrdinaryUsers = 50
			d.DeletedUsers = 150
		}, nil},
		"privileged user we deleted": {func(f *closure.PlanFacts, d *closure.Done) {
			f.Privileged = []string{"keep-oid", "priv-2"}
			d.DeletedPrivileged = []string{"PRIV-1"}
		}, nil},
		"privileged user deleted by someone else": {func(f *closure.PlanFacts, d *closure.Done) {
			f.Privileged = []string{"keep-oid", "priv-2"}
		}, []string{closure.FactPrivileged}},
		"new privileged principal": {func(f *closure.PlanFacts, d *closure.Done) {
			f.Privileged = append(f.Privileged, "priv-9")
		}, []string{closure.FactPrivileged}},
		"ordinary users +10%": {func(f *closure.PlanFacts, d *closure.Done) { f.OrdinaryUsers = 220 }, nil},
		"ordinary users -10%": {func(f *closure.PlanFacts, d *closure.Done) { f.OrdinaryUsers = 180 }, nil},
		"ordinary users +11%": {func(f *closure.PlanFacts, d *closure.Done) { f.OrdinaryUsers = 221 }, []string{closure.FactOrdinaryUsers}},
		"ordinary users -11%": {func(f *closure.PlanFacts, d *closure.Done) { f.OrdinaryUsers = 178 }, []string{closure.FactOrdinaryUsers}},
		"ordinary users within tolerance after deletions": {func(f *closure.PlanFacts, d *closure.Done) {
			d.DeletedUsers = 100
			f.OrdinaryUsers = 115
		}, nil},
		"ordinary users beyond tolerance after deletions": {func(f *closure.PlanFacts, d *closure.Done) {
			d.DeletedUsers = 100
			f.OrdinaryUsers = 125
		}, []string{closure.FactOrdinaryUsers}},
		"sync we turned off": {func(f *closure.PlanFacts, d *closure.Done) {
			f.SyncEnabled = false
			d.SyncOff = true
		}, nil},
		"sync turned off by someone else": {func(f *closure.PlanFacts, d *closure.Done) { f.SyncEnabled = false }, []string{closure.FactSync}},
		"subscriptions towards deleted": {func(f *closure.PlanFacts, d *closure.Done) {
			f.Subscriptions = []closure.Subscription{{ID: "sub-1", Status: "Suspended"}} // sub-2 absent
		}, nil},
		"subscription back to enabled": {func(f *closure.PlanFacts, d *closure.Done) {
			f.Subscriptions[1].Status = "Enabled"
		}, []string{closure.FactSubscription}},
		"new subscription": {func(f *closure.PlanFacts, d *closure.Done) {
			f.Subscriptions = append(f.Subscriptions, closure.Subscription{ID: "sub-3", Status: "Enabled"})
		}, []string{closure.FactSubscription}},
		"app we deleted": {func(f *closure.PlanFacts, d *closure.Done) {
			f.Apps = []string{"app-2"}
			d.DeletedApps = []string{"app-1"}
		}, nil},
		"new app": {func(f *closure.PlanFacts, d *closure.Done) {
			f.Apps = append(f.Apps, "app-3")
		}, []string{closure.FactApp}},
		"kept admin and assignment": {func(f *closure.PlanFacts, d *closure.Done) {
			f.KeepObjectID, f.KeepAssignmentID = "x", "y"
		}, []string{closure.FactKeep, closure.FactKeepAssignment}},
		"tenant": {func(f *closure.PlanFacts, d *closure.Done) { f.TenantID = "other" }, []string{closure.FactTenant}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			fresh := testFacts()
			var done closure.Done
			c.change(&fresh, &done)
			d := closure.CheckDrift(testFacts(), fresh, done, 10)
			var got []string
			for _, ch := range d.Changes {
				got = append(got, ch.Fact)
			}
			assert.Equal(t, c.facts, got)
			assert.Equal(t, len(c.facts) > 0, d.Drifted())
			for _, l := range d.Lines() {
				assert.NotEmpty(t, l)
			}
		})
	}
}

func TestDriftLines(t *testing.T) {
	fresh := testFacts()
	fresh.Privileged = append(fresh.Privileged, "priv-9")
	fresh.Subscriptions[1].Status = "Enabled"
	fresh.OrdinaryUsers = 300
	d := closure.CheckDrift(testFacts(), fresh, closure.Done{}, 10)
	assert.Equal(t, []string{
		"new privileged principal priv-9",
		"subscription sub-2 went from Warning back to Enabled",
		"ordinary users: expected 200, found 300",
	}, d.Lines())
}
