package closure_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/closebot/closebot/closure"
)

// TestInstructionsCoverEveryGate: every gate kind has instructions, and
// a gate's params fill them in.
func TestInstructionsCoverEveryGate(t *testing.T) {
	kinds := []closure.GateKind{
		closure.GateSyncOff, closure.GateRestrictedAdminUnit, closure.GateUserRefused,
		closure.GateSubscriptionDirect, closure.GateSubscriptionCSP, closure.GateSubscriptionMCA,
		closure.GateAzure, closure.GateDeleteSubscriptions, closure.GatePerUserMFA,
		closure.GateLegacyMFA, closure.GateDeleteTenant,
	}
	for _, k := range kinds {
		in, ok := closure.Instructions[string(k)]
		if assert.True(t, ok, "%s", k) {
			assert.NotEmpty(t, in.Title)
			assert.NotEmpty(t, in.Steps)
			assert.NotEmpty(t, in.Done)
		}
	}
	in := closure.InstructionFor(closure.Gate{Kind: closure.GateSubscriptionDirect, Instructions: string(closure.GateSubscriptionDirect),
		Params: map[string]string{"subscriptions": "SPE_E3 (sub-1, Enabled)", "eta": "2026-07-05T09:00:00Z"}})
	text := strings.Join(in.Steps, "\n")
	assert.Contains(t, text, "SPE_E3 (sub-1, Enabled)")
	assert.Contains(t, text, "Billing → Your products")
	assert.Contains(t, text, "Microsoft Customer Agreement")
	assert.Contains(t, text, "2026-07-05T09:00:00Z")
	assert.NotContains(t, text, "{")
	assert.Contains(t, strings.Join(closure.InstructionFor(closure.Gate{Kind: closure.GateDeleteSubscriptions}).Steps, " "), "72 hours")
}
