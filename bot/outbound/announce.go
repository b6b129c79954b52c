package outbound

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/closebot/closebot/bot/blocks"
	"github.com/closebot/closebot/closure"
)

// AnnounceConfigChanges posts, in each channel, what changed in the
// authorisation config since closebot last ran (lines from
// config.DiffSnapshots). Slack ids in the lines become mentions; every
// other word is escaped. No lines, no post.
func (r *Reporter) AnnounceConfigChanges(ctx context.Context, channels, lines []string) error {
	if len(lines) == 0 {
		return nil
	}
	msg := blocks.ConfigChanges(lines)
	for _, ch := range channels {
		r.enqueueMessage(ch, msg)
	}
	return nil
}

// ReminderEvery is how often an open gate's assignee is reminded.
const ReminderEvery = 24 * time.Hour

// Reminders DMs the assignee of every open gate once a day, and says so in
// the request's thread. The clock is the domain's (tests move it). When
// each gate was last reminded is kept in Meta, so a restart neither
// reminds again early nor forgets a reminder that is due.
type Reminders struct {
	Reporter *Reporter
	Store    closure.Store
	Meta     MetaStore
	Clock    closure.Clock
	Every    time.Duration // default ReminderEvery

	mu sync.Mutex // one Due at a time: it reads, then writes, the schedule
}

// metaReminders names the stored schedule: "CT-n/gate id" → last reminder.
const metaReminders = "gate_reminders"

// Due sends the reminders due now and returns how many it queued.
func (m *Reminders) Due(ctx context.Context) (int, error) {
	every := m.Every
	if every <= 0 {
		every = ReminderEvery
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	reqs, err := m.Store.List(ctx, true, 0)
	if err != nil {
		return 0, fmt.Errorf("reminders: list open requests: %w", err)
	}
	last := map[string]time.Time{}
	if _, err := m.Meta.GetMeta(ctx, metaReminders, &last); err != nil {
		return 0, fmt.Errorf("reminders: read schedule: %w", err)
	}
	now := m.Clock.Now()
	type due struct {
		req *closure.Request
		g   closure.Gate
	}
	var send []due
	next := map[string]time.Time{} // open gates only: closed ones drop out
	for _, req := range reqs {
		switch req.State {
		case closure.StateGate, closure.StateStuck, closure.StateRunning, closure.StatePaused:
		default:
			continue
		}
		for _, g := range req.Gates {
			if !g.IsOpen() {
				continue
			}
			k := req.ID + "/" + g.ID
			since := g.OpenedAt
			if t, ok := last[k]; ok {
				since = t
				next[k] = t
			}
			if now.Sub(since) < every {
				continue
			}
			next[k] = now
			send = append(send, due{req, g})
		}
	}
	if len(send) == 0 && len(next) == len(last) {
		return 0, nil
	}
	// Written before the reminders are queued: a crash in between loses
	// one day's reminder at worst, and never sends one twice.
	if err := m.Meta.PutMeta(ctx, metaReminders, next); err != nil {
		return 0, fmt.Errorf("reminders: write schedule: %w", err)
	}
	for _, d := range send {
		m.Reporter.remind(d.req, d.g, now)
	}
	return len(send), nil
}

// remind queues a gate reminder: a DM to the assignee and a thread reply.
func (r *Reporter) remind(req *closure.Request, g closure.Gate, now time.Time) {
	req = r.observe(req)
	ev := r.lastEvent(context.Background(), req.ID)
	msg := blocks.Reminder(blocks.ReminderView{
		RequestID: req.ID, TenantDomain: req.TenantDomain, Assignee: g.Assignee, Step: g.Step,
		GateTitle: closure.InstructionFor(g).Title, OpenedAt: g.OpenedAt, Seq: ev.Seq, MAC: ev.MAC,
	})
	stamp := fmt.Sprint(now.Unix())
	r.enqueue(key(req.ID, "remind."+g.ID+"."+stamp), PriorityAction,
		target{reqID: req.ID, channel: req.Channel, thread: true},
		func(context.Context) (blocks.Message, error) { return msg, nil })
	if blocks.ValidUserID(g.Assignee) {
		r.enqueue(key(req.ID, "dm.remind."+g.ID+"."+stamp), PriorityAction,
			target{reqID: req.ID, channel: g.Assignee},
			func(context.Context) (blocks.Message, error) { return msg, nil })
	}
}

// NewReminders builds the Reminders of this Reporter's store and clock,
// keeping their schedule in meta.
func (r *Reporter) NewReminders(meta MetaStore) *Reminders {
	return &Reminders{Reporter: r, Store: r.cfg.Store, Meta: meta, Clock: r.cfg.Clock}
}
