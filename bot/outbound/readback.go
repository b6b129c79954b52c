package outbound

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/closebot/closebot/bot/blocks"
	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/store"
)

// The start-up read-back (issue 11, item 6). The database can be put back
// to an older copy as a whole (last night's backup restored); every MAC in
// it still verifies. What closebot posted to Slack cannot be rolled back
// with it: each event mirrored in a request's thread shows "#seq · mac
// xxxxxxxx". Before anything resumes, CheckThreads reads closebot's own
// messages back from every request closebot could act on, and a request
// whose stored chain lacks what the thread shows is held (store.Hold): not
// resumed, every click on it refused, a notice in its thread and an error
// in the log.

// ReadBackStore is the slice of store.DB the read-back uses.
type ReadBackStore interface {
	List(ctx context.Context, open bool, limit int) ([]*closure.Request, error)
	Ref(ctx context.Context, requestID, name string) (store.Ref, bool, error)
	Events(ctx context.Context, id string) ([]closure.Event, error)
	Hold(id string, f *store.Fault)
}

// Regression is a request the read-back held, and why.
type Regression struct {
	Request string
	Fault   *store.Fault
}

// readBackPage is the page size asked of conversations.replies (the
// method page recommends no more than 200); a variable for tests.
var readBackPage = 200

// readBackMaxPages bounds one thread's read (200 × 250 messages).
const readBackMaxPages = 250

// readBackRetries bounds retries of a Slack call that failed for a reason
// a retry may cure (429, network).
const readBackRetries = 4

// CheckThreads reads back every open request's thread (and every aborted
// one that can still be restored) and holds each whose database is behind
// what closebot posted there, or whose thread could not be read. Call it
// after the database is open and before anything resumes (Runner.ResumeAll)
// or the socket opens. The thread notices are queued on the outbox (Run
// delivers them). It returns the requests it held.
func (r *Reporter) CheckThreads(ctx context.Context, s ReadBackStore) ([]Regression, error) {
	all, err := s.List(ctx, false, 0)
	if err != nil {
		return nil, fmt.Errorf("read back slack threads: %w", err)
	}
	now := r.cfg.Clock.Now()
	var reqs []*closure.Request
	for _, req := range all {
		if req.State.HoldsLock() || (req.State == closure.StateAborted && now.Before(req.RestoreDeadline)) {
			reqs = append(reqs, req)
		}
	}
	if len(reqs) == 0 {
		return nil, nil
	}
	var me *slack.AuthTestResponse
	err = r.retry(ctx, func() error {
		var err error
		me, err = r.cfg.API.AuthTestContext(ctx)
		return err
	})
	var held []Regression
	hold := func(req *closure.Request, f *store.Fault, why string, attrs ...any) {
		s.Hold(req.ID, f)
		held = append(held, Regression{Request: req.ID, Fault: f})
		r.cfg.Log.ErrorContext(ctx, why, append([]any{"request", req.ID, "fault", f.Error()}, attrs...)...)
	}
	if err != nil {
		for _, req := range reqs {
			f := &store.Fault{Request: req.ID, Reason: store.ReasonUnchecked, Detail: "auth.test: " + err.Error()}
			hold(req, f, "cannot read back Slack: this request is not resumed until a start-up can compare its thread with the database")
		}
		return held, fmt.Errorf("read back slack threads: auth.test: %w", err)
	}
	for _, req := range reqs {
		if ctx.Err() != nil {
			return held, ctx.Err()
		}
		card, ok, err := s.Ref(ctx, req.ID, RefCard)
		if err != nil {
			f, isFault := asFault(err)
			if !isFault {
				f = &store.Fault{Request: req.ID, Reason: store.ReasonUnchecked, Detail: "its card ref: " + err.Error()}
			}
			hold(req, f, "cannot find the request's Slack thread: this request is not resumed")
			continue
		}
		if !ok {
			// Its card was never recorded: closebot stopped between the
			// post and its ref, or before the post (the outbox is in
			// memory). Without a card nobody can approve or act: post it
			// (again).
			r.cfg.Log.InfoContext(ctx, "no Slack thread to read back yet: posting the card", "request", req.ID)
			r.redrawAtStart(ctx, req)
			continue
		}
		msgs, err := r.readThread(ctx, card)
		if lost(err) {
			// The card is gone (deleted in Slack): nothing posted can be
			// read, and the reporter posts the card again.
			r.cfg.Log.WarnContext(ctx, "request thread lost; its posted audit heads cannot be read back", "request", req.ID, "err", err)
			continue
		}
		if err != nil {
			f := &store.Fault{Request: req.ID, Reason: store.ReasonUnchecked, Detail: "conversations.replies: " + err.Error() + hint(err)}
			hold(req, f, "cannot read back the request's Slack thread: this request is not resumed until a start-up can compare it with the database")
			r.notice(req.ID, card, fmt.Sprintf("closebot could not read this thread back at start-up (%s), so it will not resume %s until it can compare it with its database; restart closebot once Slack answers.", f.Detail, req.ID))
			continue
		}
		posted := postedRefs(req.ID, msgs, me.UserID, me.BotID)
		evs, err := s.Events(ctx, req.ID)
		if err != nil {
			f, isFault := asFault(err)
			if !isFault {
				return held, fmt.Errorf("read back %s: %w", req.ID, err)
			}
			hold(req, f, "the request's audit data does not verify: this request is not resumed")
			continue
		}
		f := store.ComparePosted(req.ID, evs, posted)
		if f == nil {
			r.redrawAtStart(ctx, req)
			continue
		}
		stored := "none"
		if n := len(evs); n > 0 {
			stored = store.Posted{Seq: evs[n-1].Seq, MAC8: store.ShortMAC(evs[n-1].MAC)}.String()
		}
		hold(req, f, "the database is behind what closebot posted in Slack: this request is not resumed",
			"posted", highest(posted).String(), "stored_head", stored)
		r.notice(req.ID, card, fmt.Sprintf("closebot will not resume %s: its database does not match what closebot posted in this thread (%s). "+
			"The database file was restored from an older copy, rolled back or rewritten. "+
			"Put the newest database back, or investigate with `closebot audit verify`; nothing is done on %s meanwhile.",
			req.ID, f.Detail, req.ID))
	}
	return held, nil
}

