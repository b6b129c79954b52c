package outbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/slack-go/slack"

	"github.com/closebot/closebot/bot/blocks"
	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/store"
)

// RefStore keeps where each request's Slack messages are (store.DB
// implements it).
type RefStore interface {
	SetRef(ctx context.Context, requestID, name string, ref store.Ref) error
	Ref(ctx context.Context, requestID, name string) (store.Ref, bool, error)
	Refs(ctx context.Context, requestID string) (map[string]store.Ref, error)
}

// MetaStore keeps small JSON values across restarts (store.DB's meta).
type MetaStore interface {
	GetMeta(ctx context.Context, name string, v any) (bool, error)
	PutMeta(ctx context.Context, name string, v any) error
}

// ReporterConfig is what the Reporter needs.
type ReporterConfig struct {
	API    *slack.Client
	Refs   RefStore
	Store  closure.Store   // Events(id) for the seq + mac shown on each message
	Policy *closure.Policy // approvers/requesters (mentions on the pending card), keep_slack_user per tenant
	Clock  closure.Clock
	Log    *slog.Logger
	Gates  closure.GateConfig

	// Budgets default to DefaultBudgets; Timer (the outbox's time, real by
	// default, since Slack's limits run on real time) is for tests.
	Budgets *Budgets
	Timer   Timer
}

// Reporter implements closure.Reporter in Slack. Its methods only queue:
// the domain has committed the change already, and Run delivers it under
// the workspace budgets, rendering each message from the latest state.
type Reporter struct {
	cfg ReporterConfig
	out *Outbox

	mu     sync.Mutex
	latest map[string]*closure.Request // newest snapshot per request
	head   map[string]closure.Event    // newest audit event seen per request
	n      uint64                      // unique keys for one-off posts
}

var _ closure.Reporter = (*Reporter)(nil)

// NewReporter returns a Reporter; call Run to deliver what it queues.
func NewReporter(cfg ReporterConfig) *Reporter {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = closure.SystemClock{}
	}
	if cfg.Policy == nil {
		cfg.Policy = &closure.Policy{}
	}
	b := DefaultBudgets()
	if cfg.Budgets != nil {
		b = *cfg.Budgets
	}
	return &Reporter{cfg: cfg, out: NewOutbox(b, cfg.Timer, cfg.Log),
		latest: map[string]*closure.Request{}, head: map[string]closure.Event{}}
}

// Run drains the outbox under the budgets until ctx ends.
func (r *Reporter) Run(ctx context.Context) error { return r.out.Run(ctx) }

// Outbox exposes the queue (its Idle and Stats), for tests and shutdown.
func (r *Reporter) Outbox() *Outbox { return r.out }

// Flush waits until everything queued so far is delivered (or dropped).
func (r *Reporter) Flush(ctx context.Context) error {
	select {
	case <-r.out.Idle():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// observe keeps the newest snapshot of req (by version) and returns it.
func (r *Reporter) observe(req *closure.Request) *closure.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur := r.latest[req.ID]; cur != nil && cur.Version > req.Version {
		return cur
	}
	c := req.Clone()
	r.latest[req.ID] = c
	return c
}

func (r *Reporter) observeEvent(ev closure.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ev.Seq > r.head[ev.Request].Seq {
		r.head[ev.Request] = ev
	}
}

// snapshot returns the newest known state of request id.
func (r *Reporter) snapshot(ctx context.Context, id string) (*closure.Request, error) {
	r.mu.Lock()
	req := r.latest[id]
	r.mu.Unlock()
	if req != nil {
		return req, nil
	}
	got, err := r.cfg.Store.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", id, err)
	}
	return r.observe(got), nil
}

