// Package pace paces closebot's Graph writes under Microsoft's identity
// write quotas (Learn graph/throttling-limits, "Identity and access service
// limits"; graph-wire.md §6): 3,000 writes per 150 s per app and tenant,
// 35,000 per 5 min per app across all tenants, 18,000 per 5 min per tenant
// across all apps.
//
// A Registry holds one token bucket per app+tenant and one per app, shared
// by every closure the Runner runs (an MSP closing several tenants with one
// app spends one per-app budget). Each write attempt, retries included,
// takes a token from both (Acquire); the answer adapts the buckets:
// Retry-After holds the writes, a throttle scoped Tenant/… (other apps are
// writing into the tenant) backs off harder and lowers the rate for a
// while, x-ms-throttle-limit-percentage lowers what the pacer believes is
// left. How many writes are in flight follows Little's law: the target rate
// times the observed latency, with headroom, so the same code reaches the
// quota at 100 ms and at 2 s of latency.
//
// The package is pure: no SDK, no I/O; time comes from the injected clock.
package pace

import (
	"context"
	"math"
	"strings"
	"sync"
	"time"
)

// Quota is a token bucket: Requests tokens, refilled continuously over Per.
type Quota struct {
	Requests float64
	Per      time.Duration
}

func (q Quota) rate() float64 { return q.Requests / q.Per.Seconds() }

// The documented write quotas (graph-wire.md §6).
var (
	AppTenantWrites = Quota{Requests: 3000, Per: 150 * time.Second}
	AppWrites       = Quota{Requests: 35000, Per: 5 * time.Minute}
	TenantWrites    = Quota{Requests: 18000, Per: 5 * time.Minute}
)

// Settings configure a Registry. The zero value paces at Microsoft's
// documented limits on the real clock.
type Settings struct {
	// AppTenant and App are the buckets (zero: the documented quotas).
	AppTenant, App Quota
	// Scale multiplies both quotas' Requests over the same window, so the
	// burst and the rate scale together (tests and benchmarks run a scaled
	// quota against an emulator scaled alike); 0 means 1.
	Scale float64
	// Start is the fraction of each bucket full at start (0 means full,
	// as Microsoft's buckets are for an app that has not written; a
	// negative value means empty).
	Start float64
	// Headroom multiplies Little's law (rate × latency): default 1.5.
	Headroom float64
	// BurstFactor is how much faster than the refill rate writes go while
	// the bucket holds more tokens than are in flight: default 2.
	BurstFactor float64
	// MinInFlight and MaxInFlight bound the writes in flight (defaults 1
	// and 64).
	MinInFlight, MaxInFlight int
	// Latency is the latency assumed before the first answer: default 100 ms.
	Latency time.Duration
	// Now and After are the clock (nil: the real clock); After returns a
	// channel that fires after d.
	Now   func() time.Time
	After func(d time.Duration) <-chan time.Time
}

