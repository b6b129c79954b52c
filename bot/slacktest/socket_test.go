package slacktest

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func requestBlocks() []slack.Block {
	return []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "Close *tenant-42*?", false, true), nil, nil),
		slack.NewActionBlock("req_actions",
			slack.NewButtonBlockElement("approve", "req-7", slack.NewTextBlockObject("plain_text", "Approve", false, false)),
			slack.NewButtonBlockElement("reject", "req-7", slack.NewTextBlockObject("plain_text", "Reject", false, false))),
	}
}

func modal() slack.ModalViewRequest {
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           slack.NewTextBlockObject("plain_text", "Close tenant", false, false),
		Submit:          slack.NewTextBlockObject("plain_text", "Approve", false, false),
		CallbackID:      "close_tenant_modal",
		PrivateMetadata: "req-7|1|digest",
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock("domain_block", slack.NewTextBlockObject("plain_text", "Initial domain", false, false), nil,
				slack.NewPlainTextInputBlockElement(nil, "domain")),
			slack.NewInputBlock("ack_block", slack.NewTextBlockObject("plain_text", "Irreversible", false, false), nil,
				slack.NewCheckboxGroupsBlockElement("acks",
					slack.NewOptionBlockObject("sync", slack.NewTextBlockObject("plain_text", "sync off", false, false), nil),
					slack.NewOptionBlockObject("backup", slack.NewTextBlockObject("plain_text", "backed up", false, false), nil))),
		}},
	}
}