// lastEvent is the newest audit event of request id (its seq and mac go
// on step and gate messages).
func (r *Reporter) lastEvent(ctx context.Context, id string) closure.Event {
	r.mu.Lock()
	ev, ok := r.head[id]
	r.mu.Unlock()
	if ok {
		return ev
	}
	evs, err := r.cfg.Store.Events(ctx, id)
	if err != nil || len(evs) == 0 {
		return closure.Event{}
	}
	r.observeEvent(evs[len(evs)-1])
	return evs[len(evs)-1]
}

func (r *Reporter) unique(prefix string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	return prefix + "." + strconv.FormatUint(r.n, 10)
}

// target says where a message goes.
type target struct {
	reqID   string
	ref     string // ref name to keep ("" = none)
	edit    bool   // edit the message named ref in place when there is one
	channel string // where a new message is posted: a channel or a user id (DM)
	thread  bool   // as a reply in the request card's thread
	bcast   bool   // reply_broadcast
}

// enqueue queues msg for t under key; render runs at send time, so the
// latest state wins when renders coalesce.
func (r *Reporter) enqueue(key string, prio Priority, t target, render func(ctx context.Context) (blocks.Message, error)) {
	r.out.Enqueue(Job{
		Key: key, Priority: prio,
		Route: func(ctx context.Context) (string, string, error) { return r.route(ctx, t) },
		Send: func(ctx context.Context) error {
			msg, err := render(ctx)
			if err != nil {
				return err
			}
			return r.deliver(ctx, t, msg)
		},
	})
}

func (r *Reporter) route(ctx context.Context, t target) (string, string, error) {
	if t.edit && t.ref != "" {
		ref, ok, err := r.cfg.Refs.Ref(ctx, t.reqID, t.ref)
		if err != nil {
			return "", "", err
		}
		if ok {
			return MethodUpdate, ref.Channel, nil
		}
	}
	return MethodPostMessage, t.channel, nil
}

// lost reports a Slack answer meaning the message (or its channel) is gone.
func lost(err error) bool {
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) {
		return false
	}
	switch se.Err {
	case "message_not_found", "channel_not_found", "cant_update_message", "thread_not_found":
		return true
	}
	return false
}

// deliver edits the message t names in place, or posts it (again, when
// the old one is lost) and keeps its ref.
func (r *Reporter) deliver(ctx context.Context, t target, msg blocks.Message) error {
	opts := msg.MsgOptions()
	if t.edit && t.ref != "" {
		ref, ok, err := r.cfg.Refs.Ref(ctx, t.reqID, t.ref)
		if err != nil {
			return err
		}
		if ok {
			_, _, _, err := r.cfg.API.UpdateMessageContext(ctx, ref.Channel, ref.TS, opts...)
			if err == nil || !lost(err) {
				return wrap("chat.update "+t.ref, err)
			}
			r.cfg.Log.Warn("slack message lost; posting it again", "request", t.reqID, "ref", t.ref, "err", err)
		}
	}
	ch, ts, err := r.post(ctx, t, opts)
	if err != nil {
		return err
	}
	if t.ref != "" {
		if err := r.cfg.Refs.SetRef(ctx, t.reqID, t.ref, store.Ref{Channel: ch, TS: ts}); err != nil {
			return fmt.Errorf("keep ref %s/%s: %w", t.reqID, t.ref, err)
		}
	}
	return nil
}