func (s Settings) withDefaults() Settings {
	if s.AppTenant.Requests <= 0 || s.AppTenant.Per <= 0 {
		s.AppTenant = AppTenantWrites
	}
	if s.App.Requests <= 0 || s.App.Per <= 0 {
		s.App = AppWrites
	}
	if s.Scale > 0 {
		s.AppTenant.Requests *= s.Scale
		s.App.Requests *= s.Scale
	}
	switch {
	case s.Start == 0:
		s.Start = 1
	case s.Start < 0:
		s.Start = 0
	}
	if s.Headroom <= 0 {
		s.Headroom = 1.5
	}
	if s.BurstFactor < 1 {
		s.BurstFactor = 2
	}
	if s.MinInFlight < 1 {
		s.MinInFlight = 1
	}
	if s.MaxInFlight < s.MinInFlight {
		s.MaxInFlight = max(64, s.MinInFlight)
	}
	if s.Latency <= 0 {
		s.Latency = 100 * time.Millisecond
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.After == nil {
		s.After = time.After
	}
	return s
}

// Registry owns the buckets of every app and app+tenant; safe for
// concurrent use.
type Registry struct {
	s Settings

	mu      sync.Mutex
	changed chan struct{} // closed and replaced when a slot frees or a hold moves
	apps    map[string]*bucket
	pacers  map[string]*Pacer
	stats   Stats
}

// Stats count what the pacer did, for logs and benchmarks.
type Stats struct {
	Attempts  int // tokens taken (every attempt, retries included)
	Throttled int // attempts answered 429
	Transient int // attempts answered 503/504
}

// NewRegistry builds a registry with s (defaults filled in).
func NewRegistry(s Settings) *Registry {
	return &Registry{s: s.withDefaults(), changed: make(chan struct{}), apps: map[string]*bucket{}, pacers: map[string]*Pacer{}}
}

// Settings returns the registry's settings with defaults filled in.
func (r *Registry) Settings() Settings { return r.s }

// Stats returns the counters so far.
func (r *Registry) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// For returns the pacer of app in tenant (ids compared case-insensitively),
// created on first use; every pacer of one app shares its per-app bucket.
func (r *Registry) For(app, tenant string) *Pacer {
	app, tenant = strings.ToLower(app), strings.ToLower(tenant)
	r.mu.Lock()
	defer r.mu.Unlock()
	key := app + "|" + tenant
	if p := r.pacers[key]; p != nil {
		return p
	}
	now := r.s.Now()
	ab := r.apps[app]
	if ab == nil {
		ab = newBucket(r.s.App, r.s.Start, now)
		r.apps[app] = ab
	}
	p := &Pacer{reg: r, at: newBucket(r.s.AppTenant, r.s.Start, now), app: ab, latency: r.s.Latency, share: 1, shareAt: now}
	r.pacers[key] = p
	return p
}

// broadcastLocked wakes every waiter; the caller holds r.mu.
func (r *Registry) broadcastLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// bucket is a token bucket whose level may go below zero (a throttle
// says the service's bucket is empty or overdrawn) and which can be held
// (Retry-After: no token before hold).
type bucket struct {
	capacity, rate float64
	level          float64
	at             time.Time
	hold           time.Time
}

func newBucket(q Quota, start float64, now time.Time) *bucket {
	return &bucket{capacity: q.Requests, rate: q.rate(), level: q.Requests * start, at: now}
}

// refill adds rate·share tokens per second since the last refill.
func (b *bucket) refill(now time.Time, share float64) {
	if dt := now.Sub(b.at).Seconds(); dt > 0 {
		b.level = math.Min(b.capacity, b.level+dt*b.rate*share)
		b.at = now
	}
}

// until is how long until one token is there and the hold is over.
func (b *bucket) until(now time.Time, share float64) time.Duration {
	var d time.Duration
	if b.level < 1 {
		d = time.Duration((1 - b.level) / (b.rate * share) * float64(time.Second))
	}
	if h := b.hold.Sub(now); h > d {
		d = h
	}
	return d
}

// Pacer paces one app's writes in one tenant.
type Pacer struct {
	reg     *Registry
	at, app *bucket // app+tenant bucket, and the app's bucket shared across tenants

	// Guarded by reg.mu.
	latency  time.Duration // observed (EWMA)
	share    float64       // of the app+tenant rate, lowered after Tenant-scoped throttles
	shareAt  time.Time
	inFlight int
	strikes  int // consecutive throttles without Retry-After
}

// shareRecovery is how long the rate takes to come back to the full
// quota after a Tenant-scoped throttle: the tenant bucket's window.
const shareRecovery = 5 * time.Minute

// minShare is the lowest fraction of the quota a Tenant-scoped throttle
// lowers the rate to.
const minShare = 0.1

func (p *Pacer) settleLocked(now time.Time) {
	if p.share < 1 {
		if dt := now.Sub(p.shareAt).Seconds(); dt > 0 {
			p.share = math.Min(1, p.share+dt*(1-minShare)/shareRecovery.Seconds())
		}
	}
	p.shareAt = now
	p.at.refill(now, p.share)
	p.app.refill(now, 1)
}

// Rate is the rate the pacer aims at now, in writes per second.
func (p *Pacer) Rate() float64 {
	p.reg.mu.Lock()
	defer p.reg.mu.Unlock()
	p.settleLocked(p.reg.s.Now())
	return p.rateLocked()
}

func (p *Pacer) rateLocked() float64 {
	return math.Min(p.at.rate*p.share, p.app.rate)
}

// Limit is how many writes may be in flight now: Little's law, the target
// rate times the observed latency times the headroom, within the bounds.
// While the bucket holds more tokens than that, the target rate is the
// burst rate, so the initial burst is spent faster than it refills.
func (p *Pacer) Limit() int {
	p.reg.mu.Lock()
	defer p.reg.mu.Unlock()
	p.settleLocked(p.reg.s.Now())
	return p.limitLocked()
}

func (p *Pacer) limitLocked() int {
	s := p.reg.s
	rate := p.rateLocked()
	n := rate * p.latency.Seconds() * s.Headroom
	if spare := math.Min(p.at.level, p.app.level); spare > n*s.BurstFactor {
		n *= s.BurstFactor
	}
	l := int(math.Ceil(n))
	return min(max(l, s.MinInFlight), s.MaxInFlight)
}

// Observe feeds one answer's latency into the estimate (an exponentially
// weighted mean).
func (p *Pacer) Observe(latency time.Duration) {
	p.reg.mu.Lock()
	defer p.reg.mu.Unlock()
	p.observeLocked(latency)
}

func (p *Pacer) observeLocked(latency time.Duration) {
	if latency < 0 {
		return
	}
	const alpha = 0.2
	p.latency = time.Duration(float64(p.latency)*(1-alpha) + float64(latency)*alpha)
}

// Latency is the observed latency estimate.
func (p *Pacer) Latency() time.Duration {
	p.reg.mu.Lock()
	defer p.reg.mu.Unlock()
	return p.latency
}

// Write is one admitted attempt: it holds a place in flight and has spent
// a token. End it with Done, Throttled or Cancel.
type Write struct {
	p     *Pacer
	start time.Time
	ended bool
}

// Acquire waits until a write may start: a place in flight (Limit), a
// token in both buckets and no hold. Every attempt, retries included,
// calls it, so every retry spends a token.
func (p *Pacer) Acquire(ctx context.Context) (*Write, error) {
	r := p.reg
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r.mu.Lock()
		now := r.s.Now()
		p.settleLocked(now)
		var wait time.Duration
		slot := p.inFlight < p.limitLocked()
		if slot {
			wait = max(p.at.until(now, p.share), p.app.until(now, 1))
			if wait <= 0 {
				p.at.level--
				p.app.level--
				p.inFlight++
				r.stats.Attempts++
				r.mu.Unlock()
				return &Write{p: p, start: now}, nil
			}
		}
		changed := r.changed
		r.mu.Unlock()
		var timer <-chan time.Time
		if slot {
			timer = r.s.After(wait)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-changed:
		case <-timer:
		}
	}
}

