package bot

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/bot/blocks"
	"github.com/closebot/closebot/bot/outbound"
	"github.com/closebot/closebot/bot/slacktest"
	"github.com/closebot/closebot/closure"
)

// Reject needs a reason: an empty one is an inline error; a given one ends
// the request with the reason as typed.
func TestInboundRejectNeedsReason(t *testing.T) {
	w := newWorld(t, worldOpts{})
	req := w.open(inOps, domainA, "Company dissolved")
	w.clickCard(bob, req.ID, blocks.ActionReject)
	var view string
	require.NoError(t, w.srv.WaitFor(5*time.Second, func() bool {
		for _, v := range w.srv.Views() {
			if v.User == bob && v.Open && v.CallbackID == blocks.CallbackReject {
				view = v.ID
				return true
			}
		}
		return false
	}))
	e, err := w.srv.Submit(bob, view, map[string]map[string]any{blocks.BlockRejectReason: {blocks.ActionRejectReason: "   "}})
	require.NoError(t, err)
	ack := ackPayload(t, e)
	require.Equal(t, "errors", ack["response_action"])
	assert.Contains(t, ack["errors"], blocks.BlockRejectReason)
	assert.Equal(t, closure.StatePending, w.get(req.ID).State)

	reason := "Wrong tenant <!here> & co"
	e, err = w.srv.Submit(bob, view, map[string]map[string]any{blocks.BlockRejectReason: {blocks.ActionRejectReason: reason}})
	require.NoError(t, err)
	assert.Nil(t, ackPayload(t, e))
	require.NoError(t, w.srv.WaitFor(5*time.Second, func() bool { return w.get(req.ID).State == closure.StateRejected }))
	assert.Equal(t, reason, w.get(req.ID).RejectReason)
	// The requester cannot reject their own request either.
	other := w.open(inOps, domainA, "Try again")
	w.clickCard(alice, other.ID, blocks.ActionReject)
	w.refusalTo(alice, "so you cannot reject it")
	w.noWrites()
}

// A reject modal opened before the plan changed is refused by the domain's
// staleness rule, in the card's words, and rejects nothing.
func TestInboundStaleRejectIsRefused(t *testing.T) {
	w := newWorld(t, worldOpts{})
	req := w.open(inOps, domainA, "Company dissolved")
	w.clickCard(bob, req.ID, blocks.ActionReject)
	var view string
	require.NoError(t, w.srv.WaitFor(5*time.Second, func() bool {
		for _, v := range w.srv.Views() {
			if v.User == bob && v.Open && v.CallbackID == blocks.CallbackReject {
				view = v.ID
				return true
			}
		}
		return false
	}))
	w.repend(req.ID)
	e, err := w.srv.Submit(bob, view, map[string]map[string]any{blocks.BlockRejectReason: {blocks.ActionRejectReason: "wrong tenant"}})
	require.NoError(t, err)
	assert.Nil(t, ackPayload(t, e))
	w.refusalTo(bob, "out of date")
	assert.Equal(t, closure.StatePending, w.get(req.ID).State)
}

// While paused by a second connection, clicks are refused too, before any
// lookup or modal.
func TestInboundPausedRefusesClicks(t *testing.T) {
	w := newWorld(t, worldOpts{numConnections: 2})
	w.click(bob, inOps, blocks.Value{Request: "CT-1", Version: 1}, blocks.ActionApprove)
	w.refusalTo(bob, "another instance of it is connected")
	assert.Zero(t, w.viewsOf(bob))
	assert.Empty(t, w.srv.Calls("users.info"))
	assert.Empty(t, w.srv.Calls("views.open"))
}

// A modal submission names its request in private_metadata; a forged one
// is refused, and the modal is checked against the request's channel.
func TestInboundForgedSubmission(t *testing.T) {
	w := newWorld(t, worldOpts{})
	req := w.open(inOps, domainA, "Company dissolved")
	w.clickCard(bob, req.ID, blocks.ActionApprove)
	view := w.approvalView(bob)
	// Rewrite the metadata as a forger would: a version the request never had.
	w.srv.CloseView(view.ID)
	e, err := w.srv.Send(forgedSubmission(view.ID, req.ID+"|99|"+req.PlanDigest))
	require.NoError(t, err)
	_, err = e.WaitAck(3 * time.Second)
	require.NoError(t, err)
	w.refusalTo(bob, "does not match any request")
	assert.Equal(t, closure.StatePending, w.get(req.ID).State)
	w.noWrites()
}

func TestNewValidates(t *testing.T) {
	_, err := New(Config{}, Deps{})
	require.Error(t, err)
	for _, want := range []string{"TeamID", "channel", "AppToken", "BotToken", "required"} {
		assert.True(t, strings.Contains(err.Error(), want), "error names %s: %v", want, err)
	}
	_, err = New(Config{TeamID: "T1", Channels: []string{"C1"}, AppToken: "xapp-1", BotToken: "xoxb-1", APIURL: "http://x/api"}, Deps{})
	require.ErrorContains(t, err, "must end with /")
}