// TestSocketModeEndToEnd drives the whole flow with the real slack-go socketmode client.
func TestSocketModeEndToEnd(t *testing.T) {
	srv := newServer(t, Options{})
	c := newClient(t, srv)

	// Slash command → ack within the deadline.
	env, err := srv.Slash("U1", "C1", "contoso.onmicrosoft.com dissolved")
	require.NoError(t, err)
	ev := c.next(t, socketmode.EventTypeSlashCommand)
	cmd := ev.Data.(slack.SlashCommand)
	assert.Equal(t, "/close-tenant", cmd.Command)
	assert.Equal(t, "U1", cmd.UserID)
	assert.Equal(t, srv.Options().AppID, cmd.APIAppID)
	require.NoError(t, c.sm.Ack(*ev.Request))
	_, err = env.WaitAck(5 * time.Second)
	require.NoError(t, err)
	ack, _ := env.Ack()
	assert.Equal(t, AckOnTime, ack.Kind)
	assert.Less(t, ack.Latency, 3*time.Second, "Slack's ack deadline")
	assert.Equal(t, 1, int(c.helloN.Load()))

	// Request card with blocks, a threaded reply, then an update of the card.
	ch, ts, err := c.api.PostMessage("C1", slack.MsgOptionText("Close tenant-42?", false), slack.MsgOptionBlocks(requestBlocks()...))
	require.NoError(t, err)
	assert.Equal(t, "C1", ch)
	_, rts, err := c.api.PostMessage("C1", slack.MsgOptionText("preflight ok", false), slack.MsgOptionTS(ts))
	require.NoError(t, err)
	assert.Greater(t, rts, ts)
	_, _, _, err = c.api.UpdateMessage("C1", ts, slack.MsgOptionText("Close tenant-42? (pending)", false), slack.MsgOptionBlocks(requestBlocks()...))
	require.NoError(t, err)
	th := srv.Thread("C1", ts)
	require.Len(t, th, 2)
	assert.True(t, th[0].Edited)
	assert.Equal(t, ts, th[1].ThreadTS)
	assert.Len(t, srv.Messages("C1"), 1, "replies stay in the thread")

	// A click on the stored button carries its real block_id and value; its trigger opens the modal.
	click, err := srv.Click("U2", th[0].Ref(), "approve")
	require.NoError(t, err)
	ev = c.next(t, socketmode.EventTypeInteractive)
	cb := ev.Data.(slack.InteractionCallback)
	require.Len(t, cb.ActionCallback.BlockActions, 1)
	act := cb.ActionCallback.BlockActions[0]
	assert.Equal(t, "req_actions", act.BlockID)
	assert.Equal(t, "req-7", act.Value)
	assert.Equal(t, ts, cb.Container.MessageTs)
	assert.Equal(t, "U2", cb.User.ID)
	require.NoError(t, c.sm.Ack(*ev.Request))
	vr, err := c.api.OpenView(cb.TriggerID, modal())
	require.NoError(t, err)
	_, err = click.WaitAck(time.Second)
	require.NoError(t, err)
	assert.Equal(t, "close_tenant_modal", vr.CallbackID)

	// Submission → response_action errors is recorded as shown.
	sub, err := srv.Submit("U2", vr.ID, map[string]map[string]any{
		"domain_block": {"domain": "wrong.example"}, "ack_block": {"acks": []string{"sync"}}})
	require.NoError(t, err)
	ev = c.next(t, socketmode.EventTypeInteractive)
	cb = ev.Data.(slack.InteractionCallback)
	assert.Equal(t, slack.InteractionTypeViewSubmission, cb.Type)
	assert.Equal(t, "req-7|1|digest", cb.View.PrivateMetadata)
	assert.Equal(t, vr.Hash, cb.View.Hash)
	assert.Equal(t, "wrong.example", cb.View.State.Values["domain_block"]["domain"].Value)
	require.Len(t, cb.View.State.Values["ack_block"]["acks"].SelectedOptions, 1)
	require.NoError(t, c.sm.Ack(*ev.Request, slack.NewErrorsViewSubmissionResponse(map[string]string{"domain_block": "does not match"})))
	_, err = sub.WaitAck(time.Second)
	require.NoError(t, err)
	require.NoError(t, srv.WaitFor(time.Second, func() bool { v, _ := srv.View(vr.ID); return v.ErrorsShown == 1 }))
	v, _ := srv.View(vr.ID)
	assert.Equal(t, map[string]string{"domain_block": "does not match"}, v.Errors)
	assert.True(t, v.Open)

	// A correct submission with an empty ack closes the modal.
	sub, err = srv.Submit("U2", vr.ID, map[string]map[string]any{"domain_block": {"domain": "contoso.onmicrosoft.com"}})
	require.NoError(t, err)
	ev = c.next(t, socketmode.EventTypeInteractive)
	require.NoError(t, c.sm.Ack(*ev.Request))
	_, err = sub.WaitAck(time.Second)
	require.NoError(t, err)
	require.NoError(t, srv.WaitFor(time.Second, func() bool { v, _ := srv.View(vr.ID); return !v.Open }))

	// disconnect → the client reconnects with a new apps.connections.open and a second hello.
	require.NoError(t, srv.Disconnect("refresh_requested"))
	require.NoError(t, srv.WaitFor(5*time.Second, func() bool {
		return srv.ConnectionsOpened() == 2 && srv.Connections() == 1 && c.hellos.Load() == 2
	}))
	assert.Len(t, srv.Calls("apps.connections.open"), 2)
	env, err = srv.Slash("U1", "C1", "status")
	require.NoError(t, err)
	ev = c.next(t, socketmode.EventTypeSlashCommand)
	require.NoError(t, c.sm.Ack(*ev.Request))
	_, err = env.WaitAck(time.Second)
	require.NoError(t, err)
	require.NoError(t, srv.WaitFor(2*time.Second, func() bool { return srv.Pongs() > 0 }), "client answers server pings")

	// Wire encodings as slack-go sends them.
	post := srv.Calls("chat.postMessage")[0]
	assert.Equal(t, "form", post.AuthScheme)
	assert.Equal(t, "application/x-www-form-urlencoded", post.ContentType)
	open := srv.Calls("views.open")[0]
	assert.Equal(t, "bearer", open.AuthScheme)
	assert.Equal(t, "application/json", open.ContentType)
	conn := srv.Calls("apps.connections.open")[0]
	assert.Equal(t, srv.Options().AppToken, conn.Token)
}

