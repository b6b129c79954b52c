package bot

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/closebot/closebot/bot/blocks"
)

// job is one acknowledged envelope waiting for a worker.
type job struct {
	kind   string // jobSlash, jobAction, jobApprove, jobReject, jobRefuse
	o      origin
	appID  string // the app id learned from the hello current at receipt
	paused bool   // the current hello reported more than one connection
	slash  slack.SlashCommand
	cb     slack.InteractionCallback
	meta   blocks.Metadata // approve / reject submissions
	reason string          // reject submissions
	err    error           // jobRefuse: what to say
	// replyIn is the request's channel for answers to a submission or a
	// DM click (set once known).
	replyIn string
}

const (
	jobSlash   = "slash"
	jobAction  = "action"
	jobApprove = "approve"
	jobReject  = "reject"
	jobRefuse  = "refuse"
)

// Watch is told how the socket stands and how fast envelopes are acked
// (closebot's /readyz and /metrics); every field is optional.
type Watch struct {
	// Socket: connected is true from a hello on, false from the moment
	// the socket is lost, a reconnect starts or the loop ends;
	// numConnections is the current hello's num_connections.
	Socket func(connected bool, numConnections int)
	// Ack: the time from an envelope's receipt to its ack being queued.
	Ack func(envelopeType string, d time.Duration)
}

func (w Watch) socket(connected bool, n int) {
	if w.Socket != nil {
		w.Socket(connected, n)
	}
}

// receipt is when the envelope being handled arrived, carried in ctx to ack.
type receipt struct {
	at   time.Time
	kind string
}

type receiptKey struct{}

// session is one socketmode.Client and the goroutine running it.
type session struct {
	sm   *socketmode.Client
	stop context.CancelFunc
	done chan struct{} // closed when RunContext returned (its socket is closed)
	err  error         // RunContext's error, read after done
}

func (b *Bot) openSession(ctx context.Context) *session {
	sctx, stop := context.WithCancel(ctx)
	s := &session{sm: socketmode.New(b.api, b.cfg.SocketOptions...), stop: stop, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.err = s.sm.RunContext(sctx)
	}()
	return s
}

// loop reads the socket's events until ctx ends or the socket fails. While
// the current hello reports more than one connection it closes its socket
// and opens a new one after a delay (doubling, capped), to count again:
// right after a disconnect Slack may still count the socket it dropped,
// and closebot would otherwise stay paused until Slack's next refresh,
// hours later. A real second instance is counted every time.
func (b *Bot) loop(ctx context.Context, jobs chan<- job) error {
	delay, maxDelay := b.cfg.Recheck, 32*b.cfg.Recheck
	defer b.cfg.Watch.socket(false, 0)
	for {
		s := b.openSession(ctx)
		var recheck <-chan time.Time
	events:
		for {
			select {
			case <-ctx.Done():
				s.stop()
				<-s.done
				return nil
			case <-s.done:
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("slack socket: %w", s.err)
			case <-recheck:
				break events
			case evt := <-s.sm.Events:
				b.event(ctx, s.sm, evt, jobs)
				switch evt.Type {
				case socketmode.EventTypeConnecting, socketmode.EventTypeConnectionError, socketmode.EventTypeDisconnect,
					socketmode.EventTypeInvalidAuth:
					// Lost, told to leave, or (re)connecting: not
					// connected until the next hello.
					b.cfg.Watch.socket(false, b.connections())
				}
				if evt.Type != socketmode.EventTypeHello {
					continue
				}
				b.cfg.Watch.socket(true, b.connections())
				if b.connections() > 1 {
					if recheck == nil {
						recheck = b.after(delay)
						delay = min(2*delay, maxDelay)
					}
				} else {
					recheck, delay = nil, b.cfg.Recheck
				}
			}
		}
		// The old socket is closed before the new one opens, so the new
		// hello cannot count it (unless Slack has not noticed yet: then
		// the next recheck will). Envelopes it had not handed over are
		// redelivered by Slack, unacked.
		b.log.InfoContext(ctx, "reconnecting to count the connections again")
		b.cfg.Watch.socket(false, b.connections())
		s.stop()
		<-s.done
	}
}

// connections is num_connections of the current hello.
func (b *Bot) connections() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.conns
}