// redrawAtStart renders an open request's messages again at start-up: what
// the outbox held was in memory and died with the last process (issue 14
// item 1: a closebot killed after a gate opened but before its message was
// posted left the gate without a button to press, for good). The card, the
// current step's message and each open gate's thread message and DM are
// edited in place, or posted if the crash came before their ref was
// recorded (at most one message posted again per crash).
func (r *Reporter) redrawAtStart(ctx context.Context, req *closure.Request) {
	req = r.observe(req)
	r.queueCard(req)
	refs, err := r.cfg.Refs.Refs(ctx, req.ID)
	if err != nil {
		r.cfg.Log.WarnContext(ctx, "read refs to redraw at start-up", "request", req.ID, "err", err)
		return
	}
	switch req.State {
	case closure.StateRunning, closure.StateGate, closure.StateStuck:
		if req.Step >= 1 {
			r.queueStep(req.ID, req.Channel, req.Step, PriorityAction)
		}
	}
	for _, g := range req.Gates {
		if !g.IsOpen() {
			continue
		}
		r.queueGate(req, g.ID)
		if ref, ok := refs[GateDMRef(g.ID)]; ok {
			r.queueGateDM(req, g.ID, ref.Channel)
		} else if blocks.ValidUserID(g.Assignee) {
			r.queueGateDM(req, g.ID, g.Assignee) // never sent: a new DM
		}
	}
}

// readThread reads a whole thread, page by page.
func (r *Reporter) readThread(ctx context.Context, card store.Ref) ([]slack.Message, error) {
	var out []slack.Message
	params := &slack.GetConversationRepliesParameters{ChannelID: card.Channel, Timestamp: card.TS, Limit: readBackPage}
	for range readBackMaxPages {
		var (
			page []slack.Message
			more bool
			next string
		)
		err := r.retry(ctx, func() error {
			var err error
			page, more, next, err = r.cfg.API.GetConversationRepliesContext(ctx, params)
			return err
		})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if !more || next == "" {
			return out, nil
		}
		params.Cursor = next
	}
	return nil, fmt.Errorf("thread %s has more than %d messages", card.TS, readBackPage*readBackMaxPages)
}

