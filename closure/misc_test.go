package closure_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

// TestCloneIsDeep: a clone shares no mutable memory with its original.
func TestCloneIsDeep(t *testing.T) {
	_, r, _ := caseFixture(roleSet{}, false, closure.StateRunning)
	r.Approvals = map[string]closure.Approval{bob: {UserID: bob, Groups: []string{secGroup}}}
	r.Confirmations = map[string]closure.Approval{dave: {UserID: dave}}
	r.Interrupted = &closure.Interruption{State: closure.StateRunning, Step: 2}
	r.DriftLines = []string{"x"}
	r.Done = closure.Done{DeletedPrivileged: []string{"p"}, DeletedApps: []string{"a"}}
	r.Gates[0].Params = map[string]string{"k": "v"}
	r.Attestations = []closure.Attestation{{Gate: "g", Groups: []string{"S"}}}
	r.RestoreRequested = &closure.Click{By: bob}
	r.PurgeRequested = &closure.Click{By: bob}
	before, err := json.Marshal(r)
	require.NoError(t, err)

	c := r.Clone()
	require.Equal(t, r, c)
	c.Approvals[bob].Groups[0] = "changed"
	c.Approvals["new"] = closure.Approval{}
	c.Confirmations["new"] = closure.Approval{}
	c.Interrupted.Step = 9
	c.DriftLines[0] = "changed"
	c.Done.DeletedPrivileged[0] = "changed"
	c.Done.DeletedApps[0] = "changed"
	c.Facts.Privileged[0] = "changed"
	c.Facts.Subscriptions[0].Status = "changed"
	c.Facts.Apps[0] = "changed"
	c.Steps[0].Done = 99
	c.Gates[0].Params["k"] = "changed"
	c.Gates[0].Attest[0] = "changed"
	c.Attestations[0].Groups[0] = "changed"
	c.RestoreRequested.By = "changed"
	c.PurgeRequested.By = "changed"
	after, err := json.Marshal(r)
	require.NoError(t, err)
	assert.JSONEq(t, string(before), string(after))
}

// TestRequestJSONRoundTrip: the store keeps the request as JSON; every
// field survives.
func TestRequestJSONRoundTrip(t *testing.T) {
	_, r, _ := caseFixture(roleSet{}, false, closure.StateGate)
	r.Interrupted = &closure.Interruption{State: closure.StateGate, Step: 3, At: t0}
	r.Approvals = map[string]closure.Approval{bob: {UserID: bob, At: t0}}
	b, err := json.Marshal(r)
	require.NoError(t, err)
	var back closure.Request
	require.NoError(t, json.Unmarshal(b, &back))
	assert.True(t, reflect.DeepEqual(r, &back), "round trip differs:\n%+v\n%+v", r, &back)
}

// TestExplain: every rule has words; store errors read well; internal
// errors do not leak.
func TestExplain(t *testing.T) {
	rules := []closure.Rule{
		closure.RuleUnknownUser, closure.RuleGuest, closure.RuleBot, closure.RuleDeletedUser, closure.RuleOtherTeam,
		closure.RuleNotRequester, closure.RuleNotApprover, closure.RuleSelfApproval, closure.RuleNotOwner,
		closure.RuleNoRole, closure.RuleNotAttester, closure.RuleDisjoint, closure.RuleWrongState,
		closure.RuleStaleVersion, closure.RulePlanChanged, closure.RuleConfigChanged, closure.RuleAlreadyApproved,
		closure.RuleExpired, closure.RuleNotAwaiting, closure.RuleWrongStep, closure.RuleRestoreDeadline,
		closure.RuleNothingToRestore, closure.RuleNoSuchGate, closure.RuleGateSatisfied, closure.RuleNotAttestable,
		closure.RuleAlreadyAttested, closure.RuleWindowOpen, closure.RuleReasonRequired, closure.RuleUnknownTenant,
		closure.RuleBadInput, closure.RuleNotDue,
	}
	for _, r := range rules {
		for _, act := range closure.AllActions {
			for _, s := range closure.AllStates {
				msg := closure.Explain(&closure.Denied{Rule: r, Action: act, State: s})
				assert.NotContains(t, msg, "Not allowed (", r)
				assert.NotContains(t, msg, "%!", r)
				assertSentence(t, msg)
			}
		}
	}
	assert.Equal(t, "Approving is not possible now: the request is cancelled.",
		closure.Explain(&closure.Denied{Rule: closure.RuleWrongState, Action: closure.ActApprove, State: closure.StateCancelled}))
	assert.Equal(t, "You opened this request, so you cannot approve it: a second person must.",
		closure.Explain(&closure.Denied{Rule: closure.RuleSelfApproval, Action: closure.ActApprove}))

	wrapped := fmt.Errorf("approve: %w", &closure.Denied{Rule: closure.RuleStaleVersion})
	assert.Equal(t, closure.RuleStaleVersion, closure.RuleOf(wrapped))
	assert.True(t, errors.Is(wrapped, &closure.Denied{Rule: closure.RuleStaleVersion}))
	assert.False(t, errors.Is(wrapped, &closure.Denied{Rule: closure.RulePlanChanged}))

	assert.Equal(t, "There is no such request.", closure.Explain(fmt.Errorf("read: %w", closure.ErrNotFound)))
	internal := closure.Explain(errors.New("bolt: page 42 corrupt /secret/path"))
	assert.NotContains(t, internal, "secret")
	assert.Contains(t, internal, "internal error")
}

