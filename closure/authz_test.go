package closure_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

// roleSet is one combination of the four things the table asks about.
type roleSet struct{ requester, approver, owner, keep bool }

func (r roleSet) String() string {
	return fmt.Sprintf("R%v/A%v/O%v/K%v", b(r.requester), b(r.approver), b(r.owner), b(r.keep))
}

func b(v bool) int {
	if v {
		return 1
	}
	return 0
}

func allRoleSets() []roleSet {
	var out []roleSet
	for i := range 16 {
		out = append(out, roleSet{i&1 != 0, i&2 != 0, i&4 != 0, i&8 != 0})
	}
	return out
}

func in(s closure.State, list ...closure.State) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// oracle is the issue-4 table written out independently of authz.go: the
// rule expected to refuse, or "" when allowed.
func oracle(act closure.Action, r roleSet, disjoint bool, s closure.State) closure.Rule {
	const (
		P  = closure.StatePending
		Ap = closure.StateApproved
		Pr = closure.StateProving
		W  = closure.StateWaitingWindow
		Ru = closure.StateRunning
		G  = closure.StateGate
		Pa = closure.StatePaused
		F  = closure.StateFailed
		St = closure.StateStuck
		Ab = closure.StateAborted
	)
	approverNotOwner := func() closure.Rule {
		if !r.approver {
			return closure.RuleNotApprover
		}
		if r.owner {
			return closure.RuleSelfApproval
		}
		return ""
	}
	states := func(ok bool) closure.Rule {
		if !ok {
			return closure.RuleWrongState
		}
		return ""
	}
	reqOrAppr := func() closure.Rule {
		if !r.requester && !r.approver {
			return closure.RuleNoRole
		}
		return ""
	}
	first := func(rules ...closure.Rule) closure.Rule {
		for _, x := range rules {
			if x != "" {
				return x
			}
		}
		return ""
	}
	switch act {
	case closure.ActOpen, closure.ActPlan, closure.ActStatus, closure.ActList:
		if !r.requester {
			return closure.RuleNotRequester
		}
		return ""
	case closure.ActApprove, closure.ActConfirm:
		var dj closure.Rule
		if disjoint && r.requester {
			dj = closure.RuleDisjoint
		}
		want := P
		if act == closure.ActConfirm {
			want = Ru
		}
		return first(approverNotOwner(), dj, states(s == want))
	case closure.ActReject:
		return first(approverNotOwner(), states(s == P))
	case closure.ActCancel:
		if !r.owner && !r.approver {
			return closure.RuleNotOwner
		}
		return states(s == P)
	case closure.ActPause:
		return first(reqOrAppr(), states(in(s, Ap, Pr, W, Ru, G, St)))
	case closure.ActResume:
		return first(reqOrAppr(), states(s == Pa))
	case closure.ActAbort:
		return first(reqOrAppr(), states(in(s, Ap, Pr, W, Ru, G, Pa, F, St)))
	case closure.ActRetry:
		return first(approverNotOwner(), states(s == F))
	case closure.ActPurge:
		return first(approverNotOwner(), states(in(s, G, St)))
	case closure.ActRestore:
		return first(approverNotOwner(), states(s == Ab))
	case closure.ActAttest:
		who := closure.Rule("")
		if !r.keep {
			if !r.approver {
				who = closure.RuleNotAttester
			} else if r.owner {
				who = closure.RuleSelfApproval
			}
		}
		return first(who, states(in(s, Ru, G, St, Pa, F, P)))
	case closure.ActRecheck:
		if !r.requester && !r.approver && !r.keep {
			return closure.RuleNoRole
		}
		return states(in(s, Ru, G, St))
	}
	panic("oracle: unknown action " + act)
}

const me = "U0ME"