// retry runs call again after a 429 (waiting Retry-After) or a network
// error, a few times.
func (r *Reporter) retry(ctx context.Context, call func() error) error {
	var err error
	for attempt := range readBackRetries {
		if err = call(); err == nil {
			return nil
		}
		var se slack.SlackErrorResponse
		if errors.As(err, &se) {
			return err // Slack answered: a retry gets the same answer
		}
		wait := time.Duration(attempt+1) * time.Second
		var rl *slack.RateLimitedError
		if errors.As(err, &rl) {
			wait = rl.RetryAfter
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	return err
}

// hint says what to do about a Slack answer an operator can fix.
func hint(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) && (se.Err == "missing_scope" || se.Err == "not_allowed_token_type") {
		return "; reinstall the Slack app with the channels:history and groups:history scopes of `closebot manifest`"
	}
	return ""
}

// notice posts a notice in the request's thread, broadcast to its channel.
func (r *Reporter) notice(reqID string, card store.Ref, text string) {
	msg := blocks.Notice(text)
	r.out.Enqueue(Job{Key: r.unique(reqID + "/readback"), Priority: PriorityAction,
		Route: func(context.Context) (string, string, error) { return MethodPostMessage, card.Channel, nil },
		Send: func(ctx context.Context) error {
			opts := append(msg.MsgOptions(), slack.MsgOptionTS(card.TS), slack.MsgOptionBroadcast())
			_, _, err := r.cfg.API.PostMessageContext(ctx, card.Channel, opts...)
			return wrap("chat.postMessage read-back notice", err)
		}})
}

func asFault(err error) (*store.Fault, bool) {
	var f *store.Fault
	return f, errors.As(err, &f)
}

func highest(posted []store.Posted) store.Posted {
	var h store.Posted
	for _, p := range posted {
		if p.Seq > h.Seq {
			h = p
		}
	}
	return h
}

// Audit references closebot shows, by block id: "CT-n · #seq · mac xxxxxxxx"
// on event, step and gate messages, and the chain head on the summary.
var (
	auditRefBlocks = map[string]bool{blocks.BlockEventAudit: true, blocks.BlockStepAudit: true, blocks.BlockGateAudit: true}
	auditRefText   = regexp.MustCompile(`^#([0-9]{1,19}) · mac ([0-9a-f]{8})$`)
	summaryRefText = regexp.MustCompile(`^Audit chain head #([0-9]{1,19}) · mac ([0-9a-f]{8}) · `)
)

// postedRefs collects the audit references closebot itself posted for
// request reqID in a thread: only messages of its own bot (a person or
// another app can write "#99 · mac …" into the thread), only the context
// blocks closebot puts them in, and for events, steps and gates only those
// naming this request. Pure.
func postedRefs(reqID string, msgs []slack.Message, botUserID, botID string) []store.Posted {
	var out []store.Posted
	for _, m := range msgs {
		mine := botID != "" && m.BotID == botID
		if botID == "" {
			mine = botUserID != "" && m.User == botUserID
		}
		if !mine {
			continue
		}
		for _, b := range m.Blocks.BlockSet {
			cb, ok := b.(*slack.ContextBlock)
			if !ok {
				continue
			}
			for _, el := range cb.ContextElements.Elements {
				t, ok := el.(*slack.TextBlockObject)
				if !ok {
					continue
				}
				var sm []string
				switch {
				case auditRefBlocks[cb.BlockID]:
					rest, ok := strings.CutPrefix(t.Text, reqID+" · ")
					if !ok {
						continue
					}
					sm = auditRefText.FindStringSubmatch(rest)
				case cb.BlockID == blocks.BlockSummaryAudit:
					sm = summaryRefText.FindStringSubmatch(t.Text)
				}
				if sm == nil {
					continue
				}
				seq, err := strconv.ParseUint(sm[1], 10, 64)
				if err != nil {
					continue
				}
				out = append(out, store.Posted{Seq: seq, MAC8: sm[2], TS: m.Timestamp})
			}
		}
	}
	return out
}