// Done ends an answered attempt (success, or a refusal that is not
// throttling) and observes its latency.
func (w *Write) Done() {
	w.end(func(p *Pacer, now time.Time) {
		p.observeLocked(now.Sub(w.start))
		p.strikes = 0
	})
}

// Cancel ends an attempt that was never sent (the request moved on, the
// context ended): its token goes back.
func (w *Write) Cancel() {
	w.end(func(p *Pacer, _ time.Time) {
		p.at.level++
		p.app.level++
		p.reg.stats.Attempts--
	})
}

// Throttle is what a refused attempt's answer said.
type Throttle struct {
	// RetryAfter is the Retry-After header (0: none).
	RetryAfter time.Duration
	// Scope is x-ms-throttle-scope, e.g. "Tenant_Application/Write/{app}/{tenant}".
	Scope string
	// LimitPercentage is x-ms-throttle-limit-percentage (0: none).
	LimitPercentage float64
	// Transient marks a 503/504: the service was busy, the quota is not
	// in question (the writes wait, the buckets keep their level).
	Transient bool
}

// maxBackoff bounds the wait of a throttle without Retry-After.
const maxBackoff = time.Minute

// Throttled ends an attempt that was refused with 429 (or 503/504 when
// t.Transient) and holds the writes it concerns for as long as the
// service asked, longer for a throttle of the whole tenant.
func (w *Write) Throttled(t Throttle) {
	w.end(func(p *Pacer, now time.Time) {
		p.observeLocked(now.Sub(w.start))
		wait := t.RetryAfter
		if wait <= 0 {
			// No Retry-After (conditional access never sends one):
			// exponential backoff from 1 s.
			wait = min(time.Second<<min(p.strikes, 6), maxBackoff)
			p.strikes++
		}
		if t.LimitPercentage > 1 {
			// Over the limit by that much: wait proportionally longer.
			wait = time.Duration(float64(wait) * t.LimitPercentage)
		}
		if t.Transient {
			p.reg.stats.Transient++
			holdUntil(p.at, now.Add(wait))
			return
		}
		p.reg.stats.Throttled++
		switch scopeKind(t.Scope) {
		case "tenant":
			// Other apps are writing into this tenant: its all-apps
			// bucket is empty. Wait twice as long and halve our rate,
			// which recovers over the tenant bucket's window.
			p.share = math.Max(minShare, p.share/2)
			empty(p.at)
			holdUntil(p.at, now.Add(2*wait))
		case "application":
			// This app's budget across all tenants: every tenant waits.
			empty(p.app)
			holdUntil(p.app, now.Add(wait))
		default:
			empty(p.at)
			holdUntil(p.at, now.Add(wait))
		}
	})
}

