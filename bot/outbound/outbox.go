package outbound

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// Priority orders delivery: action and terminal messages (cards with
// buttons, gates, summaries, DMs) go before progress edits.
type Priority int

// Priorities, most urgent first.
const (
	PriorityAction Priority = iota
	PriorityProgress
)

// Slack methods the outbox budgets.
const (
	MethodPostMessage   = "chat.postMessage"
	MethodUpdate        = "chat.update"
	MethodPostEphemeral = "chat.postEphemeral"
	MethodViews         = "views"
)

// Budget is one token bucket: Burst calls at once, refilled at PerMinute.
// A zero PerMinute means unlimited.
type Budget struct {
	PerMinute float64
	Burst     int
}

// Budgets are the workspace-wide call budgets (DESIGN §10; slack-wire §5).
type Budgets struct {
	Update     Budget // chat.update, Tier 3
	Post       Budget // chat.postMessage, whole workspace
	PerChannel Budget // chat.postMessage, per channel (1 message/s)
	Ephemeral  Budget // chat.postEphemeral, Tier 4
	Views      Budget // views.*, Tier 4
}

// DefaultBudgets stay under Slack's published floors.
func DefaultBudgets() Budgets {
	return Budgets{
		Update:     Budget{PerMinute: 50, Burst: 5},
		Post:       Budget{PerMinute: 300, Burst: 10},
		PerChannel: Budget{PerMinute: 60, Burst: 3},
		Ephemeral:  Budget{PerMinute: 100, Burst: 5},
		Views:      Budget{PerMinute: 100, Burst: 5},
	}
}

// Timer is the outbox's time: real time by default, since Slack's limits
// run on it; tests inject their own.
type Timer interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realTimer struct{}

func (realTimer) Now() time.Time                         { return time.Now() }
func (realTimer) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Job is one message to deliver. Route names the method and channel its
// next attempt uses (it may change once a first post stored a ref); Send
// renders the latest state and makes the call(s).
type Job struct {
	Key      string
	Priority Priority
	Route    func(ctx context.Context) (method, channel string, err error)
	Send     func(ctx context.Context) error
}

type queued struct {
	Job
	seq       uint64
	attempts  int
	notBefore time.Time
}

// maxAttempts bounds retries of a job failing with anything but 429.
const maxAttempts = 4

// Outbox delivers jobs one at a time under the budgets. A job whose key is
// already queued replaces it (latest state wins) and keeps its place.
type Outbox struct {
	budgets Budgets
	timer   Timer
	log     *slog.Logger

	mu       sync.Mutex
	seq      uint64
	queue    []*queued
	inFlight string
	buckets  map[string]*bucket
	blocked  map[string]time.Time // method → Retry-After end
	wake     chan struct{}
	idle     chan struct{} // closed when the queue is empty and nothing is in flight
	sent     int
	dropped  int
}

// NewOutbox returns an empty outbox; a nil timer means real time.
func NewOutbox(b Budgets, t Timer, log *slog.Logger) *Outbox {
	if t == nil {
		t = realTimer{}
	}
	if log == nil {
		log = slog.Default()
	}
	idle := make(chan struct{})
	close(idle)
	return &Outbox{budgets: b, timer: t, log: log, buckets: map[string]*bucket{},
		blocked: map[string]time.Time{}, wake: make(chan struct{}, 1), idle: idle}
}

// Enqueue adds j, or replaces the queued job with the same key.
func (o *Outbox) Enqueue(j Job) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.queueEmptyLocked() {
		o.idle = make(chan struct{})
	}
	for _, q := range o.queue {
		if q.Key == j.Key {
			prio := min(q.Priority, j.Priority)
			q.Job, q.Priority = j, prio
			q.attempts, q.notBefore = 0, time.Time{}
			o.signal()
			return
		}
	}
	o.seq++
	o.queue = append(o.queue, &queued{Job: j, seq: o.seq})
	o.signal()
}

func (o *Outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *Outbox) queueEmptyLocked() bool { return len(o.queue) == 0 && o.inFlight == "" }

// Idle returns a channel closed once nothing is queued or in flight.
func (o *Outbox) Idle() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.idle
}

// Len is the number of queued jobs.
func (o *Outbox) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.queue)
}

// Stats returns how many jobs were delivered and dropped.
func (o *Outbox) Stats() (sent, dropped int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.sent, o.dropped
}

// Run delivers jobs until ctx ends.
func (o *Outbox) Run(ctx context.Context) error {
	for {
		q, method, wait := o.next(ctx)
		if q == nil {
			var timeout <-chan time.Time
			if wait > 0 {
				timeout = o.timer.After(wait)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-o.wake:
			case <-timeout:
			}
			continue
		}
		err := q.Send(ctx)
		if ctx.Err() != nil {
			return nil
		}
		o.finish(q, method, err)
	}
}

// next picks the most urgent job whose budget allows a call now, or says
// how long to wait for one.
func (o *Outbox) next(ctx context.Context) (*queued, string, time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.timer.Now()
	var wake time.Time
	later := func(t time.Time) {
		if wake.IsZero() || t.Before(wake) {
			wake = t
		}
	}
	// New posts in one channel (a thread's replies, a DM) keep the order
	// they were first queued in, whatever their priority: a thread is read
	// top to bottom, as the audit sequence it mirrors. Edits coalesce and
	// go by priority.
	routes := make(map[*queued][2]string, len(o.queue))
	firstPost := map[string]uint64{} // channel → seq of its oldest queued new post
	for _, q := range o.queue {
		method, channel, err := q.Route(ctx)
		if err != nil {
			// Let Send meet the same error and count the attempt.
			method, channel = "", ""
		}
		routes[q] = [2]string{method, channel}
		if method == MethodPostMessage && channel != "" {
			if s, ok := firstPost[channel]; !ok || q.seq < s {
				firstPost[channel] = q.seq
			}
		}
	}
	for _, q := range o.ordered() {
		method, channel := routes[q][0], routes[q][1]
		if method == MethodPostMessage && channel != "" && firstPost[channel] != q.seq {
			continue // an older new post in this channel goes first
		}
		if q.notBefore.After(now) {
			later(q.notBefore)
			continue
		}
		if at := o.readyAt(method, channel, now); at.After(now) {
			later(at)
			continue
		}
		o.take(method, channel, now)
		o.remove(q)
		o.inFlight = q.Key
		return q, method, 0
	}
	if wake.IsZero() {
		return nil, "", 0
	}
	return nil, "", max(wake.Sub(now), time.Millisecond)
}

