package closure_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

// TestEventActionsStoredForm pins every action's stored string and kind:
// stored audit chains are MAC'd over these strings, so none may change.
func TestEventActionsStoredForm(t *testing.T) {
	want := map[string]closure.EventKind{
		"open": closure.DecisionEvent, "approve": closure.DecisionEvent, "reject": closure.DecisionEvent,
		"cancel": closure.DecisionEvent, "pause": closure.DecisionEvent, "resume": closure.DecisionEvent,
		"abort": closure.DecisionEvent, "retry": closure.DecisionEvent, "confirm": closure.DecisionEvent,
		"purge": closure.DecisionEvent, "restore": closure.DecisionEvent, "attest": closure.DecisionEvent,
		"recheck": closure.DecisionEvent,

		"proof.start": closure.DecisionEvent, "proof.passed": closure.DecisionEvent, "proof.failed": closure.DecisionEvent,
		"steps.start": closure.DecisionEvent, "drift": closure.DecisionEvent, "replan": closure.DecisionEvent,
		"expire": closure.DecisionEvent, "gate.open": closure.DecisionEvent, "gate.satisfied": closure.DecisionEvent,
		"gate.wait": closure.DecisionEvent, "gate.clear": closure.DecisionEvent, "stuck": closure.DecisionEvent,
		"step.done": closure.DecisionEvent, "step.failed": closure.DecisionEvent, "confirm.await": closure.DecisionEvent,
		"closed": closure.DecisionEvent, "restore.done": closure.DecisionEvent, "purge.done": closure.DecisionEvent,
		"write.granted": closure.DecisionEvent,

		"gate.progress": closure.ProgressEvent, "step.progress": closure.ProgressEvent, "gone.check": closure.ProgressEvent,
		"step.delete_user": closure.ProgressEvent, "step.user_gone": closure.ProgressEvent,
		"step.delete_app": closure.ProgressEvent, "step.delete_sp": closure.ProgressEvent,
		"step.disable_sp": closure.ProgressEvent, "step.mfa_disabled": closure.ProgressEvent,
		"step.sync_off": closure.ProgressEvent, "restore.user": closure.ProgressEvent,

		"intent.delete_user": closure.IntentEvent, "intent.sync_off": closure.IntentEvent,
		"intent.delete_app": closure.IntentEvent, "intent.delete_sp": closure.IntentEvent,
		"intent.disable_sp": closure.IntentEvent, "intent.mfa_disable": closure.IntentEvent,
		"intent.restore_user": closure.IntentEvent, "intent.purge": closure.IntentEvent,
		"intent.unsent": closure.IntentEvent,
	}
	got := map[string]closure.EventKind{}
	for _, a := range closure.EventActions() {
		got[string(a)] = a.Kind()
	}
	assert.Equal(t, want, got)
	assert.True(t, closure.EvDrift.IsDecision())
	assert.True(t, closure.EvDeleteUser.IsProgress())
	assert.Zero(t, closure.EventAction("note").Kind(), "an unknown action has no kind")

	// The typed field marshals as the plain string it always was.
	b, err := json.Marshal(closure.Event{Request: "CT-1", Action: closure.EvDeleteUser})
	require.NoError(t, err)
	assert.Contains(t, string(b), `"action":"step.delete_user"`)
}
