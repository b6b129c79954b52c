package bot

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/bot/blocks"
	"github.com/closebot/closebot/bot/slacktest"
	"github.com/closebot/closebot/closure"
)

// The happy path through the inbound half: slash command acked inside 3 s,
// the request opened, Approve opens the modal inside the trigger's 3 s,
// wrong answers are inline errors, right ones approve and start the runner.
func TestInboundOpenApproveRuns(t *testing.T) {
	w := newWorld(t, worldOpts{})
	req := w.open(inOps, domainA, "Company dissolved, ticket OPS-1234")
	assert.Equal(t, closure.StatePending, req.State)
	assert.Equal(t, alice, req.Requester)
	assert.Equal(t, inOps, req.Channel)
	assert.Equal(t, "Company dissolved, ticket OPS-1234", req.Reason)
	require.NotNil(t, req.Plan)
	for _, a := range w.srv.Acks() {
		assert.Equal(t, slacktest.AckOnTime, a.Kind, "every envelope acked on time")
	}
	// The domain's commit made the Reporter post the card, and the full
	// plan follows in its thread.
	card := w.card(req.ID)
	assert.Equal(t, inOps, card.Channel)
	require.NoError(t, w.srv.WaitFor(10*time.Second, func() bool { return len(w.srv.Thread(inOps, card.TS)) > 1 }), "plan in the thread")

	// Approve opens the modal; the emulator refuses views.open after the
	// trigger's 3 s (expired_trigger_id), so an open view proves the deadline.
	w.clickCard(bob, req.ID, blocks.ActionApprove)
	view := w.approvalView(bob)
	meta, err := blocks.ParseMetadata(view.PrivateMetadata)
	require.NoError(t, err)
	assert.Equal(t, blocks.Metadata{Request: req.ID, Version: req.Version, Digest: req.PlanDigest}, meta)
	for _, c := range w.srv.Calls("views.open") {
		assert.Empty(t, c.Error, "views.open inside the trigger's deadline")
	}

	items := approvalItems(req)
	users := strconv.Itoa(req.Plan.UsersToDelete)
	// Wrong domain and count: inline errors, modal stays open, nothing decided.
	e, err := w.srv.Submit(bob, view.ID, approvalValues("contoso.com", "3", items))
	require.NoError(t, err)
	ack := ackPayload(t, e)
	require.Equal(t, "errors", ack["response_action"])
	errs, _ := ack["errors"].(map[string]any)
	assert.Contains(t, errs, blocks.BlockModalDomain)
	assert.Contains(t, errs, blocks.BlockModalUsers)
	// A box not ticked is an inline error too.
	e, err = w.srv.Submit(bob, view.ID, approvalValues(domainA, users, items[1:]))
	require.NoError(t, err)
	ack = ackPayload(t, e)
	require.Equal(t, "errors", ack["response_action"])
	assert.Contains(t, ack["errors"], blocks.BlockModalItems+"0")
	v, _ := w.srv.View(view.ID)
	assert.True(t, v.Open)
	assert.Equal(t, closure.StatePending, w.get(req.ID).State)
	assert.Empty(t, w.get(req.ID).Approvals)

	// Right values: the modal closes, the approval counts, the runner starts
	// and asks the kept admin for the sign-in proof.
	e, err = w.srv.Submit(bob, view.ID, approvalValues(" CONTOSO.onmicrosoft.com ", users, items))
	require.NoError(t, err)
	assert.Nil(t, ackPayload(t, e))
	require.NoError(t, w.srv.WaitFor(10*time.Second, func() bool {
		return w.get(req.ID).State == closure.StateWaitingWindow
	}), "approved, proved and waiting for the abort window; state %s", w.get(req.ID).State)
	got := w.get(req.ID)
	require.Contains(t, got.Approvals, bob)
	assert.Equal(t, []string{secLead}, got.Approvals[bob].Groups, "the group that granted the role is recorded")
	evs, err := w.db.Events(context.Background(), req.ID)
	require.NoError(t, err)
	var actions []closure.EventAction
	for _, ev := range evs {
		actions = append(actions, ev.Action)
	}
	assert.Contains(t, actions, closure.EvApprove)
	// The runner asked the kept admin for the sign-in proof, by DM.
	require.NoError(t, w.srv.WaitFor(10*time.Second, func() bool { return len(w.srv.DMs(carol)) > 0 }), "sign-in DM to the kept admin")
	// Still inside the abort window: nothing written to the tenant yet.
	w.noWrites()

	// Pause and Resume, by command and by button, without writes.
	w.slash(alice, inOps, "pause "+req.ID)
	require.NoError(t, w.srv.WaitFor(5*time.Second, func() bool { return w.get(req.ID).State == closure.StatePaused }))
	w.clickCard(bob, req.ID, blocks.ActionResume)
	require.NoError(t, w.srv.WaitFor(5*time.Second, func() bool { return w.get(req.ID).State == closure.StateWaitingWindow }))
	w.noWrites()
	// Every envelope of the flow was acked inside Slack's deadline.
	for _, a := range w.srv.Acks() {
		assert.Equal(t, slacktest.AckOnTime, a.Kind)
	}
}

