package outbound

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/bot/blocks"
	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/store"
)

// behindStore is the harness's store with a database behind Slack: Events
// returns only the first keep events of a request, as a file restored from
// an older copy would (store's own tests cover the file; the end-to-end
// test restores a real one).
type behindStore struct {
	*store.DB
	keep int
}

func (b behindStore) Events(ctx context.Context, id string) ([]closure.Event, error) {
	evs, err := b.DB.Events(ctx, id)
	if err != nil || len(evs) <= b.keep {
		return evs, err
	}
	return evs[:b.keep], nil
}

// approvedThenAborted opens a request, approves and aborts it (each a new
// thread message showing its seq and mac), and waits for Slack to show it.
func approvedThenAborted(h *outHarness) *closure.Request {
	req := h.open("Company dissolved", "Contoso")
	req = h.change(req, uBob, closure.EvApprove, func(r *closure.Request) {
		r.State = closure.StateApproved
		r.Approvals = map[string]closure.Approval{uBob: {UserID: uBob, PlanDigest: planHash, ConfigDigest: cfgDigest, At: h.clock.Now()}}
	})
	req = h.change(req, uAlice, closure.EvAbort, func(r *closure.Request) { r.State = closure.StateAborted })
	h.flush()
	return req
}

// Issue 11 item 6: the read-back holds a request whose database is behind
// what closebot posted in its thread, and says so in the thread.
func TestReadBackHoldsARequestBehindSlack(t *testing.T) {
	h := newOutHarness(t, harnessOpt{fast: true})
	req := approvedThenAborted(h)
	// The decision events are new thread messages with their seq and mac.
	card := h.ref(req, RefCard)
	thread := h.emu.Thread(card.Channel, card.TS)
	var audit []string
	for _, m := range thread[1:] {
		if strings.Contains(string(m.Blocks), `"block_id":"`+blocks.BlockEventAudit+`"`) {
			audit = append(audit, joined(t, m.Blocks))
		}
	}
	require.Len(t, audit, 2, "approve and abort are posted as new messages")
	assert.Contains(t, audit[1], req.ID+" · #3 · mac ")

	// A database restored from when the request was only approved: state
	// approved (open), chain ending at event 2.
	h.restoreAs(req, closure.StateApproved)
	regs, err := h.rep.CheckThreads(h.ctx, behindStore{DB: h.db, keep: 2})
	require.NoError(t, err)
	require.Len(t, regs, 1)
	assert.Equal(t, req.ID, regs[0].Request)
	assert.Equal(t, uint64(3), regs[0].Fault.Seq)
	assert.Equal(t, store.ReasonBehindSlack, regs[0].Fault.Reason)
	assert.NotNil(t, h.db.Held(req.ID))
	_, err = h.db.Get(h.ctx, req.ID)
	assert.ErrorIs(t, err, store.ErrTampered, "nothing can act on it")
	open, err := h.db.List(h.ctx, true, 0)
	require.NoError(t, err)
	assert.Empty(t, open, "nothing to resume")

	h.flush()
	last := h.emu.Thread(card.Channel, card.TS)
	notice := last[len(last)-1]
	assert.True(t, notice.ReplyBroadcast, "the channel sees it too")
	text := joined(t, notice.Blocks)
	assert.Contains(t, text, "closebot will not resume "+req.ID+": its database does not match what closebot posted in this thread")
	assert.Contains(t, text, "closebot posted #3 · mac ")
	assert.Contains(t, text, "the stored chain ends at #2 · mac ")
}

// restoreAs moves req back to an open state in the store (a new event), so
// that the read-back considers it; behindStore hides the events after it.
func (h *outHarness) restoreAs(req *closure.Request, s closure.State) {
	h.t.Helper()
	next := req.Clone()
	next.State = s
	_, _, err := h.db.Update(h.ctx, req.Expect(), next, closure.Event{At: h.clock.Now(), Actor: "test", Action: "test.restore"})
	require.NoError(h.t, err)
}

// What a person (or another app) writes in the thread is not closebot's:
// a fake "#99 · mac …" in the very block closebot uses stops nothing.
func TestReadBackIgnoresOthersMessages(t *testing.T) {
	h := newOutHarness(t, harnessOpt{fast: true})
	req := approvedThenAborted(h)
	h.restoreAs(req, closure.StateApproved)
	card := h.ref(req, RefCard)
	fake, err := json.Marshal([]slack.Block{slack.NewContextBlock(blocks.BlockEventAudit,
		slack.NewTextBlockObject(slack.MarkdownType, req.ID+" · #99 · mac deadbeef", false, true))})
	require.NoError(t, err)
	_, err = h.emu.PostAs(uAlice, card.Channel, card.TS, req.ID+" · #99 · mac deadbeef", fake)
	require.NoError(t, err)

	regs, err := h.rep.CheckThreads(h.ctx, h.db)
	require.NoError(t, err)
	assert.Empty(t, regs)
	assert.Nil(t, h.db.Held(req.ID))
	_, err = h.db.Get(h.ctx, req.ID)
	assert.NoError(t, err)
}

