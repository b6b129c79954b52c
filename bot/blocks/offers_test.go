package blocks

import (
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

// TestButtonsShownAreAccepted covers the whole table: for every state,
// the card, step 5's message (awaiting confirmation, purge offered) and an
// open gate with a missing attestation are rendered with every button
// their other conditions allow; each button shown must be accepted in that
// state by the authorisation table for an approver who did not open the
// request, and each action the table accepts there must be shown.
func TestButtonsShownAreAccepted(t *testing.T) {
	const tenant = "00000000-0000-0000-0000-0000000000c1"
	pol := &closure.Policy{
		TeamID: "T0ACME", Requesters: []string{"U0ALICE"}, Approvers: []string{"U0BOB"}, Required: 1,
		Tenants: []closure.TenantPolicy{{ID: tenant, Domain: "contoso.onmicrosoft.com", KeepSlackUser: "U0CAROL"}},
	}
	bob := closure.Actor{UserID: "U0BOB", TeamID: "T0ACME"}
	now := t0.Add(time.Hour)
	for _, s := range closure.AllStates {
		card := baseCard(s)
		card.Step, card.RestoreDeadline, card.Now = 5, now.Add(24*time.Hour), now
		step := StepView{RequestID: "CT-12", Version: 9, State: s, Step: 5, Status: closure.StepWaiting,
			AwaitingConfirmation: true, Purge: true, Required: 1, Apps: 1, ServicePrincipals: 1}
		gate := GateView{RequestID: "CT-12", Version: 9, State: s, GateID: "2.azure", Kind: closure.GateAzure, Step: 2,
			OpenedAt: t0, Attest: []string{closure.SentenceNoAzure},
			Instruction: closure.InstructionFor(closure.Gate{Kind: closure.GateAzure})}
		shown := map[closure.Action]bool{}
		for _, m := range []Message{Card(card), Step(step), Gate(gate)} {
			for _, b := range m.Blocks {
				ab, ok := b.(*slack.ActionBlock)
				if !ok {
					continue
				}
				for _, e := range ab.Elements.ElementSet {
					btn, ok := e.(*slack.ButtonBlockElement)
					require.True(t, ok)
					act, ok := ActionOf(btn.ActionID)
					require.True(t, ok, "button %q maps to no action", btn.ActionID)
					shown[act] = true
				}
			}
		}
		req := &closure.Request{ID: "CT-12", TenantID: tenant, Requester: "U0ALICE", State: s, Version: 9}
		for _, act := range closure.AllActions {
			switch act {
			case closure.ActOpen, closure.ActPlan, closure.ActStatus, closure.ActList:
				continue // commands, not buttons
			}
			_, err := pol.Authorize(bob, act, req, "")
			accepted := err == nil
			assert.Equal(t, accepted, closure.Offers(act, s), "%s in %s: Offers and Authorize disagree", act, s)
			if shown[act] {
				assert.True(t, accepted, "%s is shown in %s but refused: %v", act, s, err)
			} else if accepted {
				assert.Fail(t, "accepted but not shown", "%s in %s is accepted by the table but no button offers it", act, s)
			}
		}
	}
}