// caseFixture builds a policy granting r to "U0ME" and a request in state
// s on which every extra condition of the actions holds, so only the
// table decides.
func caseFixture(r roleSet, disjoint bool, s closure.State) (*closure.Policy, *closure.Request, time.Time) {
	pol := testPolicy()
	pol.Disjoint = disjoint
	if r.requester {
		pol.Requesters = append(pol.Requesters, me)
	}
	if r.approver {
		pol.Approvers = append(pol.Approvers, me)
	}
	if r.keep {
		pol.Tenants[0].KeepSlackUser = me
	}
	owner := alice
	if r.owner {
		owner = me
	}
	f := testFacts()
	steps := closure.NewSteps()
	steps[4].AwaitingConfirmation = true
	now := t0.Add(time.Hour)
	req := &closure.Request{
		ID: "CT-7", TenantID: tenantID, TenantDomain: domain, Requester: owner, Reason: "x",
		State: s, Version: 9, CreatedAt: t0, UpdatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour),
		Facts: f, PlanDigest: f.Digest(), ConfigDigest: pol.ConfigDigest(tenantID),
		Step: 5, Steps: steps, ConfirmSince: 3,
		Gates: []closure.Gate{{
			ID: "5.delete", Step: 5, Kind: closure.GateDeleteTenant, OpenedAt: t0,
			Attest: []string{closure.SentenceNoAzure},
		}},
		RestoreDeadline: t0.Add(closure.RestoreWindow),
	}
	if s == closure.StatePaused {
		req.PausedFrom = closure.StateRunning
	}
	return pol, req, now
}

// decide runs the real decision for act, so allowed cases are proven to
// go through and denied ones to be refused by the same rule.
func decide(d closure.Decider, act closure.Action, req *closure.Request) (*closure.Request, error) {
	switch act {
	case closure.ActOpen:
		_, _, err := d.Open(closure.OpenInput{Tenant: tenantID, Reason: "why", Facts: testFacts()})
		return nil, err
	case closure.ActPlan, closure.ActList:
		_, err := d.Can(act, nil, tenantID)
		return nil, err
	case closure.ActStatus:
		_, err := d.Can(act, req, "")
		return nil, err
	case closure.ActApprove:
		next, _, err := d.Approve(req, closure.ApproveInput{Version: req.Version, PlanDigest: req.PlanDigest})
		return next, err
	case closure.ActReject:
		next, _, err := d.Reject(req, closure.RejectInput{Version: req.Version, PlanDigest: req.PlanDigest, Reason: "wrong tenant"})
		return next, err
	case closure.ActCancel:
		next, _, err := d.Cancel(req)
		return next, err
	case closure.ActPause:
		next, _, err := d.Pause(req)
		return next, err
	case closure.ActResume:
		next, _, err := d.Resume(req, closure.Typed)
		return next, err
	case closure.ActAbort:
		next, _, err := d.Abort(req)
		return next, err
	case closure.ActRetry:
		next, _, err := d.Retry(req, closure.Typed)
		return next, err
	case closure.ActConfirm:
		next, _, err := d.Confirm(req, req.Version)
		return next, err
	case closure.ActPurge:
		next, _, err := d.Purge(req, closure.Typed)
		return next, err
	case closure.ActRestore:
		next, _, err := d.Restore(req, closure.Typed)
		return next, err
	case closure.ActAttest:
		next, _, err := d.Attest(req, "5.delete", closure.SentenceNoAzure)
		return next, err
	case closure.ActRecheck:
		_, err := d.Recheck(req, "5.delete")
		return nil, err
	}
	panic("unknown action")
}

// TestAuthorizationTable covers every role combination × action × state
// (× approval.disjoint), through both Authorize and the decision itself.
func TestAuthorizationTable(t *testing.T) {
	n, allowed := 0, 0
	for _, disjoint := range []bool{false, true} {
		for _, r := range allRoleSets() {
			for _, act := range closure.AllActions {
				for _, s := range closure.AllStates {
					n++
					name := fmt.Sprintf("%s %s in %s disjoint=%v", r, act, s, disjoint)
					pol, req, now := caseFixture(r, disjoint, s)
					want := oracle(act, r, disjoint, s)
					var target *closure.Request
					if act != closure.ActOpen && act != closure.ActPlan && act != closure.ActList {
						target = req
					}
					_, err := pol.Authorize(person(me), act, target, tenantID)
					if got := closure.RuleOf(err); got != want {
						t.Errorf("%s: Authorize rule %q, want %q (err %v)", name, got, want, err)
						continue
					}
					before := req.Clone()
					next, err := decide(closure.Decider{Policy: pol, Actor: person(me), Now: now}, act, req)
					if got := closure.RuleOf(err); got != want {
						t.Errorf("%s: decision rule %q, want %q (err %v)", name, got, want, err)
						continue
					}
					if want == "" {
						allowed++
						require.NoError(t, err, name)
						if next != nil {
							assert.True(t, closure.CanTransition(s, next.State), "%s: %s → %s", name, s, next.State)
						}
					}
					assert.Equal(t, before, req, "%s: decision changed its input", name)
				}
			}
		}
	}
	t.Logf("%d cases, %d allowed", n, allowed)
	require.Equal(t, 2*16*len(closure.AllActions)*len(closure.AllStates), n)
}