func TestForgedClickAndRedelivery(t *testing.T) {
	srv := newServer(t, Options{})
	c := newClient(t, srv)

	_, err := srv.ClickRaw("U9", "C1", "1.000001", "forged_block", "approve", "req-999")
	require.NoError(t, err)
	ev := c.next(t, socketmode.EventTypeInteractive)
	cb := ev.Data.(slack.InteractionCallback)
	require.Len(t, cb.ActionCallback.BlockActions, 1)
	assert.Equal(t, "forged_block", cb.ActionCallback.BlockActions[0].BlockID)
	assert.Equal(t, "req-999", cb.ActionCallback.BlockActions[0].Value)
	assert.Equal(t, "U9", cb.User.ID)
	require.NoError(t, c.sm.Ack(*ev.Request))

	_, err = srv.Click("U1", MessageRef{"C1", "1.000001"}, "approve")
	assert.ErrorIs(t, err, ErrNotFound)

	// Redelivery keeps the envelope_id and carries retry_attempt / retry_reason.
	env, err := srv.Slash("U1", "C1", "x")
	require.NoError(t, err)
	first := c.next(t, socketmode.EventTypeSlashCommand)
	assert.Equal(t, 0, first.Request.RetryAttempt)
	again, err := srv.Redeliver(env, "timeout")
	require.NoError(t, err)
	ev = c.next(t, socketmode.EventTypeSlashCommand)
	assert.Equal(t, env.ID, ev.Request.EnvelopeID)
	assert.Equal(t, 1, ev.Request.RetryAttempt)
	assert.Equal(t, "timeout", ev.Request.RetryReason)
	require.NoError(t, c.sm.Ack(*ev.Request))
	_, err = again.WaitAck(time.Second)
	require.NoError(t, err)

	// A second ack of the same delivery and an ack for an unknown envelope are recorded.
	require.NoError(t, c.sm.Ack(*ev.Request))
	require.NoError(t, c.sm.Ack(socketmode.Request{EnvelopeID: "not-sent"}))
	require.NoError(t, srv.WaitFor(time.Second, func() bool {
		kinds := map[AckKind]int{}
		for _, a := range srv.Acks() {
			kinds[a.Kind]++
		}
		return kinds[AckDuplicate] == 1 && kinds[AckUnknown] == 1
	}))
}

func TestMissingAckRedeliveredAndLateAckRecorded(t *testing.T) {
	srv := newServer(t, Options{AckDeadline: 150 * time.Millisecond,
		Assumptions: Assumptions{RedeliverUnacked: true, MaxRetries: 1}})
	c := newClient(t, srv)
	env, err := srv.Slash("U1", "C1", "x")
	require.NoError(t, err)
	first := c.next(t, socketmode.EventTypeSlashCommand)
	retry := c.next(t, socketmode.EventTypeSlashCommand) // not acked: redelivered
	assert.Equal(t, first.Request.EnvelopeID, retry.Request.EnvelopeID)
	assert.Equal(t, 1, retry.Request.RetryAttempt)
	assert.Equal(t, "timeout", retry.Request.RetryReason)
	_, err = env.WaitAck(50 * time.Millisecond)
	assert.ErrorIs(t, err, ErrAckTimeout)

	time.Sleep(200 * time.Millisecond) // past the (shortened) deadline on purpose
	require.NoError(t, c.sm.Ack(*retry.Request))
	require.NoError(t, srv.WaitFor(time.Second, func() bool {
		var missing, late int
		for _, a := range srv.Acks() {
			switch a.Kind {
			case AckMissing:
				missing++
			case AckLate:
				late++
			}
		}
		return missing == 2 && late == 1
	}))
}

func TestNumConnections(t *testing.T) {
	srv := newServer(t, Options{})
	a := newClient(t, srv)
	require.NoError(t, srv.WaitConnections(1, 5*time.Second))
	b := newClient(t, srv)
	require.NoError(t, srv.WaitConnections(2, 5*time.Second))
	require.NoError(t, srv.WaitFor(time.Second, func() bool { return b.hellos.Load() == 1 }))
	assert.Equal(t, int32(1), a.helloN.Load())
	assert.Equal(t, int32(2), b.helloN.Load())

	// Each envelope goes to exactly one socket.
	env, err := srv.Slash("U1", "C1", "x")
	require.NoError(t, err)
	var got *socketmode.Event
	select {
	case ev := <-waitType(a, socketmode.EventTypeSlashCommand):
		got = &ev
		require.NoError(t, a.sm.Ack(*ev.Request))
	case ev := <-waitType(b, socketmode.EventTypeSlashCommand):
		got = &ev
		require.NoError(t, b.sm.Ack(*ev.Request))
	case <-time.After(5 * time.Second):
		t.Fatal("no delivery")
	}
	assert.Equal(t, env.ID, got.Request.EnvelopeID)
	_, err = env.WaitAck(time.Second)
	require.NoError(t, err)
	assert.Len(t, srv.Acks(), 1)

	// Forced count for a single client.
	srv2 := newServer(t, Options{})
	srv2.ForceNumConnections(2)
	c := newClient(t, srv2)
	require.NoError(t, srv2.WaitFor(5*time.Second, func() bool { return c.hellos.Load() == 1 }))
	assert.Equal(t, int32(2), c.helloN.Load())
}