// Requests the bot must refuse, each with zero writes to the tenants and
// no approval counted.
func TestInboundRefusesWithoutWrites(t *testing.T) {
	w := newWorld(t, worldOpts{})
	req := w.open(inOps, domainA, "Company dissolved")
	card := blocks.Value{Request: req.ID, Version: req.Version}
	w.card(req.ID)

	pending := func(t *testing.T) {
		t.Helper()
		r := w.get(req.ID)
		assert.Equal(t, closure.StatePending, r.State)
		assert.Empty(t, r.Approvals)
		w.noWrites()
	}

	t.Run("self approval", func(t *testing.T) {
		w.clickCard(alice, req.ID, blocks.ActionApprove)
		w.refusalTo(alice, "You opened this request, so you cannot approve it")
		assert.Zero(t, w.viewsOf(alice))
		pending(t)
	})
	t.Run("outsider", func(t *testing.T) {
		w.clickCard(mallory, req.ID, blocks.ActionApprove)
		w.refusalTo(mallory, "You need the approver role")
		assert.Zero(t, w.viewsOf(mallory))
		pending(t)
	})
	t.Run("guest", func(t *testing.T) {
		w.clickCard(guest, req.ID, blocks.ActionApprove)
		w.refusalTo(guest, "Guest accounts cannot act")
		assert.Zero(t, w.viewsOf(guest))
		pending(t)
	})
	t.Run("second account in another team", func(t *testing.T) {
		w.clickCard(bobOther, req.ID, blocks.ActionApprove)
		w.refusalTo(bobOther, "Only members of the configured Slack workspace")
		assert.Zero(t, w.viewsOf(bobOther))
		pending(t)
	})
	t.Run("second request for a locked tenant", func(t *testing.T) {
		n := w.count()
		w.slash(alice, inOps, domainA+" again please")
		w.refusalTo(alice, "This tenant already has an open request ("+req.ID+")")
		assert.Equal(t, n, w.count())
		pending(t)
	})
	t.Run("forged value naming another request", func(t *testing.T) {
		other := w.open(inOps2, domainB, "Other tenant")
		// The click comes from CT-1's channel but names the other request.
		w.click(bob, inOps, blocks.Value{Request: other.ID, Version: other.Version}, blocks.ActionApprove)
		w.refusalTo(bob, "does not match any request")
		// A value this bot never drew, and a version the request never had.
		_, err := w.srv.ClickRaw(bob, inOps, "1.1", blocks.BlockCardActions, blocks.ActionCancel, "CT-1|1|x|y|z")
		require.NoError(t, err)
		w.click(bob, inOps, blocks.Value{Request: req.ID, Version: req.Version + 5}, blocks.ActionCancel)
		w.settle()
		assert.Zero(t, w.viewsOf(bob))
		assert.Equal(t, closure.StatePending, w.get(other.ID).State)
		pending(t)
	})
	t.Run("channel not configured or shared", func(t *testing.T) {
		n := w.count()
		w.slash(alice, inRandom, domainA+" from elsewhere")
		w.refusalTo(alice, "does not take requests in this conversation")
		w.slash(alice, inShared, domainB+" from a shared channel")
		w.refusalTo(alice, "shared with another organisation")
		assert.Equal(t, n, w.count())
		pending(t)
	})
	t.Run("stale card after a re-pend", func(t *testing.T) {
		// bob opened the modal on the old card; then the plan changed.
		w.clickCard(bob, req.ID, blocks.ActionApprove)
		view := w.approvalView(bob)
		fresh := w.repend(req.ID)
		require.Greater(t, fresh.PendingSince, uint64(0))
		// A click on the card as bob's client still shows it (the old
		// value) is refused before any modal.
		before := w.viewsOf(bob)
		w.clickOn(bob, w.card(req.ID), card, blocks.ActionApprove)
		w.refusalTo(bob, "out of date")
		assert.Equal(t, before, w.viewsOf(bob))
		// The modal opened before the change passes local validation but
		// the domain refuses it: the plan changed.
		e, err := w.srv.Submit(bob, view.ID, approvalValues(domainA, strconv.Itoa(req.Plan.UsersToDelete), approvalItems(fresh)))
		require.NoError(t, err)
		assert.Nil(t, ackPayload(t, e))
		w.refusalTo(bob, "The plan changed after you opened this form")
		pending(t)
		card = blocks.Value{Request: req.ID, Version: fresh.Version}
	})
	t.Run("expired request", func(t *testing.T) {
		w.clock.Advance(25 * time.Hour)
		// The card as Slack shows it now (redrawn after the re-pend).
		require.NoError(t, w.srv.WaitFor(10*time.Second, func() bool {
			return strings.Contains(string(w.card(req.ID).Blocks), card.String())
		}))
		w.clickCard(bob, req.ID, blocks.ActionApprove)
		w.refusalTo(bob, "The request expired")
		pending(t)
	})
	for _, a := range w.srv.Acks() {
		assert.Equal(t, slacktest.AckOnTime, a.Kind)
	}
}