// event acks an envelope at once (a view submission after its local
// validation only) and hands the work to the pool.
func (b *Bot) event(ctx context.Context, sm *socketmode.Client, evt socketmode.Event, jobs chan<- job) {
	switch evt.Type {
	case socketmode.EventTypeHello:
		if evt.Request != nil {
			b.hello(ctx, evt.Request)
		}
		return
	case socketmode.EventTypeConnectionError, socketmode.EventTypeInvalidAuth, socketmode.EventTypeIncomingError,
		socketmode.EventTypeErrorWriteFailed, socketmode.EventTypeErrorBadMessage:
		b.log.WarnContext(ctx, "socket", "event", string(evt.Type), "detail", redact(fmt.Sprint(evt.Data)))
		return
	case socketmode.EventTypeConnected:
		b.log.InfoContext(ctx, "socket connected")
		return
	}
	if evt.Request == nil || evt.Request.EnvelopeID == "" {
		return
	}
	req := evt.Request
	ctx = context.WithValue(ctx, receiptKey{}, receipt{at: time.Now(), kind: string(evt.Type)})
	b.mu.Lock()
	appID, paused := b.appID, b.conns > 1
	b.mu.Unlock()
	j := job{appID: appID, paused: paused}

	switch evt.Type {
	case socketmode.EventTypeSlashCommand:
		b.ack(ctx, sm, req, nil)
		cmd, _ := evt.Data.(slack.SlashCommand)
		j.kind, j.slash = jobSlash, cmd
		j.o = origin{envelope: req.EnvelopeID, appID: cmd.APIAppID, teamID: cmd.TeamID, user: cmd.UserID, channel: cmd.ChannelID}
	case socketmode.EventTypeInteractive:
		cb, _ := evt.Data.(slack.InteractionCallback)
		j.cb = cb
		j.o = origin{envelope: req.EnvelopeID, appID: cb.APIAppID, teamID: cb.Team.ID, user: cb.User.ID}
		switch cb.Type {
		case slack.InteractionTypeViewSubmission:
			if !b.submission(ctx, sm, req, &j) {
				return
			}
		case slack.InteractionTypeBlockActions:
			b.ack(ctx, sm, req, nil)
			j.kind = jobAction
			j.o.channel = cb.Channel.ID
			if j.o.channel == "" {
				j.o.channel = cb.Container.ChannelID
			}
		default:
			b.ack(ctx, sm, req, nil) // view_closed, shortcuts...: nothing to do
			return
		}
	default:
		b.ack(ctx, sm, req, nil) // events_api and anything else: not used
		return
	}
	// The envelope is acked already; a full queue only delays the acks of
	// the envelopes behind it, never this one's.
	select {
	case jobs <- j:
	case <-ctx.Done():
	}
}

func (b *Bot) ack(ctx context.Context, sm *socketmode.Client, req *socketmode.Request, payload any) {
	// AckCtx: a socket going away must not block the loop (and shutdown)
	// on a full response queue.
	err := sm.AckCtx(ctx, req.EnvelopeID, payload)
	if err != nil {
		b.log.WarnContext(ctx, "ack", "envelope", req.EnvelopeID, "err", err)
		return
	}
	if r, ok := ctx.Value(receiptKey{}).(receipt); ok && b.cfg.Watch.Ack != nil {
		b.cfg.Watch.Ack(r.kind, time.Since(r.at))
	}
}

// hello learns the app id and how many sockets Slack sees. With more than
// one, another closebot may be connected: refuse to act until a later
// hello reports this one alone (DESIGN §3). The channels are warned once a
// second hello in a row, after a reconnect, still counts more than one; a
// count that was only Slack still holding a dropped socket raises no alarm.
func (b *Bot) hello(ctx context.Context, req *socketmode.Request) {
	n := req.NumConnections
	b.mu.Lock()
	prev := b.conns
	b.appID, b.conns = req.ConnectionInfo.AppID, n
	var text string
	another := false
	switch {
	case n > 1 && prev > 1 && !b.warned:
		b.warned, another = true, true
		text = "Slack reports " + strconv.Itoa(n) + " connections for closebot: another instance is running. " +
			"closebot refuses to act until it is connected alone; stop the other instance."
	case n <= 1 && b.warned:
		b.warned = false
		text = "closebot is connected alone again and acts on requests."
	}
	b.mu.Unlock()
	b.log.InfoContext(ctx, "hello", "app_id", req.ConnectionInfo.AppID, "num_connections", n)
	if n > 1 {
		b.log.WarnContext(ctx, "more than one connection; refusing to act", "num_connections", n)
	}
	if text == "" {
		return
	}
	b.runWG.Add(1)
	go func() {
		defer b.runWG.Done()
		b.announce(ctx, text)
		if another && b.deps.OnAnotherInstance != nil {
			// Refusing envelopes does not stop closures already running.
			b.deps.OnAnotherInstance(ctx)
		}
	}()
}

