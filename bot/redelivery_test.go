package bot

// Issue 14 item 2: Slack delivers at least once and people click twice.
// Each test drives the real slack-go socket-mode client through the Slack
// emulator and counts the audit events the store recorded: whatever arrives
// twice (or three times), each decision takes effect exactly once.

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/bot/blocks"
	"github.com/closebot/closebot/bot/slacktest"
	"github.com/closebot/closebot/closure"
)

// events counts request id's audit events with action a.
func (w *world) events(id string, a closure.EventAction) int {
	w.t.Helper()
	evs, err := w.db.Events(context.Background(), id)
	require.NoError(w.t, err)
	n := 0
	for _, e := range evs {
		if e.Action == a {
			n++
		}
	}
	return n
}

// acked requires every delivery in es to be acked inside Slack's 3 s.
func acked(t *testing.T, es ...*slacktest.Envelope) {
	t.Helper()
	for _, e := range es {
		_, err := e.WaitAck(3 * time.Second)
		require.NoError(t, err, "envelope %s (retry %d) acked within 3 s", e.ID, e.RetryAttempt)
	}
}

// redeliverTwice sends e's envelope twice more, at once (Slack retrying
// while the first delivery is still being handled).
func (w *world) redeliverTwice(e *slacktest.Envelope) []*slacktest.Envelope {
	w.t.Helper()
	out := []*slacktest.Envelope{e}
	for range 2 {
		again, err := w.srv.Redeliver(out[len(out)-1], "timeout")
		require.NoError(w.t, err)
		out = append(out, again)
	}
	return out
}

// The same envelope delivered three times: a slash command opens one
// request, a Cancel click cancels once, a modal submission approves once.
func TestRedeliveredThreeTimesTakesEffectOnce(t *testing.T) {
	t.Run("slash command", func(t *testing.T) {
		w := newWorld(t, worldOpts{})
		e, err := w.srv.Slash(alice, inOps, domainA+" Company dissolved")
		require.NoError(t, err)
		acked(t, w.redeliverTwice(e)...)
		require.NoError(t, w.srv.WaitFor(10*time.Second, func() bool { return w.count() == 1 }), "request opened")
		w.settle()
		assert.Equal(t, 1, w.count(), "one request for three deliveries")
		rs, err := w.db.List(context.Background(), false, 0)
		require.NoError(t, err)
		assert.Equal(t, 1, w.events(rs[0].ID, closure.EvOpen))
		w.noWrites()
	})
	t.Run("cancel click", func(t *testing.T) {
		w := newWorld(t, worldOpts{})
		req := w.open(inOps, domainA, "Company dissolved")
		e, err := w.srv.Click(alice, w.cardWith(req.ID, blocks.ActionCancel).Ref(), blocks.ActionCancel)
		require.NoError(t, err)
		acked(t, w.redeliverTwice(e)...)
		require.NoError(t, w.srv.WaitFor(10*time.Second, func() bool { return w.get(req.ID).State == closure.StateCancelled }))
		w.settle()
		assert.Equal(t, 1, w.events(req.ID, closure.EvCancel))
		w.noWrites()
	})
	t.Run("approval submission", func(t *testing.T) {
		w := newWorld(t, worldOpts{})
		req := w.open(inOps, domainA, "Company dissolved")
		w.clickCard(bob, req.ID, blocks.ActionApprove)
		view := w.approvalView(bob)
		e, err := w.srv.Submit(bob, view.ID, approvalValues(domainA, strconv.Itoa(req.Plan.UsersToDelete), approvalItems(req)))
		require.NoError(t, err)
		acked(t, w.redeliverTwice(e)...)
		require.NoError(t, w.srv.WaitFor(10*time.Second, func() bool { return w.events(req.ID, closure.EvApprove) > 0 }))
		w.settle()
		assert.Equal(t, 1, w.events(req.ID, closure.EvApprove))
		assert.Len(t, w.get(req.ID).Approvals, 1)
	})
}

// A double click is two envelopes with their own ids and action_ts: the
// second finds the request already changed and takes no effect.
func TestDoubleClickTakesEffectOnce(t *testing.T) {
	t.Run("cancel", func(t *testing.T) {
		w := newWorld(t, worldOpts{})
		req := w.open(inOps, domainA, "Company dissolved")
		card := w.cardWith(req.ID, blocks.ActionCancel).Ref()
		e1, err := w.srv.Click(alice, card, blocks.ActionCancel)
		require.NoError(t, err)
		e2, err := w.srv.Click(alice, card, blocks.ActionCancel)
		require.NoError(t, err)
		require.NotEqual(t, e1.ID, e2.ID)
		require.NotEqual(t, actionTS(t, e1), actionTS(t, e2), "two clicks carry two action_ts")
		acked(t, e1, e2)
		require.NoError(t, w.srv.WaitFor(10*time.Second, func() bool { return w.get(req.ID).State == closure.StateCancelled }))
		w.settle()
		assert.Equal(t, 1, w.events(req.ID, closure.EvCancel))
		w.noWrites()
	})
	t.Run("modal submit", func(t *testing.T) {
		w := newWorld(t, worldOpts{})
		req := w.open(inOps, domainA, "Company dissolved")
		w.clickCard(bob, req.ID, blocks.ActionApprove)
		view := w.approvalView(bob)
		values := approvalValues(domainA, strconv.Itoa(req.Plan.UsersToDelete), approvalItems(req))
		// Both submissions leave before Slack closes the modal on the first ack.
		e1, err := w.srv.Submit(bob, view.ID, values)
		require.NoError(t, err)
		e2, err := w.srv.Submit(bob, view.ID, values)
		require.NoError(t, err)
		acked(t, e1, e2)
		require.NoError(t, w.srv.WaitFor(10*time.Second, func() bool { return w.events(req.ID, closure.EvApprove) > 0 }))
		w.settle()
		assert.Equal(t, 1, w.events(req.ID, closure.EvApprove))
		assert.Len(t, w.get(req.ID).Approvals, 1)
	})
}

