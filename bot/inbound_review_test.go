package bot

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/bot/blocks"
	"github.com/closebot/closebot/bot/slacktest"
	"github.com/closebot/closebot/closure"
)

// A click decides only on the request whose own message was clicked: a
// value naming request B on request A's card (same channel, so the
// channel check passes) is refused; B's own card works.
func TestInboundClickOnAnotherRequestsMessageRefused(t *testing.T) {
	w := newWorld(t, worldOpts{})
	a := w.open(inOps, domainA, "Company dissolved")
	b := w.open(inOps, domainB, "Second tenant, same channel")
	require.Equal(t, inOps, b.Channel)
	cardA := w.card(a.ID)

	w.clickOn(alice, cardA, blocks.Value{Request: b.ID, Version: b.Version}, blocks.ActionCancel)
	w.refusalTo(alice, "does not match any request")
	w.clickOn(bob, cardA, blocks.Value{Request: b.ID, Version: b.Version}, blocks.ActionApprove)
	w.refusalTo(bob, "does not match any request")
	w.settle()
	assert.Equal(t, closure.StatePending, w.get(b.ID).State)
	assert.Equal(t, closure.StatePending, w.get(a.ID).State)
	assert.Zero(t, w.viewsOf(bob), "no modal for a click on another request's card")

	// The same value on B's own card is B's owner cancelling B.
	w.clickCard(alice, b.ID, blocks.ActionCancel)
	require.NoError(t, w.srv.WaitFor(5*time.Second, func() bool { return w.get(b.ID).State == closure.StateCancelled }))
	assert.Equal(t, closure.StatePending, w.get(a.ID).State)
	w.noWrites()
}

// Resume lets the runner write again, so it is decided on group membership
// read now, not on the background cache: an approver removed from the
// group a moment ago cannot resume; the group used lands in the audit event.
func TestInboundResumeReadsGroupsFresh(t *testing.T) {
	w := newWorld(t, worldOpts{})
	req := w.open(inOps, domainA, "Company dissolved")
	w.force(req.ID, []closure.State{closure.StateApproved, closure.StatePaused}, func(n *closure.Request) {
		if n.State == closure.StatePaused {
			n.PausedFrom = closure.StateApproved
		}
	})
	// bob leaves S0SECLEAD; the cache (refreshed each minute) still has him.
	w.srv.AddUserGroup(secLead)
	w.clickCard(bob, req.ID, blocks.ActionResume)
	w.refusalTo(bob, "requester or approver")
	w.slash(bob, inOps, "resume "+req.ID)
	w.settle()
	assert.Equal(t, closure.StatePaused, w.get(req.ID).State)

	// Back in the group: the resume counts, and names the group.
	w.srv.AddUserGroup(secLead, bob)
	w.clickCard(bob, req.ID, blocks.ActionResume)
	require.NoError(t, w.srv.WaitFor(10*time.Second, func() bool { return w.get(req.ID).State != closure.StatePaused }))
	evs, err := w.db.Events(context.Background(), req.ID)
	require.NoError(t, err)
	var resumed *closure.Event
	for i := range evs {
		if evs[i].Action == closure.EvResume {
			resumed = &evs[i]
		}
	}
	require.NotNil(t, resumed)
	assert.Equal(t, bob, resumed.Actor)
	assert.Equal(t, []string{secLead}, resumed.Groups)
	w.noWrites()
}

// A hello right after a reconnect may still count the socket Slack just
// dropped. closebot refuses to act, reconnects by itself to count again,
// and acts once it is alone, without a false alarm in the channels; a real
// second instance is counted again and announced.
func TestInboundReconnectsToRecountConnections(t *testing.T) {
	fire := make(chan time.Time)
	var others atomic.Int32
	w := newWorld(t, worldOpts{beforeRun: func(w *world) {
		w.bot.after = func(time.Duration) <-chan time.Time { return fire }
		w.bot.deps.OnAnotherInstance = func(context.Context) { others.Add(1) }
	}})
	conns := func(n int) func() bool { return func() bool { return w.bot.connections() == n } }
	recheck := func() {
		t.Helper()
		select {
		case fire <- time.Now():
		case <-time.After(5 * time.Second):
			t.Fatal("closebot armed no recheck")
		}
	}
	announced := func(want string) bool {
		w.annMu.Lock()
		defer w.annMu.Unlock()
		for _, a := range w.announced {
			if strings.Contains(a, want) {
				return true
			}
		}
		return false
	}

	// Slack refreshes the socket; the new hello still counts the old one.
	w.srv.ForceNumConnections(2)
	require.NoError(t, w.srv.Disconnect("refresh_requested"))
	require.NoError(t, w.srv.WaitFor(5*time.Second, conns(2)))
	w.slash(alice, inOps, domainA+" Company dissolved")
	w.refusalTo(alice, "another instance of it is connected")
	assert.Zero(t, w.count())

	// Slack forgets the old socket. No disconnect comes from Slack:
	// closebot reconnects on its own and counts one.
	w.srv.ForceNumConnections(1)
	opened := w.srv.ConnectionsOpened()
	recheck()
	require.NoError(t, w.srv.WaitFor(5*time.Second, conns(1)), "a fresh hello reported closebot alone")
	assert.Greater(t, w.srv.ConnectionsOpened(), opened, "closebot opened a new socket itself")
	req := w.open(inOps, domainA, "Company dissolved")
	assert.Equal(t, closure.StatePending, req.State)
	assert.False(t, announced("another instance"), "no alarm for a socket Slack had not forgotten yet")

	// A real second instance is counted again after the recheck: warned.
	w.srv.ForceNumConnections(2)
	require.NoError(t, w.srv.Disconnect("refresh_requested"))
	require.NoError(t, w.srv.WaitFor(5*time.Second, conns(2)))
	opened = w.srv.ConnectionsOpened()
	recheck()
	// The recheck reconnects: the slash below goes to the new socket, not
	// into the gap between the two (where an envelope waits for a socket).
	require.NoError(t, w.srv.WaitFor(5*time.Second, func() bool { return w.srv.ConnectionsOpened() > opened && conns(2)() }))
	require.NoError(t, w.srv.WaitFor(5*time.Second, func() bool { return announced("another instance is running") }))
	require.NoError(t, w.srv.WaitFor(5*time.Second, func() bool { return others.Load() == 1 }), "the caller is told once, to pause running closures")
	assert.Equal(t, 2, w.bot.connections())
	n := w.count()
	w.slash(alice, inOps2, domainB+" Second tenant")
	w.refusalTo(alice, "another instance of it is connected")
	assert.Equal(t, n, w.count())
	w.noWrites()
}

