package slacktest

import (
	"math"
	"net/http"
	"sync"
	"time"
)

// RateLimitOptions configures the Web API rate limits. They run on real time: they
// model Slack's servers, not the scenario's clock.
type RateLimitOptions struct {
	Disabled     bool
	Burst        int            // minimum bucket size per method; default 5
	ChannelBurst int            // chat.postMessage per-channel bucket; default 3
	PerMinute    map[string]int // overrides of the per-method limits below
}

// Tier limits per method, per workspace (Slack's published floors: T1 1+, T2 20+,
// T3 50+, T4 100+ per minute; slack-wire.md §5).
var methodPerMinute = map[string]int{
	"apps.connections.open":        1,   // Tier 1
	"auth.test":                    600, // special
	"chat.postMessage":             300, // special: "several hundred per minute" per workspace
	"chat.update":                  50,  // Tier 3
	"chat.postEphemeral":           100, // Tier 4
	"chat.getPermalink":            100, // special; treated as Tier 4
	"users.info":                   100, // Tier 4
	"usergroups.users.list":        20,  // Tier 2
	"conversations.info":           50,  // Tier 3
	"conversations.replies":        50,  // Tier 3 (internal apps; see FIDELITY.md)
	"views.open":                   100, // Tier 4
	"views.push":                   100, // Tier 4
	"views.update":                 100, // Tier 4
	"files.getUploadURLExternal":   20,  // Tier 2
	"files.completeUploadExternal": 20,  // Tier 2
}

type bucket struct {
	tokens, capacity, perSec float64
	last                     time.Time
}

// take spends one token or returns the whole seconds until one is available.
func (b *bucket) take(now time.Time) (int, bool) {
	b.tokens = math.Min(b.capacity, b.tokens+now.Sub(b.last).Seconds()*b.perSec)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return max(1, int(math.Ceil((1-b.tokens)/b.perSec))), false
}

type rateLimiter struct {
	mu      sync.Mutex
	opts    RateLimitOptions
	buckets map[string]*bucket
}

func newRateLimiter(o RateLimitOptions) *rateLimiter {
	if o.Burst <= 0 {
		o.Burst = 5
	}
	if o.ChannelBurst <= 0 {
		o.ChannelBurst = 3
	}
	return &rateLimiter{opts: o, buckets: map[string]*bucket{}}
}

func (l *rateLimiter) bucket(key string, perMinute, capacity float64, now time.Time) *bucket {
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: capacity, capacity: capacity, perSec: perMinute / 60, last: now}
		l.buckets[key] = b
	}
	return b
}

// allow applies the method's tier and, for chat.postMessage, 1 message/s per channel.
func (l *rateLimiter) allow(method, channel string, now time.Time) (retryAfter int, allowed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.opts.Disabled {
		return 0, true
	}
	per, ok := l.opts.PerMinute[method]
	if !ok {
		per, ok = methodPerMinute[method]
	}
	if !ok {
		return 0, true
	}
	capacity := math.Max(float64(l.opts.Burst), float64(per)/4)
	if method == "chat.postMessage" && channel != "" {
		cb := l.bucket("channel:"+channel, 60, float64(l.opts.ChannelBurst), now)
		if ra, ok := cb.take(now); !ok {
			return ra, false
		}
	}
	return l.bucket("method:"+method, float64(per), capacity, now).take(now)
}

type injection struct {
	n          int
	retryAfter int    // >0: answer 429
	errName    string // else: answer ok:false with this error
}

// InjectRateLimit makes the next n calls to method answer HTTP 429 with Retry-After
// retryAfter seconds, whatever the buckets say.
func (s *Server) InjectRateLimit(method string, n, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.injections[method] = append(s.injections[method], injection{n: n, retryAfter: max(1, retryAfter)})
}

// InjectError makes the next n calls to method answer 200 {"ok":false,"error":errName}.
func (s *Server) InjectError(method string, n int, errName string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.injections[method] = append(s.injections[method], injection{n: n, errName: errName})
}

// SetRateLimits switches the bucket limits on or off at run time.
func (s *Server) SetRateLimits(enabled bool) {
	s.rate.mu.Lock()
	defer s.rate.mu.Unlock()
	s.rate.opts.Disabled = !enabled
}

func ratelimited(method, channel string, retryAfter int) apiResult {
	return apiResult{status: http.StatusTooManyRequests, retryAfter: retryAfter,
		body:    map[string]any{"ok": false, "error": "ratelimited"},
		refusal: &Refusal{Method: method, Channel: channel, Status: http.StatusTooManyRequests, Error: "ratelimited"}}
}

// checkRate answers injected faults first, then the buckets.
func (s *Server) checkRate(method string, r *apiRequest) (apiResult, bool) {
	channel := ""
	if method == "chat.postMessage" {
		channel = r.str("channel")
	}
	s.mu.Lock()
	if d, open := s.dms[channel]; open {
		channel = d // a user id posts to the App Home DM: one channel, one limit
	}
	if q := s.injections[method]; len(q) > 0 {
		inj := q[0]
		q[0].n--
		if q[0].n <= 0 {
			q = q[1:]
		}
		s.injections[method] = q
		s.mu.Unlock()
		if inj.retryAfter > 0 {
			return ratelimited(method, channel, inj.retryAfter), true
		}
		res := fail(inj.errName)
		res.refusal = &Refusal{Method: method, Channel: channel, Status: http.StatusOK, Error: inj.errName, Detail: "injected"}
		return res, true
	}
	if ra, hit := s.rateFaultHit(method); hit {
		s.mu.Unlock()
		return ratelimited(method, channel, ra), true
	}
	s.mu.Unlock()
	if ra, allowed := s.rate.allow(method, channel, time.Now()); !allowed {
		return ratelimited(method, channel, ra), true
	}
	return apiResult{}, false
}