func TestPolicyValidate(t *testing.T) {
	require.NoError(t, testPolicy().Validate())
	bad := map[string]func(*closure.Policy){
		"required 0":        func(p *closure.Policy) { p.Required = 0 },
		"expires 0":         func(p *closure.Policy) { p.ExpiresAfter = 0 },
		"stuck 0":           func(p *closure.Policy) { p.StuckAfter = 0 },
		"window negative":   func(p *closure.Policy) { p.AbortWindow = -time.Second },
		"drift 101":         func(p *closure.Policy) { p.DriftPercent = 101 },
		"no approvers":      func(p *closure.Policy) { p.Approvers = nil },
		"no requesters":     func(p *closure.Policy) { p.Requesters = nil },
		"no team":           func(p *closure.Policy) { p.TeamID = "" },
		"tenant incomplete": func(p *closure.Policy) { p.Tenants[0].KeepSlackUser = "" },
		"tenant twice":      func(p *closure.Policy) { p.Tenants = append(p.Tenants, p.Tenants[0]) },
	}
	for name, f := range bad {
		p := testPolicy()
		f(p)
		assert.Error(t, p.Validate(), name)
	}
	p := testPolicy()
	p.AbortWindow = 0
	assert.NoError(t, p.Validate(), "0s abort window is allowed")
}

// TestOpenRefusals: reason required, unknown tenant, plan of another tenant.
func TestOpenRefusals(t *testing.T) {
	d := closure.Decider{Policy: testPolicy(), Actor: person(alice), Now: t0}
	_, _, err := d.Open(closure.OpenInput{Tenant: domain, Reason: "  ", Facts: testFacts()})
	requireRule(t, closure.RuleReasonRequired, err)
	_, _, err = d.Open(closure.OpenInput{Tenant: "fabrikam.onmicrosoft.com", Reason: "x", Facts: testFacts()})
	requireRule(t, closure.RuleUnknownTenant, err)
	f := testFacts()
	f.TenantID = "other"
	_, _, err = d.Open(closure.OpenInput{Tenant: domain, Reason: "x", Facts: f})
	requireRule(t, closure.RuleBadInput, err)
	_, _, err = closure.Decider{Policy: testPolicy(), Actor: person(bob), Now: t0}.
		Open(closure.OpenInput{Tenant: domain, Reason: "x", Facts: testFacts()})
	requireRule(t, closure.RuleNotRequester, err)
	_, _, err = closure.Decider{Policy: testPolicy(), Actor: person(erin, opsGroup), Now: t0}.
		Open(closure.OpenInput{Tenant: domain, Reason: "x", Facts: testFacts()})
	require.NoError(t, err, "requester through a group")
}

