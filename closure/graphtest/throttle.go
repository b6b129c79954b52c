package graphtest

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Identity and access service limits (Learn graph/throttling-limits,
// graph-wire.md §6). Each is a token bucket that starts full and refills
// continuously on the emulator clock: capacity per window.
const (
	writeAppTenantCap    = 3000
	writeAppTenantWindow = 150 * time.Second
	writeTenantCap       = 18000
	writeTenantWindow    = 5 * time.Minute
	writeAppCap          = 35000
	writeAppWindow       = 5 * time.Minute
	ruAppCap             = 150000
	ruAppWindow          = 20 * time.Second
	ruAppTenantWindow    = 10 * time.Second
	caPerTenantPerSecond = 1
)

// ruAppTenantCap is the resource-unit quota per app+tenant by tenant size:
// S (<50 users) 3,500, M (50–500) 5,000, L (>500) 8,000 per 10 s.
func ruAppTenantCap(users int) float64 {
	switch {
	case users < 50:
		return 3500
	case users <= 500:
		return 5000
	default:
		return 8000
	}
}

// bucket is a token bucket on the emulator clock; drain models writes by
// other apps that share it (SetBackgroundWrites).
type bucket struct {
	capacity, rate, drain float64 // tokens, tokens/s, tokens/s
	level                 float64
	at                    time.Time
}

func newBucket(capacity float64, window time.Duration, now time.Time) *bucket {
	return &bucket{capacity: capacity, rate: capacity / window.Seconds(), level: capacity, at: now}
}

func (b *bucket) refill(now time.Time) {
	dt := now.Sub(b.at).Seconds()
	if dt <= 0 {
		return
	}
	b.level = math.Max(0, math.Min(b.capacity, b.level+(b.rate-b.drain)*dt))
	b.at = now
}

// wait is how long until n tokens are available, in whole seconds (≥1).
func (b *bucket) wait(n float64) int {
	net := b.rate - b.drain
	if net <= 0 {
		return int(b.capacity / b.rate)
	}
	s := int(math.Ceil((n - b.level) / net))
	if s < 1 {
		s = 1
	}
	return s
}

type throttler struct {
	s *Server

	// rateScale multiplies every quota's refill rate (SetQuotaScale): a
	// test knob, 1 is Microsoft's limits. Guarded by mu.
	rateScale float64

	mu       sync.Mutex
	disabled bool
	buckets  map[string]*bucket
	drains   map[string]float64 // tenant id → background writes/s
	rejected int                // 429s sent by the throttler
	writes   map[string]int     // admitted writes per tenant
	scale    float64            // write quota multiplier (SetWriteQuotaScale); 0 means 1
}

func newThrottler(s *Server) *throttler {
	return &throttler{s: s, disabled: s.opts.DisableThrottling, buckets: map[string]*bucket{}, drains: map[string]float64{}, writes: map[string]int{}, rateScale: 1}
}

// get returns the bucket named key, created full; the caller holds t.mu.
func (t *throttler) get(key string, capacity float64, window time.Duration, now time.Time) *bucket {
	// A quota scale k shortens the window, not the capacity: the burst
	// stays Microsoft's and the steady rate is k times theirs.
	window = time.Duration(float64(window) / t.rateScale)
	b := t.buckets[key]
	if b == nil {
		b = newBucket(capacity, window, now)
		t.buckets[key] = b
	}
	if b.capacity != capacity { // tenant changed size class
		b.refill(now)
		b.level = math.Min(capacity, b.level+(capacity-b.capacity))
		b.capacity, b.rate = capacity, capacity/window.Seconds()
	}
	b.refill(now)
	return b
}

// requestCost is what a call costs under the documented rules.
type requestCost struct {
	ru    int
	write bool
	ca    bool
}

// readActions are POSTs that read (directoryObject actions).
var readActions = map[string]int{
	"getbyids": 5, "getmemberobjects": 1, "getmembergroups": 1, "checkmembergroups": 1, "checkmemberobjects": 1,
}

func (t *throttler) cost(r *graphRequest) requestCost {
	p := strings.ToLower(strings.Trim(r.Path, "/"))
	segs := strings.Split(p, "/")
	last := segs[len(segs)-1]
	if strings.HasPrefix(p, "identity/conditionalaccess") {
		return requestCost{ru: 1, ca: true, write: r.Method != http.MethodGet && r.Method != http.MethodHead}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if c, ok := readActions[last]; ok && r.Method == http.MethodPost {
			return requestCost{ru: c}
		}
		return requestCost{ru: 1, write: true}
	}
	base := 1
	switch {
	case last == "transitivemembers":
		base = 5
	case segs[0] == "groups" && len(segs) >= 3 && segs[2] == "members":
		base = 3
	case segs[0] == "subscribedskus":
		base = 3
	case segs[0] == "users" && (len(segs) <= 2 || t.s.opts.Assumed.UsersDetailCostsTwo):
		base = 2
	case segs[0] == "applications" && len(segs) <= 2:
		base = 2
	}
	if r.Query.Has("$select") {
		base--
	}
	if r.Query.Has("$expand") {
		base++
	}
	if top, err := strconv.Atoi(r.Query.Get("$top")); err == nil && top < 20 {
		base--
	}
	if base < 1 {
		base = 1
	}
	return requestCost{ru: base}
}

// admit charges one Graph call (a top-level call or one $batch item) against
// every quota it falls under and sets the x-ms-* response headers in h; nil
// means go ahead, else the 429 to send (its headers included).
func (t *throttler) admit(h http.Header, r *graphRequest) *httpError {
	c := t.cost(r)
	h.Set("x-ms-resource-unit", strconv.Itoa(c.ru))
	p := r.Principal
	if p == nil {
		return nil
	}
	tenant, app := strings.ToLower(p.TenantID), strings.ToLower(p.AppID)
	users := 0
	if _, n, ok := t.s.dir.tenant(tenant); ok {
		users = n
	}
	now := t.s.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.disabled {
		if c.write {
			t.writes[tenant]++
		}
		return nil
	}
	type charge struct {
		b     *bucket
		n     float64
		scope string
		info  string
	}
	var charges []charge
	if c.ca {
		// Conditional access: 1 request/s per tenant; its 429 has no Retry-After.
		charges = append(charges, charge{b: t.get("ca|"+tenant, caPerTenantPerSecond, time.Second, now), n: 1})
	}
	ids := app + "/" + tenant
	identity := !c.ca || t.s.opts.Assumed.CAChargesIdentityBuckets
	if identity && c.write {
		charges = append(charges,
			charge{t.appTenantWrites(ids, now), 1, "Tenant_Application/Write/" + ids, "WriteLimitExceeded"},
			charge{t.tenantWrites(tenant, now), 1, "Tenant/Write/" + ids, "WriteLimitExceeded"},
			charge{t.get("w|a|"+app, writeAppCap*t.writeScale(), writeAppWindow, now), 1, "Application/Write/" + ids, "WriteLimitExceeded"},
		)
	}
	if identity {
		charges = append(charges,
			charge{t.get("ru|at|"+ids, ruAppTenantCap(users), ruAppTenantWindow, now), float64(c.ru), "Tenant_Application/ReadWrite/" + ids, "ResourceUnitLimitExceeded"},
			charge{t.get("ru|a|"+app, ruAppCap, ruAppWindow, now), float64(c.ru), "Application/ReadWrite/" + ids, "ResourceUnitLimitExceeded"},
		)
	}
	var fail *charge
	wait := 0
	for i := range charges {
		ch := &charges[i]
		if ch.b.level >= ch.n {
			continue
		}
		if fail == nil {
			fail = ch
		}
		wait = max(wait, ch.b.wait(ch.n))
	}
	if fail != nil {
		t.rejected++
		rh := h.Clone()
		if fail.info == "" {
			return &httpError{status: http.StatusTooManyRequests, code: "TooManyRequests", message: "Please retry again later.", header: rh, throttled: true}
		}
		rh.Set("Retry-After", strconv.Itoa(wait))
		rh.Set("x-ms-throttle-scope", fail.scope)
		rh.Set("x-ms-throttle-information", fail.info)
		rh.Set("x-ms-throttle-limit-percentage", "1.0")
		return &httpError{status: http.StatusTooManyRequests, code: "TooManyRequests", message: "Please retry again later.", header: rh, throttled: true}
	}
	used := 0.0
	for _, ch := range charges {
		ch.b.level -= ch.n
		used = math.Max(used, (ch.b.capacity-ch.b.level)/ch.b.capacity)
	}
	if used > 0.8 {
		h.Set("x-ms-throttle-limit-percentage", fmt.Sprintf("%.1f", used))
	}
	if c.write {
		t.writes[tenant]++
	}
	return nil
}

// tenantWrites is the tenant's all-apps write bucket, drained by background writes.
func (t *throttler) tenantWrites(tenant string, now time.Time) *bucket {
	b := t.get("w|t|"+tenant, writeTenantCap*t.writeScale(), writeTenantWindow, now)
	b.drain = t.drains[tenant]
	return b
}

// appTenantWrites is the app+tenant write bucket of ids ("app/tenant", lower case).
func (t *throttler) appTenantWrites(ids string, now time.Time) *bucket {
	return t.get("w|at|"+ids, writeAppTenantCap*t.writeScale(), writeAppTenantWindow, now)
}

func (t *throttler) writeScale() float64 {
	if t.scale > 0 {
		return t.scale
	}
	return 1
}

// WriteTokens is the current level of appID's write bucket in tenantID
// (3,000 when unused): the burst a pacer can spend before the refill rate.
func (s *Server) WriteTokens(appID, tenantID string) float64 {
	t := s.throttle
	now := s.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.appTenantWrites(strings.ToLower(appID)+"/"+strings.ToLower(tenantID), now).level
}

// SetWriteTokens sets the level of appID's write bucket in tenantID (a
// test or benchmark starts it empty to measure the steady state, or as a
// closebot restarted mid-closure would find it).
func (s *Server) SetWriteTokens(appID, tenantID string, level float64) {
	t := s.throttle
	now := s.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.appTenantWrites(strings.ToLower(appID)+"/"+strings.ToLower(tenantID), now)
	b.level = math.Max(0, math.Min(b.capacity, level))
}

// SetWriteQuotaScale multiplies the three write quotas (app+tenant, tenant,
// app) by f over the same windows, so the burst and the refill rate scale
// together; a bucket already in use gains (or loses) the difference, as
// when a tenant changes size class. Tests and benchmarks
// use it to reach the quota faster without changing the latency. f <= 0
// means 1 (the documented quotas).
func (s *Server) SetWriteQuotaScale(f float64) {
	t := s.throttle
	t.mu.Lock()
	defer t.mu.Unlock()
	t.scale = f
}

// SetBackgroundWrites makes "other apps" write perSecond into tenantID,
// draining its all-apps write bucket (18,000 per 5 min) on the emulator clock.
func (s *Server) SetBackgroundWrites(tenantID string, perSecond float64) {
	t := s.throttle
	now := s.clock.Now()
	tenant := strings.ToLower(tenantID)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tenantWrites(tenant, now) // settle the old drain up to now
	t.drains[tenant] = perSecond
	t.buckets["w|t|"+tenant].drain = perSecond
}

// SetQuotaScale multiplies the refill rate of every throttling quota by k
// (each window divided by k, capacities unchanged) and starts every bucket
// full again. It is a test knob for the bench: how a client keeps up with a
// quota faster than Microsoft's at a given latency. k ≤ 0 means 1.
func (s *Server) SetQuotaScale(k float64) {
	if k <= 0 {
		k = 1
	}
	t := s.throttle
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rateScale = k
	t.buckets = map[string]*bucket{}
}

// SpendTenantWrites empties tenantID's all-apps write bucket now, as if
// other apps had just used the tenant's burst (18,000 per 5 min); with
// SetBackgroundWrites it models a tenant busy before a closure starts.
func (s *Server) SpendTenantWrites(tenantID string) {
	t := s.throttle
	now := s.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tenantWrites(strings.ToLower(tenantID), now).level = 0
}

// SetThrottling turns identity throttling on or off at run time.
func (s *Server) SetThrottling(enabled bool) {
	s.throttle.mu.Lock()
	defer s.throttle.mu.Unlock()
	s.throttle.disabled = !enabled
}