// Gate buttons arrive in the kept admin's DM: the click is checked against
// the request's channel, the attestation recorded with who pressed it.
func TestInboundGateButtonsInDM(t *testing.T) {
	w := newWorld(t, worldOpts{})
	req := w.open(inOps, domainA, "Company dissolved")
	g := closure.Gate{ID: "2.azure", Step: 2, Kind: closure.GateAzure, Assignee: carol,
		Attest: []string{closure.SentenceNoAzure}, OpenedAt: w.clock.Now()}
	r := w.force(req.ID, []closure.State{closure.StateApproved, closure.StateProving, closure.StateWaitingWindow,
		closure.StateRunning, closure.StateGate}, func(n *closure.Request) {
		if n.State == closure.StateGate {
			n.Step, n.Gates = 2, []closure.Gate{g}
		}
	})
	require.NoError(t, w.svc.Reporter.GateOpened(context.Background(), r, g))
	var dm slacktest.Message
	require.NoError(t, w.srv.WaitFor(10*time.Second, func() bool {
		for _, m := range w.srv.DMs(carol) {
			if strings.Contains(string(m.Blocks), `"action_id":"`+blocks.ActionAttest+`"`) {
				dm = m
				return true
			}
		}
		return false
	}), "gate DM to the kept admin")
	// Clicks count only on the request's own messages: wait until the
	// Reporter has kept the DM's ref (it does right after the post).
	require.NoError(t, w.srv.WaitFor(5*time.Second, func() bool {
		ref, ok, err := w.db.Ref(context.Background(), req.ID, outbound.GateDMRef(g.ID))
		return err == nil && ok && ref.TS == dm.TS && ref.Channel == dm.Channel
	}), "gate DM ref kept")

	// Someone without a role pressing the same button is refused.
	var value string
	require.NoError(t, json.Unmarshal(mustFind(t, dm.Blocks, blocks.ActionAttest), &value))
	e, err := w.srv.ClickRaw(mallory, dm.Channel, dm.TS, blocks.BlockGateAttestButton+"0", blocks.ActionAttest, value)
	require.NoError(t, err)
	_, err = e.WaitAck(3 * time.Second)
	require.NoError(t, err)
	w.refusalTo(mallory, "Only the kept admin's Slack user or an approver")
	assert.Empty(t, w.get(req.ID).Attestations)

	e, err = w.srv.Click(carol, dm.Ref(), blocks.ActionAttest)
	require.NoError(t, err)
	_, err = e.WaitAck(3 * time.Second)
	require.NoError(t, err)
	require.NoError(t, w.srv.WaitFor(5*time.Second, func() bool { return len(w.get(req.ID).Attestations) == 1 }))
	at := w.get(req.ID).Attestations[0]
	assert.Equal(t, carol, at.By)
	assert.Equal(t, closure.SentenceNoAzure, at.Sentence)

	// Re-check from the DM is answered in the DM.
	e, err = w.srv.Click(carol, dm.Ref(), blocks.ActionRecheck)
	require.NoError(t, err)
	_, err = e.WaitAck(3 * time.Second)
	require.NoError(t, err)
	w.refusalTo(carol, "Re-checking "+req.ID)
	w.noWrites()
}

// mustFind returns the raw value of the element with actionID in blocks.
func mustFind(t *testing.T, raw json.RawMessage, actionID string) json.RawMessage {
	t.Helper()
	var bs []struct {
		Elements []struct {
			ActionID string          `json:"action_id"`
			Value    json.RawMessage `json:"value"`
		} `json:"elements"`
	}
	require.NoError(t, json.Unmarshal(raw, &bs))
	for _, b := range bs {
		for _, el := range b.Elements {
			if el.ActionID == actionID {
				return el.Value
			}
		}
	}
	t.Fatalf("no %s element", actionID)
	return nil
}

// Run resumes open requests at start-up: an approved request left by a
// previous run goes on to the sign-in proof.
func TestInboundRunResumesOpenRequests(t *testing.T) {
	var id string
	w := newWorld(t, worldOpts{beforeRun: func(w *world) {
		ctx := context.Background()
		plan, err := w.runner.Plan(ctx, tenantA)
		require.NoError(t, err)
		sum := plan.Summary()
		r, _, err := w.svc.Open(ctx, closure.Actor{UserID: alice, TeamID: inTeam}, closure.OpenInput{
			Tenant: tenantA, Reason: "Company dissolved", Channel: inOps, Facts: plan.Facts(), Plan: &sum})
		require.NoError(t, err)
		r, _, err = w.svc.Approve(ctx, closure.Actor{UserID: bob, TeamID: inTeam, Groups: []string{secLead}}, r.ID,
			closure.ApproveInput{Version: r.Version, PlanDigest: r.PlanDigest})
		require.NoError(t, err)
		require.Equal(t, closure.StateApproved, r.State)
		id = r.ID
	}})
	require.NoError(t, w.srv.WaitFor(10*time.Second, func() bool { return w.get(id).State == closure.StateWaitingWindow }))
	require.NoError(t, w.srv.WaitFor(10*time.Second, func() bool { return len(w.srv.DMs(carol)) > 0 }), "sign-in DM")
	w.noWrites()
	require.Error(t, w.bot.Run(context.Background()), "Run twice")
}

func TestRedact(t *testing.T) {
	got := redact(`dial wss://x/link/?ticket=abc123&app=1: bad token xoxb-1-abc and xapp-1-A0-1-zz`)
	for _, secret := range []string{"abc123", "xoxb-1-abc", "xapp-1-A0-1-zz"} {
		assert.NotContains(t, got, secret)
	}
	assert.Contains(t, got, "app=1")
}
