package run_test

// Fixtures shared with the core's tests (closure/helpers_test.go): the same
// policy, people and Service harness, so the executor tests drive the
// Runner over the core exactly as before the split.

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/closuretest"
)

var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

const (
	tenantID = "6f1d2c3b-0000-4000-8000-00000000c0de"
	domain   = "contoso.onmicrosoft.com"
	team     = "T0ACME"
	alice    = "U0ALICE" // requester
	bob      = "U0BOB"   // approver
	dave     = "U0DAVE"  // approver
	carol    = "U0CAROL" // keep_slack_user
	erin     = "U0ERIN"  // nobody
	opsGroup = "S0ITOPS"
	secGroup = "S0SECLEAD"
)

func testPolicy() *closure.Policy {
	return &closure.Policy{
		TeamID:       team,
		Requesters:   []string{alice, opsGroup},
		Approvers:    []string{bob, dave, secGroup},
		Required:     1,
		ExpiresAfter: 24 * time.Hour,
		AbortWindow:  30 * time.Minute,
		DriftPercent: 10,
		StuckAfter:   336 * time.Hour,
		Tenants: []closure.TenantPolicy{{
			ID: tenantID, Domain: domain, Keep: "admin@" + domain, KeepSlackUser: carol,
		}},
	}
}

func person(id string, groups ...string) closure.Actor {
	return closure.Actor{UserID: id, TeamID: team, Groups: groups}
}

func testFacts() closure.PlanFacts {
	return closure.PlanFacts{
		TenantID:         tenantID,
		KeepObjectID:     "keep-oid",
		KeepAssignmentID: "keep-ra",
		Privileged:       []string{"keep-oid", "priv-1", "priv-2"},
		Subscriptions: []closure.Subscription{
			{ID: "sub-1", Status: "Enabled"}, {ID: "sub-2", Status: "Warning"},
		},
		Apps:          []string{"app-1", "app-2"},
		SyncEnabled:   true,
		OrdinaryUsers: 200,
	}
}

// harness is a Service over an in-memory store with a fake clock.
type harness struct {
	svc   *closure.Service
	store *closuretest.MemStore
	clock *closuretest.Clock
	rep   *closuretest.Reporter
	pol   *closure.Policy
}

func newHarness(t *testing.T, pol *closure.Policy) *harness {
	t.Helper()
	require.NoError(t, pol.Validate())
	h := &harness{
		store: closuretest.NewMemStore(),
		clock: closuretest.NewClock(t0),
		rep:   &closuretest.Reporter{},
		pol:   pol,
	}
	h.svc = &closure.Service{Store: h.store, Clock: h.clock, Policy: pol, Reporter: h.rep}
	return h
}

func (h *harness) open(t *testing.T) *closure.Request {
	t.Helper()
	r, ev, err := h.svc.Open(context.Background(), person(alice), closure.OpenInput{
		Tenant: domain, Reason: "Company dissolved, ticket OPS-1234", Channel: "C0OPS", Facts: testFacts(),
	})
	require.NoError(t, err)
	require.Equal(t, closure.StatePending, r.State)
	require.Equal(t, closure.EvOpen, ev.Action)
	return r
}

func (h *harness) approve(t *testing.T, user string, r *closure.Request) *closure.Request {
	t.Helper()
	got, _, err := h.svc.Approve(context.Background(), person(user), r.ID,
		closure.ApproveInput{Version: r.Version, PlanDigest: r.PlanDigest})
	require.NoError(t, err)
	return got
}

func (h *harness) sys(t *testing.T, id string, f func(closure.System, *closure.Request) (*closure.Request, closure.Event, error)) *closure.Request {
	t.Helper()
	got, _, err := h.svc.ApplySystem(context.Background(), id, f)
	require.NoError(t, err)
	return got
}

// toRunning takes a fresh request through approval, proof and window.
func (h *harness) toRunning(t *testing.T) *closure.Request {
	t.Helper()
	r := h.open(t)
	r = h.approve(t, bob, r)
	require.Equal(t, closure.StateApproved, r.State)
	r = h.sys(t, r.ID, closure.System.StartProof)
	r = h.sys(t, r.ID, closure.System.ProofPassed)
	require.Equal(t, closure.StateWaitingWindow, r.State)
	h.clock.Advance(h.pol.AbortWindow)
	r = h.sys(t, r.ID, closure.System.StartSteps)
	require.Equal(t, closure.StateRunning, r.State)
	require.Equal(t, 1, r.Step)
	return r
}

func requireRule(t *testing.T, want closure.Rule, err error) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, want, closure.RuleOf(err), "error: %v", err)
}