// waitType forwards the next event of typ from c, without blocking the test forever.
func waitType(c *client, typ socketmode.EventType) <-chan socketmode.Event {
	out := make(chan socketmode.Event, 1)
	go func() {
		deadline := time.After(5 * time.Second)
		for {
			select {
			case ev := <-c.events:
				if ev.Type == typ {
					out <- ev
					return
				}
			case <-deadline:
				return
			}
		}
	}()
	return out
}

func TestSendArbitraryEnvelope(t *testing.T) {
	srv := newServer(t, Options{})
	c := newClient(t, srv)
	env, err := srv.Send(Outbound{Type: "events_api", Payload: json.RawMessage(`{"type":"event_callback","team_id":"T0EMUL","api_app_id":"A0EMUL","event":{"type":"app_mention","user":"U1","text":"hi","ts":"1.000001","channel":"C1","event_ts":"1.000001"}}`)})
	require.NoError(t, err)
	ev := c.next(t, socketmode.EventTypeEventsAPI)
	require.NoError(t, c.sm.Ack(*ev.Request))
	_, err = env.WaitAck(time.Second)
	require.NoError(t, err)
	assert.False(t, errors.Is(err, ErrLateAck))
}

// The fault knobs of issue 14: periodic disconnects the client survives,
// a share of calls refused 429 with Retry-After (recorded on the call),
// and a deleted message that can no longer be edited or replied to.
func TestFaultKnobs(t *testing.T) {
	srv := newServer(t, Options{RateLimit: RateLimitOptions{Disabled: true}})
	c := newClient(t, srv)
	require.NoError(t, srv.WaitConnections(1, 5*time.Second))
	srv.DisconnectEvery(150 * time.Millisecond)
	require.NoError(t, srv.WaitFor(5*time.Second, func() bool { return srv.Disconnects() >= 2 && srv.ConnectionsOpened() >= 3 }))
	srv.DisconnectEvery(0)
	require.NoError(t, srv.WaitConnections(1, 5*time.Second))
	_, err := srv.Slash("U1", "C1", "still there")
	require.NoError(t, err)
	ev := c.next(t, socketmode.EventTypeSlashCommand)
	require.NoError(t, c.sm.Ack(*ev.Request))

	srv.SetRateLimitFaults("chat.postMessage", 0.5, 2)
	limited := 0
	for range 40 {
		_, _, err := c.api.PostMessage("C1", slack.MsgOptionText("hi", false))
		var rl *slack.RateLimitedError
		if errors.As(err, &rl) {
			limited++
			assert.Equal(t, 2*time.Second, rl.RetryAfter)
		}
	}
	assert.Greater(t, limited, 5)
	assert.Less(t, limited, 35)
	for _, call := range srv.Calls("chat.postMessage") {
		if call.Status == http.StatusTooManyRequests {
			assert.Equal(t, 2, call.RetryAfter)
			assert.False(t, call.Answered.Before(call.Time))
		}
	}
	srv.SetRateLimitFaults("chat.postMessage", 0, 0)

	_, ts, err := c.api.PostMessage("C1", slack.MsgOptionText("card", false))
	require.NoError(t, err)
	require.NoError(t, srv.DeleteMessage("C1", ts))
	_, _, _, err = c.api.UpdateMessage("C1", ts, slack.MsgOptionText("edit", false))
	assert.EqualError(t, err, "message_not_found")
	_, _, err = c.api.PostMessage("C1", slack.MsgOptionText("reply", false), slack.MsgOptionTS(ts))
	assert.Error(t, err)
	assert.ErrorIs(t, srv.DeleteMessage("C1", ts), ErrNotFound)
}