// Long threads are read page by page.
func TestReadBackReadsEveryPage(t *testing.T) {
	old := readBackPage
	readBackPage = 2
	t.Cleanup(func() { readBackPage = old })
	h := newOutHarness(t, harnessOpt{fast: true})
	req := approvedThenAborted(h)
	h.restoreAs(req, closure.StateApproved)
	regs, err := h.rep.CheckThreads(h.ctx, behindStore{DB: h.db, keep: 2})
	require.NoError(t, err)
	require.Len(t, regs, 1, "the abort (#3) is on a later page")
	assert.Len(t, h.emu.Calls("conversations.replies"), 2, "card and approval, then the abort")
}

// A thread that cannot be read is not a regression, but the request is not
// resumed until a start-up can compare it; the notice says what to fix.
func TestReadBackHoldsAnUnreadableThread(t *testing.T) {
	h := newOutHarness(t, harnessOpt{fast: true})
	req := approvedThenAborted(h)
	h.restoreAs(req, closure.StateApproved)
	h.emu.InjectError("conversations.replies", 1, "missing_scope")
	regs, err := h.rep.CheckThreads(h.ctx, h.db)
	require.NoError(t, err)
	require.Len(t, regs, 1)
	assert.Equal(t, store.ReasonUnchecked, regs[0].Fault.Reason)
	assert.Contains(t, regs[0].Fault.Detail, "channels:history and groups:history")
	h.flush()
	card := h.ref(req, RefCard)
	last := h.emu.Thread(card.Channel, card.TS)
	assert.Contains(t, joined(t, last[len(last)-1].Blocks), "will not resume "+req.ID+" until it can compare it with its database")
}

// Issue 14 item 1: closebot killed between the card's post and its
// recorded ref (or before the post: the outbox is in memory) left a
// pending request without a card, so nobody could approve it. Start-up
// posts the card.
func TestReadBackPostsAMissingCard(t *testing.T) {
	h := newOutHarness(t, harnessOpt{fast: true})
	req, _, err := h.db.Create(h.ctx, &closure.Request{
		TenantID: tenantID, TenantDomain: domain, Requester: uAlice, Reason: "Company dissolved", Channel: chOps,
		State: closure.StatePending, CreatedAt: outT0, ExpiresAt: outT0.Add(24 * time.Hour),
		PlanDigest: planHash, ConfigDigest: cfgDigest, Plan: planSummary("Contoso"), Steps: closure.NewSteps(),
	}, closure.Event{At: outT0, Actor: uAlice, Action: closure.EvOpen}) // no RequestChanged: the crash
	require.NoError(t, err)
	regs, err := h.rep.CheckThreads(h.ctx, h.db)
	require.NoError(t, err)
	assert.Empty(t, regs)
	h.flush()
	card := h.ref(req, RefCard)
	m, ok := h.emu.Message(card.Channel, card.TS)
	require.True(t, ok, "the card is in Slack")
	assert.Contains(t, string(m.Blocks), `"action_id":"`+blocks.ActionApprove+`"`)
}

// Issue 14 item 1: closebot killed after a gate opened but before its
// queued message was posted (the outbox is in memory) left the gate with no
// button to press. Start-up posts the open gate's thread message and DM.
func TestReadBackPostsAnOpenGatesLostMessage(t *testing.T) {
	h := newOutHarness(t, harnessOpt{fast: true})
	req := h.running()
	h.flush()
	g := closure.Gate{ID: "2.azure", Step: 2, Kind: closure.GateAzure, Instructions: string(closure.GateAzure),
		Assignee: uCarol, OpenedAt: h.clock.Now(), ETA: outT0.Add(24 * time.Hour), Attest: []string{closure.SentenceNoAzure}}
	next := req.Clone()
	next.State, next.Step, next.Gates = closure.StateGate, 2, []closure.Gate{g}
	req, _, err := h.db.Update(h.ctx, req.Expect(), next, closure.Event{At: h.clock.Now(), Actor: "closebot",
		Action: closure.EvGateOpen, From: closure.StateRunning, To: closure.StateGate}) // then the crash: nothing reported
	require.NoError(t, err)
	_, ok, err := h.db.Ref(h.ctx, req.ID, gateRefName(g.ID))
	require.NoError(t, err)
	require.False(t, ok)

	regs, err := h.rep.CheckThreads(h.ctx, h.db)
	require.NoError(t, err)
	assert.Empty(t, regs)
	h.flush()
	m, ok := h.emu.Message(chOps, h.ref(req, gateRefName(g.ID)).TS)
	require.True(t, ok, "the gate's message is in the thread")
	assert.Contains(t, string(m.Blocks), `"action_id":"`+blocks.ActionAttest+`"`)
	dm := h.ref(req, GateDMRef(g.ID))
	_, ok = h.emu.Message(dm.Channel, dm.TS)
	assert.True(t, ok, "and in carol's DM")
}

