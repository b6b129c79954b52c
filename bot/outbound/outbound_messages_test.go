package outbound

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

// running moves a fresh request to running (approved, then steps started).
func (h *outHarness) running() *closure.Request {
	req := h.open("Company dissolved", "Contoso")
	req = h.change(req, uBob, closure.EvApprove, func(r *closure.Request) {
		r.State = closure.StateApproved
		r.Approvals = map[string]closure.Approval{uBob: {UserID: uBob, PlanDigest: planHash, ConfigDigest: cfgDigest}}
	})
	return h.change(req, "closebot", "steps.start", func(r *closure.Request) { r.State, r.Step = closure.StateRunning, 1 })
}

// progress records a step's progress as an audit event and reports it.
func (h *outHarness) progress(req *closure.Request, n int, f func(*closure.StepProgress)) *closure.Request {
	h.t.Helper()
	next := req.Clone()
	f(&next.Steps[n-1])
	got, ev, err := h.db.Update(h.ctx, req.Expect(), next, closure.Event{At: h.clock.Now(), Actor: "closebot",
		Action: "step.progress", From: req.State, To: next.State})
	require.NoError(h.t, err)
	// As the runner does: the service reports the change, then the step.
	require.NoError(h.t, h.rep.RequestChanged(h.ctx, got, ev))
	require.NoError(h.t, h.rep.StepProgress(h.ctx, got, got.Steps[n-1]))
	return got
}

func stepMessages(t *testing.T, h *outHarness, req *closure.Request) map[int][]string {
	out := map[int][]string{}
	for _, m := range h.emu.Thread(chOps, h.ref(req, RefCard).TS)[1:] {
		for n := 1; n <= closure.NumSteps; n++ {
			if strings.Contains(m.Text, fmt.Sprintf("Step %d of 5", n)) {
				out[n] = append(out[n], joined(t, m.Blocks))
			}
		}
	}
	return out
}

func TestOutboundOneMessagePerStepEditedInPlace(t *testing.T) {
	h := newOutHarness(t, harnessOpt{fast: true})
	req := h.running()
	for i := 1; i <= 30; i++ {
		req = h.progress(req, 1, func(s *closure.StepProgress) { s.Status, s.Done, s.Total = closure.StepRunning, i, 30 })
		if i%10 == 0 {
			h.flush()
		}
	}
	req = h.progress(req, 1, func(s *closure.StepProgress) { s.Status = closure.StepDone })
	req = h.progress(req, 2, func(s *closure.StepProgress) { s.Status = closure.StepRunning })
	h.flush()

	steps := stepMessages(t, h, req)
	require.Len(t, steps[1], 1, "one thread message for step 1 however many reports")
	require.Len(t, steps[2], 1)
	assert.Contains(t, steps[1][0], "30 of 30 done")
	assert.Contains(t, steps[1][0], ":white_check_mark: done")
	evs, err := h.db.Events(h.ctx, req.ID)
	require.NoError(t, err)
	last := evs[len(evs)-1]
	assert.Contains(t, steps[2][0], fmt.Sprintf("#%d · mac %s", last.Seq, last.MAC[:8]), "the latest audit event's seq and mac")

	// Step 5's point of no return: Approve with n of required.
	req = h.progress(req, 5, func(s *closure.StepProgress) { s.Status, s.AwaitingConfirmation = closure.StepRunning, true })
	h.flush()
	s5 := stepMessages(t, h, req)[5]
	require.Len(t, s5, 1)
	assert.Contains(t, s5[0], "*0 of 1*")
	msg, _ := h.emu.Message(chOps, h.ref(req, stepRefName(5)).TS)
	assert.Contains(t, string(msg.Blocks), `"action_id":"confirm_step5"`)
}

func TestOutboundGateMessageAndAssigneeDM(t *testing.T) {
	h := newOutHarness(t, harnessOpt{fast: true})
	req := h.running()
	g := closure.Gate{ID: "2.direct", Step: 2, Kind: closure.GateSubscriptionDirect, Instructions: string(closure.GateSubscriptionDirect),
		Assignee: uCarol, OpenedAt: h.clock.Now(), ETA: outT0.Add(30 * 24 * time.Hour),
		Params: map[string]string{"subscriptions": "SPE_E3 <!channel> (s1, Enabled)", "eta": "2026-04-01"}}
	req = h.change(req, "closebot", "gate.open", func(r *closure.Request) {
		r.State, r.Step, r.Gates = closure.StateGate, 2, []closure.Gate{g}
	})
	require.NoError(t, h.rep.GateOpened(h.ctx, req, g))
	h.flush()

	gref := h.ref(req, gateRefName(g.ID))
	gm, ok := h.emu.Message(chOps, gref.TS)
	require.True(t, ok)
	assert.Equal(t, h.ref(req, RefCard).TS, gm.ThreadTS, "gate message in the request's thread")
	body := joined(t, gm.Blocks)
	assert.Contains(t, body, "<@U0CAROL> must act.")
	assert.Contains(t, body, "Cancel subscriptions bought from Microsoft", "the domain's instruction title")
	assert.Contains(t, body, "SPE_E3 &lt;!channel&gt; (s1, Enabled)")
	assert.Contains(t, body, "ETA <!date^")
	assert.Contains(t, string(gm.Blocks), `"action_id":"recheck"`)

	dms := h.emu.DMs(uCarol)
	require.Len(t, dms, 1, "the assignee is told by DM")
	dref := h.ref(req, GateDMRef(g.ID))
	assert.True(t, strings.HasPrefix(dref.Channel, "D"), "DM ref keeps the D… channel, not the user id")

	// Satisfied: the thread message and the DM are edited in place.
	h.clock.Advance(time.Hour)
	req = h.change(req, "closebot", "gate.satisfied", func(r *closure.Request) {
		r.State = closure.StateRunning
		r.Gates[0].SatisfiedAt = h.clock.Now()
	})
	g2, _ := req.Gate(g.ID)
	require.NoError(t, h.rep.GateUpdated(h.ctx, req, g2))
	h.flush()
	dms = h.emu.DMs(uCarol)
	require.Len(t, dms, 1)
	assert.True(t, dms[0].Edited)
	assert.Contains(t, dms[0].Text, "(done)")
	gm, _ = h.emu.Message(chOps, gref.TS)
	assert.True(t, gm.Edited)
	assert.NotContains(t, string(gm.Blocks), `"action_id":"recheck"`, "a satisfied gate offers no buttons")
}

func TestOutboundSignInDMLandsInDChannel(t *testing.T) {
	h := newOutHarness(t, harnessOpt{fast: true})
	req := h.open("Company dissolved", "Contoso")
	msg := "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code ABCD-EFGH to authenticate."
	require.NoError(t, h.rep.SignInCode(h.ctx, req, uCarol, msg))
	h.flush()
	dms := h.emu.DMs(uCarol)
	require.Len(t, dms, 1)
	assert.True(t, strings.HasPrefix(dms[0].Channel, "D"))
	body := joined(t, dms[0].Blocks)
	assert.Contains(t, body, "`ABCD-EFGH`")
	assert.Contains(t, body, "<https://microsoft.com/devicelogin|")
	assert.Contains(t, body, "admin@contoso.onmicrosoft.com")
	ref := h.ref(req, refSignIn)
	assert.Equal(t, dms[0].Channel, ref.Channel)
	assert.Error(t, h.rep.SignInCode(h.ctx, req, "<!channel>", msg), "only a Slack user id gets a DM")
}
