package run_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/run"
)

// TestCommitErrOnlyMovedOnStops: a refusal of the runner's own decision
// reads as "the request moved on" only for the state and freshness rules;
// a bug-class refusal (bad input) surfaces as an error.
func TestCommitErrOnlyMovedOnStops(t *testing.T) {
	ctx := context.Background()
	rg := newRig(t, defaultSeed())
	r := rg.openApproved(t)
	require.Equal(t, closure.StateApproved, r.State)
	commit := rg.runner.CommitErr()

	// Not in its abort window any more (never was): wrong_state, moved on.
	err := commit(ctx, r.ID, closure.System.StartSteps)
	require.ErrorIs(t, err, run.ErrStopped)

	bug := func(closure.System, *closure.Request) (*closure.Request, closure.Event, error) {
		return nil, closure.Event{}, &closure.Denied{Rule: closure.RuleBadInput, Detail: "no step 9"}
	}
	err = commit(ctx, r.ID, bug)
	require.Error(t, err)
	assert.NotErrorIs(t, err, run.ErrStopped, "a bug is not the request moving on")
	assert.Equal(t, closure.RuleBadInput, closure.RuleOf(err))
	assert.Equal(t, closure.StateApproved, rg.get(t, r.ID).State, "nothing committed")
}

func TestRuleMovedOn(t *testing.T) {
	for _, r := range []closure.Rule{closure.RuleWrongState, closure.RuleStaleVersion, closure.RulePlanChanged,
		closure.RuleConfigChanged, closure.RuleGateSatisfied, closure.RuleWindowOpen, closure.RuleWrongStep} {
		assert.True(t, r.MovedOn(), r)
	}
	for _, r := range []closure.Rule{"", closure.RuleBadInput, closure.RuleNotApprover, closure.RuleUnknownTenant,
		closure.RuleNoSuchGate, closure.RuleNotAttestable, closure.RuleReasonRequired} {
		assert.False(t, r.MovedOn(), r)
	}
}