// Only requests closebot could act on are read: a finished one costs no call.
func TestReadBackSkipsFinishedRequests(t *testing.T) {
	h := newOutHarness(t, harnessOpt{fast: true})
	approvedThenAborted(h) // aborted before any user was deleted: nothing to restore
	regs, err := h.rep.CheckThreads(h.ctx, h.db)
	require.NoError(t, err)
	assert.Empty(t, regs)
	assert.Empty(t, h.emu.Calls("conversations.replies"))
	assert.Empty(t, h.emu.Calls("auth.test"))
}

func TestPostedRefs(t *testing.T) {
	ctxBlock := func(id, text string) slack.Blocks {
		return slack.Blocks{BlockSet: []slack.Block{slack.NewContextBlock(id, slack.NewTextBlockObject(slack.MarkdownType, text, false, true))}}
	}
	msgs := []slack.Message{
		{Msg: slack.Msg{BotID: "B0BOT", User: "U0BOT", Timestamp: "1.1", Blocks: ctxBlock(blocks.BlockEventAudit, "CT-4 · #2 · mac 1a2b3c4d")}},
		{Msg: slack.Msg{BotID: "B0BOT", User: "U0BOT", Timestamp: "1.2", Blocks: ctxBlock(blocks.BlockStepAudit, "CT-4 · #7 · mac 0000ffff")}},
		{Msg: slack.Msg{BotID: "B0BOT", User: "U0BOT", Timestamp: "1.3", Blocks: ctxBlock(blocks.BlockGateAudit, "CT-4 · #5 · mac abcdef01")}},
		{Msg: slack.Msg{BotID: "B0BOT", User: "U0BOT", Timestamp: "1.4", Blocks: ctxBlock(blocks.BlockSummaryAudit,
			"Audit chain head #9 · mac 99999999 · check with `closebot audit verify`, export with `closebot audit export CT-4`")}},
		// Not counted: another request, a person, another app, another block, not hex, "????????".
		{Msg: slack.Msg{BotID: "B0BOT", User: "U0BOT", Timestamp: "2.1", Blocks: ctxBlock(blocks.BlockEventAudit, "CT-40 · #20 · mac 1a2b3c4d")}},
		{Msg: slack.Msg{User: "U0ALICE", Timestamp: "2.2", Blocks: ctxBlock(blocks.BlockEventAudit, "CT-4 · #99 · mac deadbeef")}},
		{Msg: slack.Msg{BotID: "B0OTHER", User: "U0OTHER", Timestamp: "2.3", Blocks: ctxBlock(blocks.BlockEventAudit, "CT-4 · #98 · mac deadbeef")}},
		{Msg: slack.Msg{BotID: "B0BOT", User: "U0BOT", Timestamp: "2.4", Blocks: ctxBlock("card_context", "CT-4 · #97 · mac deadbeef")}},
		{Msg: slack.Msg{BotID: "B0BOT", User: "U0BOT", Timestamp: "2.5", Blocks: ctxBlock(blocks.BlockEventAudit, "CT-4 · #96 · mac DEADBEEF")}},
		{Msg: slack.Msg{BotID: "B0BOT", User: "U0BOT", Timestamp: "2.6", Blocks: ctxBlock(blocks.BlockEventAudit, "CT-4 · #95 · mac ????????")}},
		{Msg: slack.Msg{BotID: "B0BOT", User: "U0BOT", Timestamp: "2.7", Blocks: ctxBlock(blocks.BlockEventAudit, "CT-4 · #94 · mac deadbeef and more")}},
	}
	got := postedRefs("CT-4", msgs, "U0BOT", "B0BOT")
	assert.Equal(t, []store.Posted{
		{Seq: 2, MAC8: "1a2b3c4d", TS: "1.1"}, {Seq: 7, MAC8: "0000ffff", TS: "1.2"},
		{Seq: 5, MAC8: "abcdef01", TS: "1.3"}, {Seq: 9, MAC8: "99999999", TS: "1.4"},
	}, got)
	// Without a bot id (auth.test gave none), the bot user decides.
	assert.Len(t, postedRefs("CT-4", msgs, "U0BOT", ""), 4)
}
