package outbound

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/config"
)

func TestOutboundAnnounceConfigChanges(t *testing.T) {
	h := newOutHarness(t, harnessOpt{fast: true})
	prev := config.Snapshot{Approvers: []string{"U0BOB"}, Required: 1}
	next := config.Snapshot{Approvers: []string{"U0BOB", "U0DAVE", "S0SECLEAD"}, Required: 2}
	lines := config.DiffSnapshots(prev, next)
	require.NotEmpty(t, lines)
	lines = append(lines, "tenant <!channel> (x) removed")
	require.NoError(t, h.rep.AnnounceConfigChanges(h.ctx, []string{chOps}, lines))
	require.NoError(t, h.rep.AnnounceConfigChanges(h.ctx, []string{chOps}, nil), "nothing changed, nothing posted")
	h.flush()
	msgs := h.emu.Messages(chOps)
	require.Len(t, msgs, 1)
	body := joined(t, msgs[0].Blocks)
	assert.Contains(t, body, "Since closebot last ran:")
	assert.Contains(t, body, "slack.approvers: added <!subteam^S0SECLEAD>, <@U0DAVE>")
	assert.Contains(t, body, "approval.required: 1 → 2")
	assert.Contains(t, body, "tenant &lt;!channel&gt; (x) removed")
	assert.NotContains(t, body, "<!channel>")
	for _, o := range textsOf(t, msgs[0].Blocks) {
		assert.True(t, o.Verbatim)
	}

	require.NoError(t, h.rep.Announce(h.ctx, chOps, "Slack reports 2 connections <!here>"))
	h.flush()
	msgs = h.emu.Messages(chOps)
	require.Len(t, msgs, 2)
	assert.Contains(t, joined(t, msgs[1].Blocks), "&lt;!here&gt;")
}

func TestOutboundDailyGateReminders(t *testing.T) {
	h := newOutHarness(t, harnessOpt{fast: true})
	req := h.running()
	g := closure.Gate{ID: "4.legacy_mfa", Step: 4, Kind: closure.GateLegacyMFA, Instructions: string(closure.GateLegacyMFA),
		Assignee: uCarol, OpenedAt: h.clock.Now(), Attest: []string{closure.SentenceNoLegacyMFA}}
	req = h.change(req, "closebot", "gate.open", func(r *closure.Request) {
		r.State, r.Step, r.Gates = closure.StateGate, 4, []closure.Gate{g}
	})
	require.NoError(t, h.rep.GateOpened(h.ctx, req, g))
	h.flush()
	rem := &Reminders{Reporter: h.rep, Store: h.db, Meta: h.db, Clock: h.clock}

	n, err := rem.Due(h.ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "not a day old yet")
	h.clock.Advance(25 * time.Hour)
	n, err = rem.Due(h.ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	n, _ = rem.Due(h.ctx)
	assert.Zero(t, n, "once a day")
	h.flush()

	dms := h.emu.DMs(uCarol)
	require.Len(t, dms, 2, "the gate DM, then the reminder")
	assert.Contains(t, dms[1].Text, "Reminder: <@U0CAROL>, step 4's gate “Legacy MFA providers”")
	thread := h.emu.Thread(chOps, h.ref(req, RefCard).TS)
	assert.True(t, strings.HasPrefix(thread[len(thread)-1].Text, "CT-1: Reminder:"))

	h.clock.Advance(24 * time.Hour)
	n, err = rem.Due(h.ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the next day's reminder")
	h.flush()
	assert.Len(t, h.emu.DMs(uCarol), 3)
}

// TestOutboundGateRemindersSurviveRestart: the schedule is stored, so a
// restarted closebot (new Reminders over the same database) neither sends
// again the reminder it sent before the restart nor skips the next one.
func TestOutboundGateRemindersSurviveRestart(t *testing.T) {
	h := newOutHarness(t, harnessOpt{fast: true})
	req := h.running()
	g := closure.Gate{ID: "4.legacy_mfa", Step: 4, Kind: closure.GateLegacyMFA, Instructions: string(closure.GateLegacyMFA),
		Assignee: uCarol, OpenedAt: h.clock.Now(), Attest: []string{closure.SentenceNoLegacyMFA}}
	req = h.change(req, "closebot", closure.EvGateOpen, func(r *closure.Request) {
		r.State, r.Step, r.Gates = closure.StateGate, 4, []closure.Gate{g}
	})
	require.NoError(t, h.rep.GateOpened(h.ctx, req, g))
	h.flush()

	h.clock.Advance(25 * time.Hour)
	before := &Reminders{Reporter: h.rep, Store: h.db, Meta: h.db, Clock: h.clock}
	n, err := before.Due(h.ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	h.flush()
	require.Len(t, h.emu.DMs(uCarol), 2, "the gate DM, then the reminder")

	// A restart, an hour later: the gate is still more than a day old,
	// but it was reminded an hour ago.
	h.clock.Advance(time.Hour)
	after := &Reminders{Reporter: h.rep, Store: h.db, Meta: h.db, Clock: h.clock}
	n, err = after.Due(h.ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "no second reminder after a restart")

	// A day after the last reminder, the restarted instance reminds.
	h.clock.Advance(23 * time.Hour)
	n, err = after.Due(h.ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the next reminder is not skipped")
	h.flush()
	assert.Len(t, h.emu.DMs(uCarol), 3)
}