// A bot whose hello reports two connections warns and refuses to act
// until a later hello reports it alone.
func TestInboundRefusesWhileAnotherInstanceIsConnected(t *testing.T) {
	w := newWorld(t, worldOpts{numConnections: 2})
	// The first hello pauses; the warning waits for a second socket to be
	// counted the same (Slack's refresh here; closebot's own recheck in
	// TestInboundReconnectsToRecountConnections).
	require.NoError(t, w.srv.Disconnect("refresh_requested"))
	require.NoError(t, w.srv.WaitFor(5*time.Second, func() bool {
		w.annMu.Lock()
		defer w.annMu.Unlock()
		return len(w.announced) > 0
	}))
	w.annMu.Lock()
	assert.Contains(t, w.announced[0], "another instance is running")
	w.annMu.Unlock()
	for _, ch := range []string{inOps, inOps2, inShared} {
		_, err := w.srv.WaitMessage(ch, 10*time.Second, func(m slacktest.Message) bool {
			return strings.Contains(m.Text, "another instance is running")
		})
		require.NoError(t, err, "warning posted in %s", ch)
	}

	w.slash(alice, inOps, domainA+" Company dissolved")
	w.refusalTo(alice, "another instance of it is connected")
	assert.Zero(t, w.count())
	assert.Empty(t, w.srv.Calls("users.info"), "nothing is looked up while paused")
	w.noWrites()

	// Alone again after a reconnect: it acts.
	w.srv.ForceNumConnections(0)
	alone := func() bool {
		w.bot.mu.Lock()
		defer w.bot.mu.Unlock()
		return w.bot.conns == 1
	}
	// The emulator counts a socket until it sees it closed, as Slack may:
	// reconnect until a hello reports this socket alone.
	for i := 0; i < 5 && !alone(); i++ {
		require.NoError(t, w.srv.Disconnect("refresh_requested"))
		_ = w.srv.WaitFor(3*time.Second, alone)
	}
	require.True(t, alone(), "a later hello reported one connection")
	req := w.open(inOps, domainA, "Company dissolved")
	assert.Equal(t, closure.StatePending, req.State)
}

