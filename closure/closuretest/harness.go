package closuretest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

// The fixtures the core's and the executor's tests share: one policy, its
// people, a plan's facts and a Service over the in-memory store.

// HarnessT0 is the harness clock's start.
var HarnessT0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// The harness tenant and its people.
const (
	HarnessTenantID = "6f1d2c3b-0000-4000-8000-00000000c0de"
	HarnessDomain   = "contoso.onmicrosoft.com"
	HarnessTeam     = "T0ACME"
	Alice           = "U0ALICE" // requester
	Bob             = "U0BOB"   // approver
	Dave            = "U0DAVE"  // approver
	Carol           = "U0CAROL" // keep_slack_user
	Erin            = "U0ERIN"  // nobody
	OpsGroup        = "S0ITOPS"
	SecGroup        = "S0SECLEAD"
)

// HarnessPolicy is the policy the harness tests decide under.
func HarnessPolicy() *closure.Policy {
	return &closure.Policy{
		TeamID:       HarnessTeam,
		Requesters:   []string{Alice, OpsGroup},
		Approvers:    []string{Bob, Dave, SecGroup},
		Required:     1,
		ExpiresAfter: 24 * time.Hour,
		AbortWindow:  30 * time.Minute,
		DriftPercent: 10,
		StuckAfter:   336 * time.Hour,
		Tenants: []closure.TenantPolicy{{
			ID: HarnessTenantID, Domain: HarnessDomain, Keep: "admin@" + HarnessDomain, KeepSlackUser: Carol,
		}},
	}
}

// Person is a member of the harness team.
func Person(id string, groups ...string) closure.Actor {
	return closure.Actor{UserID: id, TeamID: HarnessTeam, Groups: groups}
}

// HarnessFacts are a plan's facts for the harness tenant.
func HarnessFacts() closure.PlanFacts {
	return closure.PlanFacts{
		TenantID:         HarnessTenantID,
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

// Harness is a Service over an in-memory store with a fake clock.
type Harness struct {
	Svc   *closure.Service
	Store *MemStore
	Clock *Clock
	Rep   *Reporter
	Pol   *closure.Policy
}

// NewHarness builds a Harness deciding under pol.
func NewHarness(t *testing.T, pol *closure.Policy) *Harness {
	t.Helper()
	require.NoError(t, pol.Validate())
	h := &Harness{Store: NewMemStore(), Clock: NewClock(HarnessT0), Rep: &Reporter{}, Pol: pol}
	h.Svc = &closure.Service{Store: h.Store, Clock: h.Clock, Policy: pol, Reporter: h.Rep}
	return h
}

// Open is alice's request for the harness tenant.
func (h *Harness) Open(t *testing.T) *closure.Request {
	t.Helper()
	r, ev, err := h.Svc.Open(context.Background(), Person(Alice), closure.OpenInput{
		Tenant: HarnessDomain, Reason: "Company dissolved, ticket OPS-1234", Channel: "C0OPS", Facts: HarnessFacts(),
	})
	require.NoError(t, err)
	require.Equal(t, closure.StatePending, r.State)
	require.Equal(t, closure.EvOpen, ev.Action)
	return r
}

// Approve is user's approval of r as drawn.
func (h *Harness) Approve(t *testing.T, user string, r *closure.Request) *closure.Request {
	t.Helper()
	got, _, err := h.Svc.Approve(context.Background(), Person(user), r.ID,
		closure.ApproveInput{Version: r.Version, PlanDigest: r.PlanDigest})
	require.NoError(t, err)
	return got
}

// Sys applies one of closebot's own decisions.
func (h *Harness) Sys(t *testing.T, id string, f func(closure.System, *closure.Request) (*closure.Request, closure.Event, error)) *closure.Request {
	t.Helper()
	got, _, err := h.Svc.ApplySystem(context.Background(), id, f)
	require.NoError(t, err)
	return got
}

// ToRunning takes a fresh request through approval, proof and window.
func (h *Harness) ToRunning(t *testing.T) *closure.Request {
	t.Helper()
	r := h.Open(t)
	r = h.Approve(t, Bob, r)
	require.Equal(t, closure.StateApproved, r.State)
	r = h.Sys(t, r.ID, closure.System.StartProof)
	r = h.Sys(t, r.ID, closure.System.ProofPassed)
	require.Equal(t, closure.StateWaitingWindow, r.State)
	h.Clock.Advance(h.Pol.AbortWindow)
	r = h.Sys(t, r.ID, closure.System.StartSteps)
	require.Equal(t, closure.StateRunning, r.State)
	require.Equal(t, 1, r.Step)
	return r
}

// RequireRule fails t unless err is a refusal under want.
func RequireRule(t *testing.T, want closure.Rule, err error) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, want, closure.RuleOf(err), "error: %v", err)
}

// HarnessWriteGrants are closebot's write grants as cmd/closebot derives
// them from closure/msgraph.Permissions (write_access just_in_time).
func HarnessWriteGrants() []closure.WriteGrant {
	return []closure.WriteGrant{
		{Name: "Organization.ReadWrite.All", AppRoleID: "292d869f-3427-49a8-9dab-8c70152b74e9", ReadAtRest: "Organization.Read.All"},
		{Name: "User.ReadWrite.All", AppRoleID: "741f803b-c850-494e-b5df-cde7c675a1ca", ReadAtRest: "User.Read.All"},
		{Name: "User.DeleteRestore.All", AppRoleID: "eccc023d-eccf-4e7b-9683-8813ab36cecc"},
		{Name: "Policy.ReadWrite.AuthenticationMethod", AppRoleID: "29c18626-4985-4dcd-85c0-193eef327366"},
		{Name: "Application.ReadWrite.All", AppRoleID: "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", ReadAtRest: "Application.Read.All"},
		{Name: "Privileged Authentication Administrator", RoleTemplateID: closure.RolePrivilegedAuthenticationAdministrator},
	}
}

// ReadOnlyAtRest leaves closebot's app as write_access just_in_time keeps it
// between closures: each write grant's application permission withdrawn, its
// read-only counterpart granted, no directory role.
func (d *Directory) ReadOnlyAtRest(grants []closure.WriteGrant) {
	for _, g := range grants {
		if g.IsRole() {
			continue
		}
		d.RevokePermission(g.Name)
		if g.ReadAtRest != "" {
			d.GrantPermission(g.ReadAtRest)
		}
	}
}