// ordered is the queue by priority, then first-enqueue order.
func (o *Outbox) ordered() []*queued {
	out := make([]*queued, 0, len(o.queue))
	for p := PriorityAction; p <= PriorityProgress; p++ {
		for _, q := range o.queue {
			if q.Priority == p {
				out = append(out, q)
			}
		}
	}
	return out
}

func (o *Outbox) remove(q *queued) {
	for i, x := range o.queue {
		if x == q {
			o.queue = append(o.queue[:i], o.queue[i+1:]...)
			return
		}
	}
}

func (o *Outbox) finish(q *queued, method string, err error) {
	o.mu.Lock()
	defer func() {
		if o.queueEmptyLocked() {
			close(o.idle)
		}
		o.mu.Unlock()
	}()
	o.inFlight = ""
	if err == nil {
		o.sent++
		return
	}
	now := o.timer.Now()
	superseded := false
	for _, x := range o.queue {
		superseded = superseded || x.Key == q.Key
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		// Slack's limit applies to the method: hold every job using it.
		until := now.Add(max(rl.RetryAfter, time.Second))
		if method != "" && until.After(o.blocked[method]) {
			o.blocked[method] = until
		}
		o.log.Info("slack rate limited; retrying", "key", q.Key, "method", method, "retry_after", rl.RetryAfter)
		if !superseded {
			q.notBefore = until
			o.queue = append(o.queue, q)
		}
		return
	}
	q.attempts++
	if superseded {
		// The newer job renders the latest state; it is the retry.
		o.log.Warn("slack message failed; a newer one is queued", "key", q.Key, "err", err)
		return
	}
	if permanent(err) || q.attempts >= maxAttempts {
		o.dropped++
		o.log.Error("slack message dropped", "key", q.Key, "attempts", q.attempts, "err", err)
		return
	}
	q.notBefore = now.Add(time.Duration(1<<(q.attempts-1)) * time.Second)
	o.log.Warn("slack message failed; retrying", "key", q.Key, "attempt", q.attempts, "err", err)
	o.queue = append(o.queue, q)
}

// permanent reports a Slack refusal that no retry can change.
func permanent(err error) bool {
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) {
		return false
	}
	switch se.Err {
	case "invalid_blocks", "invalid_blocks_format", "msg_too_long", "no_text", "invalid_arguments",
		"not_in_channel", "is_archived", "invalid_auth", "account_inactive", "token_revoked", "not_authed",
		"restricted_action", "user_not_found":
		return true
	}
	return false
}

type bucket struct {
	tokens, capacity, perSec float64
	last                     time.Time
}

func (b *bucket) refill(now time.Time) {
	if now.After(b.last) {
		b.tokens = math.Min(b.capacity, b.tokens+now.Sub(b.last).Seconds()*b.perSec)
		b.last = now
	}
}

// readyAt is when one token is available.
func (b *bucket) readyAt(now time.Time) time.Time {
	b.refill(now)
	if b.tokens >= 1 {
		return now
	}
	return now.Add(time.Duration((1 - b.tokens) / b.perSec * float64(time.Second)))
}

func (o *Outbox) bucketFor(key string, bd Budget, now time.Time) *bucket {
	if bd.PerMinute <= 0 {
		return nil
	}
	b := o.buckets[key]
	if b == nil {
		c := float64(max(bd.Burst, 1))
		b = &bucket{tokens: c, capacity: c, perSec: bd.PerMinute / 60, last: now}
		o.buckets[key] = b
	}
	return b
}

// bucketsFor are the buckets a call spends: its method's, and for
// chat.postMessage its channel's too.
func (o *Outbox) bucketsFor(method, channel string, now time.Time) []*bucket {
	var out []*bucket
	add := func(b *bucket) {
		if b != nil {
			out = append(out, b)
		}
	}
	switch method {
	case MethodPostMessage:
		add(o.bucketFor("method:"+method, o.budgets.Post, now))
		if channel != "" {
			add(o.bucketFor("channel:"+channel, o.budgets.PerChannel, now))
		}
	case MethodUpdate:
		add(o.bucketFor("method:"+method, o.budgets.Update, now))
	case MethodPostEphemeral:
		add(o.bucketFor("method:"+method, o.budgets.Ephemeral, now))
	case MethodViews:
		add(o.bucketFor("method:"+method, o.budgets.Views, now))
	}
	return out
}

func (o *Outbox) readyAt(method, channel string, now time.Time) time.Time {
	at := now
	if until := o.blocked[method]; until.After(at) {
		at = until
	}
	for _, b := range o.bucketsFor(method, channel, now) {
		if r := b.readyAt(now); r.After(at) {
			at = r
		}
	}
	return at
}

func (o *Outbox) take(method, channel string, now time.Time) {
	for _, b := range o.bucketsFor(method, channel, now) {
		b.refill(now)
		b.tokens--
	}
}