// TestRejectNeedsReason and attestation rules beyond the table.
func TestRejectAndAttestRules(t *testing.T) {
	pol, req, now := caseFixture(roleSet{approver: true}, false, closure.StatePending)
	d := closure.Decider{Policy: pol, Actor: person(me), Now: now}
	_, _, err := d.Reject(req, closure.RejectInput{Version: req.Version, PlanDigest: req.PlanDigest, Reason: " "})
	requireRule(t, closure.RuleReasonRequired, err)
	next, ev, err := d.Reject(req, closure.RejectInput{Version: req.Version, PlanDigest: req.PlanDigest, Reason: "wrong tenant"})
	require.NoError(t, err)
	assert.Equal(t, closure.StateRejected, next.State)
	assert.Equal(t, "wrong tenant", ev.Detail["reason"])

	pol, req, now = caseFixture(roleSet{keep: true}, false, closure.StateGate)
	d = closure.Decider{Policy: pol, Actor: person(me), Now: now}
	_, _, err = d.Attest(req, "nope", closure.SentenceNoAzure)
	requireRule(t, closure.RuleNoSuchGate, err)
	_, _, err = d.Attest(req, "5.delete", closure.SentenceNoLegacyMFA)
	requireRule(t, closure.RuleNotAttestable, err)
	next, _, err = d.Attest(req, "5.delete", closure.SentenceNoAzure)
	require.NoError(t, err)
	_, _, err = d.Attest(next, "5.delete", closure.SentenceNoAzure)
	requireRule(t, closure.RuleAlreadyAttested, err)
	next.Gates[0].SatisfiedAt = now
	_, _, err = d.Attest(next, "5.delete", closure.SentenceNoAzure)
	requireRule(t, closure.RuleGateSatisfied, err)

	// Purge only at step 5; confirm only while step 5 awaits it.
	pol, req, now = caseFixture(roleSet{approver: true}, false, closure.StateGate)
	req.Step = 2
	_, _, err = closure.Decider{Policy: pol, Actor: person(me), Now: now}.Purge(req, closure.Typed)
	requireRule(t, closure.RuleWrongStep, err)
	pol, req, now = caseFixture(roleSet{approver: true}, false, closure.StateRunning)
	req.Steps[4].AwaitingConfirmation = false
	_, _, err = closure.Decider{Policy: pol, Actor: person(me), Now: now}.Confirm(req, req.Version)
	requireRule(t, closure.RuleNotAwaiting, err)
	req.Steps[4].AwaitingConfirmation = true
	_, _, err = closure.Decider{Policy: pol, Actor: person(me), Now: now}.Confirm(req, req.ConfirmSince)
	requireRule(t, closure.RuleStaleVersion, err)
}

// assertSentence checks that a refusal reads as English: capitalised, one
// closing full stop, no raw state names or doubled words.
func assertSentence(t *testing.T, msg string) {
	t.Helper()
	require.NotEmpty(t, msg)
	first := []rune(msg)[0]
	assert.True(t, unicode.IsUpper(first) || unicode.IsDigit(first) || strings.HasPrefix(msg, "approval.disjoint"), "not capitalised: %q", msg)
	assert.True(t, strings.HasSuffix(msg, "."), "no full stop: %q", msg)
	assert.NotContains(t, msg, "..", msg)
	assert.NotContains(t, msg, "  ", msg)
	assert.NotContains(t, msg, "waiting_window", msg)
	words := strings.Fields(strings.ToLower(msg))
	for i := 1; i < len(words); i++ {
		assert.NotEqual(t, words[i-1], words[i], "doubled word in %q", msg)
	}
	assert.NotRegexp(t, `gate a request`, msg)
}

// TestNeedsGroups: a decision reads Slack groups only when the user's own
// id does not already hold the role it needs, or the disjoint rule applies.
func TestNeedsGroups(t *testing.T) {
	pol := testPolicy()
	req := &closure.Request{ID: "CT-1", TenantID: tenantID, Requester: alice, State: closure.StatePending}
	assert.False(t, pol.NeedsGroups(bob, closure.ActApprove, req, ""), "bob is an approver by id")
	assert.False(t, pol.NeedsGroups(carol, closure.ActAttest, req, ""), "carol is keep_slack_user")
	assert.True(t, pol.NeedsGroups(erin, closure.ActPause, req, ""), "erin may hold a role through a group")
	assert.True(t, pol.NeedsGroups(carol, closure.ActPause, req, ""), "keep does not pause")
	pol.Disjoint = true
	assert.True(t, pol.NeedsGroups(bob, closure.ActApprove, req, ""), "disjoint: requester groups matter")
	assert.False(t, pol.NeedsGroups(bob, closure.ActPause, req, ""))
}
