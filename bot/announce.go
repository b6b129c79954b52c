package bot

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

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
	msg := configChangeMessage(lines)
	for _, ch := range channels {
		r.enqueueMessage(ch, msg)
	}
	return nil
}

func configChangeMessage(lines []string) blocks.Message {
	var b strings.Builder
	b.WriteString("*Since closebot last ran:*")
	budget := 2800
	for i, l := range lines {
		item := "\n• " + mentionIDs(l)
		if b.Len()+len(item) > budget {
			fmt.Fprintf(&b, "\n+%d more (see `closebot config check`)", len(lines)-i)
			break
		}
		b.WriteString(item)
	}
	text := "Since closebot last ran: " + blocks.Escape(clipRunes(strings.Join(lines, "; "), 3000))
	return blocks.Message{Text: text, Blocks: []slack.Block{
		slack.NewSectionBlock(mdText(b.String()), nil, nil, slack.SectionBlockOptionBlockID(BlockAnnounce)),
	}}
}

// mentionIDs escapes a config line word by word, turning valid Slack user
// and group ids into mentions.
func mentionIDs(line string) string {
	words := strings.Split(line, " ")
	for i, w := range words {
		core := strings.TrimRight(w, ",;:")
		if blocks.ValidUserID(core) || blocks.ValidGroupID(core) {
			words[i] = blocks.Mention(core) + blocks.Escape(w[len(core):])
			continue
		}
		words[i] = blocks.Escape(w)
	}
	return strings.Join(words, " ")
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
	in := closure.InstructionFor(g)
	who := "The kept admin"
	if blocks.ValidUserID(g.Assignee) {
		who = blocks.Mention(g.Assignee)
	}
	line := fmt.Sprintf("Reminder: %s, step %d's gate “%s” of %s (%s) is still open since %s. The instructions are in the thread; press Re-check when done.",
		who, g.Step, blocks.Escape(in.Title), blocks.Escape(req.ID), blocks.Escape(clipRunes(req.TenantDomain, 300)), blocks.Date(g.OpenedAt))
	ev := r.lastEvent(context.Background(), req.ID)
	msg := eventMessage(req.ID, line, ev)
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