// work runs jobs until ctx ends.
func (b *Bot) work(ctx context.Context, jobs <-chan job) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-jobs:
			b.do(ctx, j)
		}
	}
}

// do runs one job: dedupe, envelope checks, then its handler; every
// refusal and error is answered to the person.
func (b *Bot) do(ctx context.Context, j job) {
	defer func() {
		if p := recover(); p != nil {
			b.log.ErrorContext(ctx, "handler panic", "envelope", j.o.envelope, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	first, err := b.deps.Store.SeenEnvelope(ctx, j.o.envelope, b.now())
	if err != nil {
		// Only an optimisation: the domain's compare-and-set still guards.
		b.log.WarnContext(ctx, "envelope dedupe", "envelope", j.o.envelope, "err", err)
	} else if !first {
		b.log.InfoContext(ctx, "redelivered envelope ignored", "envelope", j.o.envelope)
		return
	}
	if err := b.checkEnvelope(j.o, j.appID); err != nil {
		if errors.Is(err, errDrop) {
			b.log.WarnContext(ctx, "envelope refused", "envelope", j.o.envelope, "user", j.o.user, "err", err)
			return
		}
		b.answerErr(ctx, &j, err)
		return
	}
	// Paused at receipt, or by a hello that came while the job waited.
	if j.paused || b.connections() > 1 {
		b.answerErr(ctx, &j, errPausedElsewhere)
		return
	}
	switch j.kind {
	case jobSlash:
		err = b.slashCommand(ctx, &j)
	case jobAction:
		err = b.action(ctx, &j)
	case jobApprove:
		err = b.approve(ctx, &j)
	case jobReject:
		err = b.reject(ctx, &j)
	case jobRefuse:
		err = j.err
	}
	if err != nil {
		b.answerErr(ctx, &j, err)
	}
}

// answerErr tells the person why nothing happened.
func (b *Bot) answerErr(ctx context.Context, j *job, err error) {
	if ctx.Err() != nil {
		return
	}
	words := explain(b.log, err, "envelope", j.o.envelope, "user", j.o.user, "kind", j.kind)
	b.log.InfoContext(ctx, "refused", "envelope", j.o.envelope, "user", j.o.user, "kind", j.kind, "why", err.Error())
	b.answer(ctx, j, blocks.Refusal(words))
}

// answer shows msg to the person only: ephemeral where the envelope came
// from (or in the request's channel for a submission), else as a DM.
func (b *Bot) answer(ctx context.Context, j *job, msg blocks.Message) {
	if j.o.user == "" {
		return
	}
	// A click in a DM is answered in the DM; a submission (no channel) in
	// the channel of the request it names.
	ch := j.o.channel
	if ch == "" {
		ch = j.replyIn
	}
	if ch != "" && !isDM(ch) {
		_, err := b.api.PostEphemeralContext(ctx, ch, j.o.user, msg.MsgOptions()...)
		if err == nil {
			return
		}
		b.log.WarnContext(ctx, "ephemeral answer", "channel", ch, "user", j.o.user, "err", err)
	}
	// A DM to the user id lands in the bot's App Home DM.
	if _, _, err := b.api.PostMessageContext(ctx, j.o.user, msg.MsgOptions()...); err != nil {
		b.log.WarnContext(ctx, "DM answer", "user", j.o.user, "err", err)
	}
}

// secretish matches tokens and the socket URL's ticket, which a dial or
// auth error may quote; logs never get them.
var secretish = regexp.MustCompile(`(?i)(xox[a-z]-|xapp-)[a-z0-9-]+|(ticket|token)=[^&\s"]+`)

func redact(s string) string { return secretish.ReplaceAllString(s, "[redacted]") }
