package closure_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

func TestPlanDigestStableUnderReordering(t *testing.T) {
	a := testFacts()
	b := testFacts()
	slices.Reverse(b.Privileged)
	slices.Reverse(b.Subscriptions)
	slices.Reverse(b.Apps)
	b.Apps = append(b.Apps, "app-1") // duplicates do not matter
	b.KeepObjectID = strings.ToUpper(b.KeepObjectID)
	assert.Equal(t, a.Digest(), b.Digest())
	assert.Len(t, a.Digest(), 64)

	c := testFacts()
	c.OrdinaryUsers = 9999
	assert.Equal(t, a.Digest(), c.Digest(), "the ordinary user count drifts by drift_percent, it is not digested")
}

func TestPlanDigestChangesOnEachFact(t *testing.T) {
	base := testFacts().Digest()
	changes := map[string]func(*closure.PlanFacts){
		"tenant":          func(f *closure.PlanFacts) { f.TenantID = "other" },
		"keep":            func(f *closure.PlanFacts) { f.KeepObjectID = "other" },
		"keep assignment": func(f *closure.PlanFacts) { f.KeepAssignmentID = "other" },
		"privileged add":  func(f *closure.PlanFacts) { f.Privileged = append(f.Privileged, "priv-3") },
		"privileged del":  func(f *closure.PlanFacts) { f.Privileged = f.Privileged[1:] },
		"sub status":      func(f *closure.PlanFacts) { f.Subscriptions[0].Status = "Suspended" },
		"sub id":          func(f *closure.PlanFacts) { f.Subscriptions[0].ID = "sub-9" },
		"sub add": func(f *closure.PlanFacts) {
			f.Subscriptions = append(f.Subscriptions, closure.Subscription{ID: "sub-3", Status: "Enabled"})
		},
		"app add": func(f *closure.PlanFacts) { f.Apps = append(f.Apps, "app-3") },
		"app del": func(f *closure.PlanFacts) { f.Apps = nil },
		"sync":    func(f *closure.PlanFacts) { f.SyncEnabled = false },
		// A value moved from one set to another must not collide.
		"moved": func(f *closure.PlanFacts) {
			f.Apps = append(f.Apps, "priv-1")
			f.Privileged = slices.DeleteFunc(f.Privileged, func(s string) bool { return s == "priv-1" })
		},
	}
	seen := map[string]string{base: "base"}
	for name, change := range changes {
		f := testFacts()
		change(&f)
		d := f.Digest()
		if prev, dup := seen[d]; dup {
			t.Errorf("%s: same digest as %s", name, prev)
		}
		seen[d] = name
	}
}

func TestConfigDigest(t *testing.T) {
	base := testPolicy()
	d := base.ConfigDigest(tenantID)
	re := testPolicy()
	slices.Reverse(re.Approvers)
	slices.Reverse(re.Requesters)
	re.Tenants[0].Keep = strings.ToUpper(re.Tenants[0].Keep)
	re.ExpiresAfter *= 2 // not part of the authorisation config
	re.DriftPercent = 50
	assert.Equal(t, d, re.ConfigDigest(tenantID))

	changes := map[string]func(*closure.Policy){
		"requesters":      func(p *closure.Policy) { p.Requesters = append(p.Requesters, "U0NEW") },
		"approvers":       func(p *closure.Policy) { p.Approvers = p.Approvers[1:] },
		"required":        func(p *closure.Policy) { p.Required = 2 },
		"disjoint":        func(p *closure.Policy) { p.Disjoint = true },
		"keep":            func(p *closure.Policy) { p.Tenants[0].Keep = "other@" + domain },
		"keep_slack_user": func(p *closure.Policy) { p.Tenants[0].KeepSlackUser = "U0OTHER" },
	}
	for name, change := range changes {
		p := testPolicy()
		change(p)
		assert.NotEqual(t, d, p.ConfigDigest(tenantID), name)
	}
	assert.NotEqual(t, d, base.ConfigDigest("another-tenant"))
}

// TestConfigChangeInvalidatesApproval: an approval given under one config
// digest does not count under another.
func TestConfigChangeInvalidatesApproval(t *testing.T) {
	ctx := context.Background()
	pol := testPolicy()
	pol.Required = 2
	h := newHarness(t, pol)
	r := h.Open(t)
	r = h.Approve(t, bob, r)
	require.Equal(t, 1, r.CountApprovals(pol.ConfigDigest(tenantID)))

	// The operator adds an approver and restarts: a new config digest.
	pol2 := testPolicy()
	pol2.Required = 2
	pol2.Approvers = append(pol2.Approvers, "U0FRANK")
	h.Svc.Policy = pol2
	assert.Equal(t, 0, r.CountApprovals(pol2.ConfigDigest(tenantID)))

	r, ev, err := h.Svc.Approve(ctx, person(dave), r.ID, closure.ApproveInput{Version: r.Version, PlanDigest: r.PlanDigest})
	require.NoError(t, err)
	assert.Equal(t, closure.StatePending, r.State, "bob's approval no longer counts")
	assert.Equal(t, bob, ev.Detail["dropped"])
	assert.Equal(t, pol2.ConfigDigest(tenantID), r.ConfigDigest)
	// Bob may approve again under the new config.
	r, _, err = h.Svc.Approve(ctx, person(bob), r.ID, closure.ApproveInput{Version: r.Version, PlanDigest: r.PlanDigest})
	require.NoError(t, err)
	assert.Equal(t, closure.StateApproved, r.State)

	// The modal may carry the config digest it was opened under.
	h3 := newHarness(t, testPolicy())
	r3 := h3.Open(t)
	_, _, err = h3.Svc.Approve(ctx, person(bob), r3.ID, closure.ApproveInput{Version: r3.Version, PlanDigest: r3.PlanDigest, ConfigDigest: "old"})
	requireRule(t, closure.RuleConfigChanged, err)

	// A config change between approval and the first write is drift.
	h4 := newHarness(t, testPolicy())
	r4 := h4.ToRunning(t)
	h4.Svc.Policy = pol2
	r4 = h4.Sys(t, r4.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
		d := s.Verify(r, testFacts())
		require.True(t, d.Drifted())
		assert.Equal(t, closure.FactConfig, d.Changes[0].Fact)
		return s.Repend(r, testFacts(), nil, d)
	})
	assert.Equal(t, closure.StatePending, r4.State)
}