// An envelope for another app is acked and dropped: no lookup, no answer,
// no request.
func TestInboundDropsOtherAppEnvelopes(t *testing.T) {
	w := newWorld(t, worldOpts{})
	e, err := w.srv.Send(slacktest.Outbound{Type: "slash_commands", AcceptsResponsePayload: true, Payload: map[string]any{
		"team_id": inTeam, "channel_id": inOps, "user_id": alice, "command": "/close-tenant",
		"text": domainA + " sneaky", "api_app_id": "A0EVIL", "trigger_id": "1.2.abc",
	}})
	require.NoError(t, err)
	_, err = e.WaitAck(3 * time.Second)
	require.NoError(t, err)
	// And one from another workspace.
	e, err = w.srv.Send(slacktest.Outbound{Type: "slash_commands", AcceptsResponsePayload: true, Payload: map[string]any{
		"team_id": "T0OTHER", "channel_id": inOps, "user_id": alice, "command": "/close-tenant",
		"text": domainA + " sneaky", "api_app_id": inApp, "trigger_id": "1.2.abd",
	}})
	require.NoError(t, err)
	_, err = e.WaitAck(3 * time.Second)
	require.NoError(t, err)
	w.settle()
	assert.Zero(t, w.count())
	assert.False(t, w.hasText(alice, "sneaky"))
	assert.Len(t, w.srv.Calls("users.info"), 1, "only the settle command looked anyone up")
	w.noWrites()
}

// User text reaches Slack escaped in mrkdwn and as typed in plain_text,
// and the bot keeps answering.
func TestInboundReasonIsInert(t *testing.T) {
	w := newWorld(t, worldOpts{})
	reason := "<!channel> <@U0BOB> <https://evil.example|x> *bold* AT&T"
	req := w.open(inOps, domainA, reason)
	require.Equal(t, reason, req.Reason, "recorded as typed")

	// mrkdwn: the card shows the reason escaped, in verbatim text.
	cardBlocks := jsonText(w.card(req.ID).Blocks)
	assert.Contains(t, cardBlocks, "&lt;!channel&gt; &lt;@U0BOB&gt; &lt;https://evil.example|x&gt; *bold* AT&amp;T")
	assert.NotContains(t, cardBlocks, "<!channel>")
	assert.NotContains(t, cardBlocks, "<@U0BOB>")

	// mrkdwn: status shows the reason escaped, in a verbatim text object.
	w.slash(alice, inOps, "status "+req.ID)
	var raw string
	require.NoError(t, w.srv.WaitFor(5*time.Second, func() bool {
		for _, e := range w.srv.Ephemerals(alice) {
			if strings.Contains(string(e.Blocks), "evil.example") {
				raw = jsonText(e.Blocks)
				return true
			}
		}
		return false
	}))
	assert.Contains(t, raw, "&lt;!channel&gt; &lt;@U0BOB&gt; &lt;https://evil.example|x&gt; *bold* AT&amp;T")
	assert.NotContains(t, raw, "<!channel>")
	assert.Contains(t, raw, `"verbatim":true`)

	// plain_text: the approval modal shows it readable, unescaped.
	w.clickCard(bob, req.ID, blocks.ActionApprove)
	view := w.approvalView(bob)
	assert.Contains(t, jsonText(view.Blocks), `"text":"Reason: `+reason+`","type":"plain_text"`)

	// And the bot keeps answering.
	w.settle()
	w.noWrites()
}

// Redelivered envelopes are handled once; help and bad input are answered.
func TestInboundCommandsAndRedelivery(t *testing.T) {
	w := newWorld(t, worldOpts{})
	w.slash(alice, inOps, "")
	w.refusalTo(alice, "closebot help")
	w.slash(alice, inOps, "stauts")
	w.refusalTo(alice, "Did you mean status?")
	w.slash(alice, inOps, "plan "+domainA)
	w.refusalTo(alice, "Plan for "+domainA)
	assert.Zero(t, w.count(), "plan opens no request")

	req := w.open(inOps, domainA, "Company dissolved")
	e := w.clickCard(alice, req.ID, blocks.ActionCancel)
	require.NoError(t, w.srv.WaitFor(5*time.Second, func() bool { return w.get(req.ID).State == closure.StateCancelled }))
	n := len(w.srv.Ephemerals(alice))
	_, err := w.srv.Redeliver(e, "timeout")
	require.NoError(t, err)
	w.settle()
	evs, err := w.db.Events(context.Background(), req.ID)
	require.NoError(t, err)
	assert.Len(t, evs, 2, "open and one cancel")
	assert.Equal(t, n+1, len(w.srv.Ephemerals(alice)), "only the settle answer; the redelivery was ignored")
	w.noWrites()
}