// TestScreenBeforeTable: guests, bots, deactivated users and other teams
// are refused even when they hold every role.
func TestScreenBeforeTable(t *testing.T) {
	pol := testPolicy()
	pol.Requesters = append(pol.Requesters, me)
	pol.Approvers = append(pol.Approvers, me)
	cases := map[closure.Rule]closure.Actor{
		closure.RuleGuest:       {UserID: me, TeamID: team, Restricted: true},
		closure.RuleUnknownUser: {TeamID: team},
		closure.RuleBot:         {UserID: me, TeamID: team, Bot: true},
		closure.RuleDeletedUser: {UserID: me, TeamID: team, Deleted: true},
		closure.RuleOtherTeam:   {UserID: me, TeamID: "T0EVIL"},
	}
	ultra := closure.Actor{UserID: me, TeamID: team, UltraRestricted: true}
	for _, act := range closure.AllActions {
		for rule, a := range cases {
			_, err := pol.Authorize(a, act, nil, tenantID)
			requireRule(t, rule, err)
			assert.NotEmpty(t, closure.Explain(err))
		}
		_, err := pol.Authorize(ultra, act, nil, tenantID)
		requireRule(t, closure.RuleGuest, err)
	}
}

// TestRolesFromGroups: roles come from user ids or current group
// membership, and the groups used are recorded on the event.
func TestRolesFromGroups(t *testing.T) {
	pol := testPolicy()
	r := pol.RolesOf(person(erin, secGroup, "S0OTHER"), tenantID)
	assert.True(t, r.Approver)
	assert.False(t, r.Requester)
	assert.Equal(t, []string{secGroup}, r.Groups)

	r = pol.RolesOf(person(erin), tenantID)
	assert.False(t, r.Any())

	r = pol.RolesOf(person(carol), tenantID)
	assert.True(t, r.Keep)
	assert.False(t, pol.RolesOf(person(carol), "").Keep, "keep is per tenant")

	_, req, now := caseFixture(roleSet{}, false, closure.StatePending)
	next, ev, err := closure.Decider{Policy: pol, Actor: person(erin, secGroup), Now: now}.
		Approve(req, closure.ApproveInput{Version: req.Version, PlanDigest: req.PlanDigest})
	require.NoError(t, err)
	assert.Equal(t, closure.StateApproved, next.State)
	assert.Equal(t, []string{secGroup}, ev.Groups)
	assert.Equal(t, []string{secGroup}, next.Approvals[erin].Groups)
}

// TestDisjointByGroup: with disjoint, an approver who is a requester
// through a group (checked at decision time) is refused.
func TestDisjointByGroup(t *testing.T) {
	pol := testPolicy()
	pol.Disjoint = true
	_, req, now := caseFixture(roleSet{}, true, closure.StatePending)
	in := closure.ApproveInput{Version: req.Version, PlanDigest: req.PlanDigest}
	_, _, err := closure.Decider{Policy: pol, Actor: person(bob, opsGroup), Now: now}.Approve(req, in)
	requireRule(t, closure.RuleDisjoint, err)
	_, _, err = closure.Decider{Policy: pol, Actor: person(bob), Now: now}.Approve(req, in)
	require.NoError(t, err, "same user after leaving the requester group")
}