// A view_submission whose view carries no state (forged or truncated) is
// acknowledged and answered like a submission with every input empty: the
// socket loop does not panic and goes on serving (issue 11, item 7).
func TestInboundSubmissionWithoutStateDoesNotPanic(t *testing.T) {
	w := newWorld(t, worldOpts{})
	req := w.open(inOps, domainA, "Company dissolved")
	meta := blocks.Metadata{Request: req.ID, Version: req.Version, Digest: req.PlanDigest}
	env, err := w.srv.Send(slacktest.Outbound{Type: "interactive", AcceptsResponsePayload: true, Payload: map[string]any{
		"type": "view_submission", "team": map[string]any{"id": inTeam}, "user": map[string]any{"id": bob, "team_id": inTeam},
		"api_app_id": inApp, "trigger_id": "1.2.x",
		"view": map[string]any{"id": "V0FORGED", "type": "modal", "callback_id": blocks.CallbackApproval, "private_metadata": meta.String()},
	}})
	require.NoError(t, err)
	payload, err := env.WaitAck(3 * time.Second)
	require.NoError(t, err, "the submission is acknowledged")
	assert.Contains(t, string(payload), `"response_action":"errors"`, "every required input is reported missing")
	assert.Equal(t, closure.StatePending, w.get(req.ID).State)
	// The loop still serves.
	w.slash(alice, inOps, "status "+req.ID)
	require.NoError(t, w.srv.WaitFor(5*time.Second, func() bool { return w.hasText(alice, req.ID) }))
	w.noWrites()
}

// Pause, Abort and Cancel are decisions that write: they read group
// membership now, not from the background cache (issue 11, item 7).
func TestInboundStopsReadGroupsFresh(t *testing.T) {
	w := newWorld(t, worldOpts{})
	req := w.open(inOps, domainA, "Company dissolved")
	// bob leaves S0SECLEAD; the cache (refreshed each minute) still has him.
	w.srv.AddUserGroup(secLead)
	w.clickCard(bob, req.ID, blocks.ActionCancel)
	w.refusalTo(bob, "approver")
	assert.Equal(t, closure.StatePending, w.get(req.ID).State)
}

// Approve on a request sent back for approval after it started opens a
// note at once, reads the tenant again and turns the note into the
// approval modal for the plan as it is now; while preflight refuses (a
// hold placed meanwhile), the note says what to fix and nothing else
// happens (issue 11, items 1 and 5).
func TestInboundReApprovalReadsTheTenantAgain(t *testing.T) {
	w := newWorld(t, worldOpts{})
	req := w.open(inOps, domainA, "Company dissolved")
	req = w.force(req.ID, []closure.State{closure.StateApproved, closure.StateProving, closure.StateWaitingWindow, closure.StateRunning},
		func(n *closure.Request) {
			n.Step = 1
			n.ProvenKeep = n.Facts.KeepObjectID
		})
	req, _, err := w.svc.ApplySystem(context.Background(), req.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
		fresh := r.Facts.Clone()
		fresh.SyncEnabled = !fresh.SyncEnabled
		return s.Repend(r, fresh, r.Plan, s.Verify(r, fresh))
	})
	require.NoError(t, err)
	require.Equal(t, closure.StatePending, req.State)

	w.dirs[tenantA].AddHold(closure.LegalHold{CaseName: "Audit", Source: closure.HoldPolicy, Name: "All mailboxes", HoldStatus: "applied"})
	w.clickCard(bob, req.ID, blocks.ActionApprove)
	require.NoError(t, w.srv.WaitFor(5*time.Second, func() bool {
		for _, v := range w.srv.Views() {
			if v.User == bob && strings.Contains(string(v.Blocks), "All mailboxes") {
				return true
			}
		}
		return false
	}), "the note names the hold")
	assert.Equal(t, req.Version, w.get(req.ID).Version, "nothing decided")

	w.dirs[tenantA].SetHoldStatus("All mailboxes", "notApplied")
	w.clickCard(bob, req.ID, blocks.ActionApprove)
	v := w.approvalView(bob)
	fresh := w.get(req.ID)
	assert.Greater(t, fresh.PendingSince, req.PendingSince, "the re-read plan is a new round")
	meta, err := blocks.ParseMetadata(v.PrivateMetadata)
	require.NoError(t, err)
	assert.Equal(t, fresh.PlanDigest, meta.Digest)
	w.noWrites()
}