func (r *Reporter) post(ctx context.Context, t target, opts []slack.MsgOption) (string, string, error) {
	if !t.thread {
		ch, ts, err := r.cfg.API.PostMessageContext(ctx, t.channel, opts...)
		return ch, ts, wrap("chat.postMessage "+t.ref, err)
	}
	for attempt := 0; ; attempt++ {
		parent, err := r.thread(ctx, t.reqID, attempt > 0)
		if err != nil {
			return "", "", err
		}
		o := append(append([]slack.MsgOption{}, opts...), slack.MsgOptionTS(parent))
		if t.bcast {
			o = append(o, slack.MsgOptionBroadcast())
		}
		ch, ts, err := r.cfg.API.PostMessageContext(ctx, t.channel, o...)
		if err != nil && lost(err) && attempt == 0 {
			// The thread's parent is gone: post the card again, reply under it.
			r.cfg.Log.Warn("request thread lost; posting the card again", "request", t.reqID, "err", err)
			continue
		}
		return ch, ts, wrap("chat.postMessage thread reply "+t.ref, err)
	}
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// thread returns the ts of the request's card, posting the card first if
// it was never posted (or again, with repost, when its thread is lost).
func (r *Reporter) thread(ctx context.Context, id string, repost bool) (string, error) {
	if !repost {
		ref, ok, err := r.cfg.Refs.Ref(ctx, id, RefCard)
		if err != nil {
			return "", err
		}
		if ok {
			return ref.TS, nil
		}
	}
	req, err := r.snapshot(ctx, id)
	if err != nil {
		return "", err
	}
	msg, err := r.renderCard(ctx, req.ID)
	if err != nil {
		return "", err
	}
	ch, ts, err := r.cfg.API.PostMessageContext(ctx, req.Channel, msg.MsgOptions()...)
	if err != nil {
		return "", wrap("chat.postMessage card", err)
	}
	if err := r.cfg.Refs.SetRef(ctx, id, RefCard, store.Ref{Channel: ch, TS: ts}); err != nil {
		return "", fmt.Errorf("keep card ref of %s: %w", id, err)
	}
	return ts, nil
}

// Ref names (store.Ref per request).
const (
	// RefCard names the request card, whose thread holds the rest.
	RefCard    = "card"
	refSummary = "summary"
	refSignIn  = "dm.signin"
)

func stepRefName(n int) string     { return "step." + strconv.Itoa(n) }
func gateRefName(id string) string { return "gate." + id }

// GateDMRef names the DM of gate id to its assignee.
func GateDMRef(id string) string { return "dm.gate." + id }

// ButtonRef reports whether a ref names a message that carries buttons:
// the card, a step's or a gate's thread message, a gate's DM.
func ButtonRef(name string) bool {
	return name == RefCard || strings.HasPrefix(name, "step.") || strings.HasPrefix(name, "gate.") ||
		strings.HasPrefix(name, "dm.gate.")
}
func key(reqID, name string) string {
	return reqID + "/" + name
}

// queueCard queues the card's render (edited in place, posted on first sight).
func (r *Reporter) queueCard(req *closure.Request) { r.queueCardAt(req, PriorityAction) }

func (r *Reporter) queueCardAt(req *closure.Request, prio Priority) {
	r.enqueue(key(req.ID, RefCard), prio,
		target{reqID: req.ID, ref: RefCard, edit: true, channel: req.Channel},
		func(ctx context.Context) (blocks.Message, error) { return r.renderCard(ctx, req.ID) })
}

// RequestChanged renders the request card and tells the thread about ev.
func (r *Reporter) RequestChanged(ctx context.Context, req *closure.Request, ev closure.Event) error {
	req = r.observe(req)
	r.observeEvent(ev)
	if ev.Action.IsProgress() && ev.From == ev.To {
		// Progress only counts objects: the card is re-rendered (its
		// buttons carry the version) as a progress edit, so it never
		// crowds out action messages.
		r.queueCardAt(req, PriorityProgress)
	} else {
		r.queueCard(req)
	}
	if ev.From != ev.To {
		r.redrawButtons(ctx, req)
	}
	if (ev.Action == closure.EvStepsStart || ev.Action == closure.EvStepDone) && req.Step >= 1 {
		// The new step's message takes its place in the thread now, right
		// after what came before it.
		r.queueStep(req.ID, req.Channel, req.Step, PriorityAction)
	}
	if msg, ok := blocks.Event(eventViewOf(req, ev, r.cfg.Policy)); ok {
		r.enqueue(key(req.ID, "event."+strconv.FormatUint(ev.Seq, 10)), PriorityAction,
			target{reqID: req.ID, channel: req.Channel, thread: true},
			func(context.Context) (blocks.Message, error) { return msg, nil })
	}
	if ev.From != ev.To && endsForRequester(ev.To) && blocks.ValidUserID(req.Requester) {
		msg := requesterDMOf(req, ev)
		r.enqueue(key(req.ID, "dm.end."+strconv.FormatUint(ev.Seq, 10)), PriorityAction,
			target{reqID: req.ID, channel: req.Requester},
			func(context.Context) (blocks.Message, error) { return msg, nil })
	}
	return nil
}

// redrawButtons re-renders, after a state change, the posted messages whose
// buttons depend on the state (open gates, thread and DM, and the current
// step's message), so no message keeps a button the new state refuses.
func (r *Reporter) redrawButtons(ctx context.Context, req *closure.Request) {
	refs, err := r.cfg.Refs.Refs(ctx, req.ID)
	if err != nil {
		r.cfg.Log.WarnContext(ctx, "read refs to redraw buttons", "request", req.ID, "err", err)
		return
	}
	for _, g := range req.Gates {
		if !g.IsOpen() {
			continue
		}
		if _, ok := refs[gateRefName(g.ID)]; ok {
			r.queueGate(req, g.ID)
		}
		if ref, ok := refs[GateDMRef(g.ID)]; ok {
			r.queueGateDM(req, g.ID, ref.Channel)
		}
	}
	if n := req.Step; n >= 1 {
		if _, ok := refs[stepRefName(n)]; ok {
			r.queueStep(req.ID, req.Channel, n, PriorityAction)
		}
	}
}

// endsForRequester: states the requester hears about by DM.
func endsForRequester(s closure.State) bool {
	switch s {
	case closure.StateClosed, closure.StateRejected, closure.StateCancelled, closure.StateExpired,
		closure.StateAborted, closure.StateFailed:
		return true
	}
	return false
}

// StepProgress renders one step's thread message, edited in place.
func (r *Reporter) StepProgress(ctx context.Context, req *closure.Request, step closure.StepProgress) error {
	req = r.observe(req)
	n := step.Step
	prio := PriorityProgress
	if step.Status == closure.StepDone || step.Status == closure.StepFailed || step.AwaitingConfirmation ||
		(n == closure.StepDeleteDirectory && purgeOffered(req)) {
		prio = PriorityAction
	}
	r.queueStep(req.ID, req.Channel, n, prio)
	return nil
}

// queueStep queues step n's thread message, edited in place (posted on
// first sight).
func (r *Reporter) queueStep(id, channel string, n int, prio Priority) {
	r.enqueue(key(id, stepRefName(n)), prio,
		target{reqID: id, ref: stepRefName(n), edit: true, channel: channel, thread: true},
		func(ctx context.Context) (blocks.Message, error) { return r.renderStep(ctx, id, n) })
}

// GateOpened posts a gate's thread message and DMs its assignee.
func (r *Reporter) GateOpened(ctx context.Context, req *closure.Request, g closure.Gate) error {
	req = r.observe(req)
	r.queueGate(req, g.ID)
	if blocks.ValidUserID(g.Assignee) {
		r.enqueue(key(req.ID, GateDMRef(g.ID)), PriorityAction,
			target{reqID: req.ID, ref: GateDMRef(g.ID), edit: true, channel: g.Assignee},
			func(ctx context.Context) (blocks.Message, error) { return r.renderGate(ctx, req.ID, g.ID) })
	}
	return nil
}

// GateUpdated edits a gate's thread message, and its DM if one was sent.
func (r *Reporter) GateUpdated(ctx context.Context, req *closure.Request, g closure.Gate) error {
	req = r.observe(req)
	r.queueGate(req, g.ID)
	if ref, ok, err := r.cfg.Refs.Ref(ctx, req.ID, GateDMRef(g.ID)); err == nil && ok {
		// Only edited: the DM exists (its D… channel is in the ref).
		r.queueGateDM(req, g.ID, ref.Channel)
	}
	return nil
}

// queueGateDM edits a gate's DM, posted earlier in the D… channel given.
func (r *Reporter) queueGateDM(req *closure.Request, gateID, channel string) {
	r.enqueue(key(req.ID, GateDMRef(gateID)), PriorityAction,
		target{reqID: req.ID, ref: GateDMRef(gateID), edit: true, channel: channel},
		func(ctx context.Context) (blocks.Message, error) { return r.renderGate(ctx, req.ID, gateID) })
}

func (r *Reporter) queueGate(req *closure.Request, gateID string) {
	r.enqueue(key(req.ID, gateRefName(gateID)), PriorityAction,
		target{reqID: req.ID, ref: gateRefName(gateID), edit: true, channel: req.Channel, thread: true},
		func(ctx context.Context) (blocks.Message, error) { return r.renderGate(ctx, req.ID, gateID) })
}

// SignInCode DMs the kept admin the device-code message. Each code is a
// new DM (a new notification); the ref keeps the latest one's D… channel.
func (r *Reporter) SignInCode(ctx context.Context, req *closure.Request, userID, message string) error {
	req = r.observe(req)
	if !blocks.ValidUserID(userID) {
		return fmt.Errorf("sign-in code for %s: %q is not a Slack user id", req.ID, userID)
	}
	msg := r.renderSignIn(req, userID, message)
	r.enqueue(key(req.ID, r.unique(refSignIn)), PriorityAction,
		target{reqID: req.ID, ref: refSignIn, channel: userID},
		func(context.Context) (blocks.Message, error) { return msg, nil })
	return nil
}

// Summary posts the closing summary in the thread, broadcast to the
// channel, and edits the card to "Closed".
func (r *Reporter) Summary(ctx context.Context, req *closure.Request, s closure.Summary) error {
	req = r.observe(req)
	msg := blocks.ClosingSummary(blocks.SummaryView{Summary: s, TenantID: req.TenantID})
	r.enqueue(key(req.ID, refSummary), PriorityAction,
		target{reqID: req.ID, ref: refSummary, edit: true, channel: req.Channel, thread: true, bcast: true},
		func(context.Context) (blocks.Message, error) { return msg, nil })
	r.queueCard(req)
	return nil
}

// PostPlan posts the full plan in the request's thread, right after the card.
func (r *Reporter) PostPlan(ctx context.Context, req *closure.Request, plan *closure.Plan) error {
	req = r.observe(req)
	if plan == nil {
		return nil
	}
	r.queueCard(req)
	for i, m := range blocks.PlanDetail(req.ID, planGroups(plan)) {
		r.enqueue(key(req.ID, "plan."+strconv.Itoa(i)), PriorityAction,
			target{reqID: req.ID, channel: req.Channel, thread: true},
			func(context.Context) (blocks.Message, error) { return m, nil })
	}
	return nil
}

// Announce posts a plain notice in a channel (config changes, connection warnings).
func (r *Reporter) Announce(ctx context.Context, channel, text string) error {
	msg := blocks.Notice(text)
	r.enqueueMessage(channel, msg)
	return nil
}

// AnnounceAll queues the same plain notice in each channel.
func (r *Reporter) AnnounceAll(channels []string, text string) {
	msg := blocks.Notice(text)
	for _, c := range channels {
		r.enqueueMessage(c, msg)
	}
}

// enqueueMessage queues a one-off channel message that belongs to no request.
func (r *Reporter) enqueueMessage(channel string, msg blocks.Message) {
	k := r.unique("notice")
	r.out.Enqueue(Job{Key: k, Priority: PriorityAction,
		Route: func(context.Context) (string, string, error) { return MethodPostMessage, channel, nil },
		Send: func(ctx context.Context) error {
			_, _, err := r.cfg.API.PostMessageContext(ctx, channel, msg.MsgOptions()...)
			return wrap("chat.postMessage notice", err)
		}})
}