// NearLimit feeds the x-ms-throttle-limit-percentage of an admitted answer
// (Graph sends it once more than 0.8 of a limit is used): the service's
// bucket holds at most the rest, whatever the pacer believed (a restart,
// another closebot with the same app).
func (p *Pacer) NearLimit(pct float64) {
	if pct <= 0 {
		return
	}
	p.reg.mu.Lock()
	defer p.reg.mu.Unlock()
	p.settleLocked(p.reg.s.Now())
	if left := (1 - pct) * p.at.capacity; p.at.level > left {
		p.at.level = left
	}
}

func empty(b *bucket) { b.level = math.Min(b.level, 0) }

func holdUntil(b *bucket, t time.Time) {
	if t.After(b.hold) {
		b.hold = t
	}
}

// scopeKind reads x-ms-throttle-scope's first segment:
// Tenant_Application, Tenant or Application (graph-wire.md §6).
func scopeKind(scope string) string {
	first, _, _ := strings.Cut(scope, "/")
	switch strings.ToLower(first) {
	case "tenant":
		return "tenant"
	case "application":
		return "application"
	}
	return "tenant_application"
}

func (w *Write) end(f func(p *Pacer, now time.Time)) {
	if w == nil || w.ended {
		return
	}
	w.ended = true
	p := w.p
	r := p.reg
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.s.Now()
	p.settleLocked(now)
	f(p, now)
	p.inFlight--
	r.broadcastLocked()
}

// InFlight is how many attempts are in flight now.
func (p *Pacer) InFlight() int {
	p.reg.mu.Lock()
	defer p.reg.mu.Unlock()
	return p.inFlight
}

// Tokens is what the app+tenant bucket holds now (negative: overdrawn).
func (p *Pacer) Tokens() float64 {
	p.reg.mu.Lock()
	defer p.reg.mu.Unlock()
	p.settleLocked(p.reg.s.Now())
	return p.at.level
}

// Tokens reports what each bucket holds now, for /metrics: "app|tenant"
// for the app+tenant buckets and "app" for the per-app ones.
func (r *Registry) Tokens() map[string]float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.s.Now()
	out := make(map[string]float64, len(r.pacers)+len(r.apps))
	for key, p := range r.pacers {
		p.settleLocked(now)
		out[key] = p.at.level
	}
	for app, b := range r.apps {
		out[app] = b.level
	}
	return out
}