// bob approves from his laptop and his phone: two modals, both submitted
// at the same moment. One approval counts.
func TestSameApproverOnTwoDevicesApprovesOnce(t *testing.T) {
	w := newWorld(t, worldOpts{})
	req := w.open(inOps, domainA, "Company dissolved")
	w.clickCard(bob, req.ID, blocks.ActionApprove)
	laptop := w.approvalView(bob)
	w.clickCard(bob, req.ID, blocks.ActionApprove)
	var phone slacktest.View
	require.NoError(t, w.srv.WaitFor(5*time.Second, func() bool {
		for _, v := range w.srv.Views() {
			if v.User == bob && v.Open && v.CallbackID == blocks.CallbackApproval && v.ID != laptop.ID {
				phone = v
				return true
			}
		}
		return false
	}), "a second modal for bob's second device")
	values := approvalValues(domainA, strconv.Itoa(req.Plan.UsersToDelete), approvalItems(req))
	var wg sync.WaitGroup
	envs := make([]*slacktest.Envelope, 2)
	for i, v := range []slacktest.View{laptop, phone} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := w.srv.Submit(bob, v.ID, values)
			assert.NoError(t, err)
			envs[i] = e
		}()
	}
	wg.Wait()
	acked(t, envs...)
	require.NoError(t, w.srv.WaitFor(10*time.Second, func() bool { return w.events(req.ID, closure.EvApprove) > 0 }))
	w.settle()
	assert.Equal(t, 1, w.events(req.ID, closure.EvApprove))
	got := w.get(req.ID)
	assert.Len(t, got.Approvals, 1)
	assert.Contains(t, got.Approvals, bob)
}

// bob submits his approval at the moment alice presses Cancel. Cancel is
// only accepted while pending and an approval only counts while pending:
// exactly one of them happens, and the other is refused.
func TestApproveRacingCancelHasOneWinner(t *testing.T) {
	for i := range 4 {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			w := newWorld(t, worldOpts{})
			req := w.open(inOps, domainA, "Company dissolved")
			card := w.cardWith(req.ID, blocks.ActionCancel).Ref()
			w.clickCard(bob, req.ID, blocks.ActionApprove)
			view := w.approvalView(bob)
			values := approvalValues(domainA, strconv.Itoa(req.Plan.UsersToDelete), approvalItems(req))
			var approve, cancel *slacktest.Envelope
			var wg sync.WaitGroup
			wg.Add(2)
			go func() {
				defer wg.Done()
				var err error
				approve, err = w.srv.Submit(bob, view.ID, values)
				assert.NoError(t, err)
			}()
			go func() {
				defer wg.Done()
				var err error
				cancel, err = w.srv.Click(alice, card, blocks.ActionCancel)
				assert.NoError(t, err)
			}()
			wg.Wait()
			acked(t, approve, cancel)
			require.NoError(t, w.srv.WaitFor(10*time.Second, func() bool {
				return w.events(req.ID, closure.EvApprove)+w.events(req.ID, closure.EvCancel) > 0
			}))
			w.settle()
			approvals, cancels := w.events(req.ID, closure.EvApprove), w.events(req.ID, closure.EvCancel)
			assert.Equal(t, 1, approvals+cancels, "one winner: %d approvals, %d cancels", approvals, cancels)
			got := w.get(req.ID)
			if cancels == 1 {
				assert.Equal(t, closure.StateCancelled, got.State)
				assert.Empty(t, got.Approvals)
				w.noWrites()
			} else {
				assert.NotEqual(t, closure.StateCancelled, got.State)
			}
		})
	}
}

// actionTS is the action_ts of a block_actions envelope's first action.
func actionTS(t *testing.T, e *slacktest.Envelope) string {
	t.Helper()
	var p struct {
		Actions []struct {
			ActionTS string `json:"action_ts"`
		} `json:"actions"`
	}
	require.NoError(t, json.Unmarshal(e.Payload, &p))
	require.NotEmpty(t, p.Actions)
	return p.Actions[0].ActionTS
}
