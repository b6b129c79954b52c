package pace

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock jumps forward whenever the pacer waits: a test runs the
// documented windows in no time and sees exactly when each write started.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	waited []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.waited = append(c.waited, d)
	now := c.now
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- now
	return ch
}

func newTestRegistry(c *fakeClock, s Settings) *Registry {
	s.Now, s.After = c.Now, c.After
	return NewRegistry(s)
}

const (
	app    = "11111111-1111-1111-1111-111111111111"
	tenant = "6f1d2c3b-0000-4000-8000-00000000c0de"
)

// write takes a token and ends the attempt as answered.
func write(t *testing.T, p *Pacer) {
	t.Helper()
	w, err := p.Acquire(context.Background())
	require.NoError(t, err)
	w.Done()
}

// The documented burst (3,000 per app and tenant) goes out without waiting;
// then writes follow the refill rate, 20 per second.
func TestBurstThenRate(t *testing.T) {
	c := newFakeClock()
	p := newTestRegistry(c, Settings{}).For(app, tenant)
	start := c.Now()
	for range 3000 {
		write(t, p)
	}
	assert.Equal(t, start, c.Now(), "the burst never waits")
	for range 200 {
		write(t, p)
	}
	assert.InDelta(t, 10.0, c.Now().Sub(start).Seconds(), 0.01, "200 more writes take 10 s at 20/s")
}

// A scaled quota scales the burst and the rate alike.
func TestScaledQuota(t *testing.T) {
	c := newFakeClock()
	r := newTestRegistry(c, Settings{Scale: 10, Start: -1})
	p := r.For(app, tenant)
	assert.InDelta(t, 200.0, p.Rate(), 1e-9)
	start := c.Now()
	for range 400 {
		write(t, p)
	}
	assert.InDelta(t, 2.0, c.Now().Sub(start).Seconds(), 0.01, "an empty 10× bucket gives 200 writes/s")
}

// A 429's Retry-After holds every write of that app and tenant until it
// has passed, and the next write spends a token again.
func TestRetryAfterHonoured(t *testing.T) {
	c := newFakeClock()
	r := newTestRegistry(c, Settings{})
	p := r.For(app, tenant)
	w, err := p.Acquire(context.Background())
	require.NoError(t, err)
	start := c.Now()
	w.Throttled(Throttle{RetryAfter: 7 * time.Second, Scope: "Tenant_Application/Write/" + app + "/" + tenant})
	write(t, p) // the retry
	assert.GreaterOrEqual(t, c.Now().Sub(start), 7*time.Second)
	assert.Equal(t, Stats{Attempts: 2, Throttled: 1}, r.Stats(), "the retry took its own token")
	// The bucket was believed empty at the 429: 7 s refilled 140 tokens.
	assert.InDelta(t, 139, p.Tokens(), 1)
}

// A throttle of the tenant's all-apps bucket (other apps are writing)
// waits twice the Retry-After and halves the rate, which comes back over
// the tenant bucket's window; one of the app+tenant bucket does neither.
func TestTenantScopeBacksOffHarder(t *testing.T) {
	c := newFakeClock()
	p := newTestRegistry(c, Settings{}).For(app, tenant)
	w, _ := p.Acquire(context.Background())
	start := c.Now()
	w.Throttled(Throttle{RetryAfter: 3 * time.Second, Scope: "Tenant/Write/" + app + "/" + tenant})
	write(t, p)
	assert.GreaterOrEqual(t, c.Now().Sub(start), 6*time.Second)
	assert.InDelta(t, 10.0, p.Rate(), 0.5, "half the rate")
	c.Advance(shareRecovery)
	assert.InDelta(t, 20.0, p.Rate(), 1e-9, "back to the quota after the tenant window")

	q := newTestRegistry(newFakeClock(), Settings{}).For(app, tenant)
	w, _ = q.Acquire(context.Background())
	w.Throttled(Throttle{RetryAfter: 3 * time.Second, Scope: "Tenant_Application/Write/" + app + "/" + tenant})
	assert.InDelta(t, 20.0, q.Rate(), 1e-9)
}

// The per-app bucket is shared by every tenant of the app: a throttle
// scoped Application holds the app's writes in another tenant too, and the
// app's writes in all tenants together stay under its quota.
func TestAppBucketShared(t *testing.T) {
	c := newFakeClock()
	r := newTestRegistry(c, Settings{App: Quota{Requests: 100, Per: 10 * time.Second}})
	a, b := r.For(app, tenant), r.For(app, "other-tenant")
	require.NotSame(t, a, b)
	assert.Same(t, a, r.For(app, tenant))
	start := c.Now()
	for range 50 {
		write(t, a)
		write(t, b)
	}
	assert.Equal(t, start, c.Now(), "100 writes fit the app's burst")
	write(t, a)
	assert.InDelta(t, 0.1, c.Now().Sub(start).Seconds(), 0.001, "the 101st waits for the app's refill (10/s)")

	w, _ := b.Acquire(context.Background())
	before := c.Now()
	w.Throttled(Throttle{RetryAfter: 5 * time.Second, Scope: "Application/Write/" + app + "/other-tenant"})
	write(t, a)
	assert.GreaterOrEqual(t, c.Now().Sub(before), 5*time.Second, "the other tenant waits for the app's Retry-After")
}

// Without Retry-After the pacer backs off exponentially; a success resets it.
func TestBackoffWithoutRetryAfter(t *testing.T) {
	c := newFakeClock()
	p := newTestRegistry(c, Settings{}).For(app, tenant)
	var gaps []time.Duration
	for range 3 {
		w, _ := p.Acquire(context.Background())
		at := c.Now()
		w.Throttled(Throttle{})
		w2, _ := p.Acquire(context.Background())
		gaps = append(gaps, c.Now().Sub(at))
		w2.Cancel()
	}
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, gaps)
}

// A limit percentage above 1 on a 429 stretches the wait; one on an
// admitted answer lowers what the pacer believes is left.
func TestLimitPercentage(t *testing.T) {
	c := newFakeClock()
	p := newTestRegistry(c, Settings{}).For(app, tenant)
	w, _ := p.Acquire(context.Background())
	start := c.Now()
	w.Throttled(Throttle{RetryAfter: 10 * time.Second, LimitPercentage: 1.5})
	write(t, p)
	assert.GreaterOrEqual(t, c.Now().Sub(start), 15*time.Second)

	q := newTestRegistry(newFakeClock(), Settings{}).For(app, tenant)
	q.NearLimit(0.9)
	assert.InDelta(t, 300, q.Tokens(), 1e-6, "90 % used: 300 of 3,000 left")
}

// A transient 503 holds the writes but leaves the bucket as it was.
func TestTransientKeepsTokens(t *testing.T) {
	c := newFakeClock()
	r := newTestRegistry(c, Settings{})
	p := r.For(app, tenant)
	w, _ := p.Acquire(context.Background())
	w.Throttled(Throttle{RetryAfter: 2 * time.Second, Transient: true})
	assert.InDelta(t, 2999+40, p.Tokens(), 41, "not emptied")
	write(t, p)
	assert.Equal(t, 1, r.Stats().Transient)
}

// Writes in flight follow Little's law: rate × latency × headroom, so the
// same pacer reaches the quota at 100 ms and at 2 s, and a scaled quota
// at the same latency gets proportionally more; bounded by Min/MaxInFlight.
func TestLittlesLawSizing(t *testing.T) {
	limit := func(s Settings, latency time.Duration) int {
		p := newTestRegistry(newFakeClock(), s).For(app, tenant)
		for range 50 {
			p.Observe(latency)
		}
		return p.Limit()
	}
	empty := Settings{Start: -1}
	assert.Equal(t, 3, limit(empty, 100*time.Millisecond), "20/s × 0.1 s × 1.5")
	assert.Equal(t, 5, limit(empty, 150*time.Millisecond), "20/s × 0.15 s × 1.5")
	assert.Equal(t, 60, limit(empty, 2*time.Second), "20/s × 2 s × 1.5")
	assert.Equal(t, 30, limit(Settings{Start: -1, Scale: 10}, 100*time.Millisecond), "200/s × 0.1 s × 1.5")
	assert.Equal(t, 64, limit(Settings{Start: -1, Scale: 10}, 2*time.Second), "capped at MaxInFlight")
	assert.Equal(t, 1, limit(empty, time.Millisecond), "at least one")
	assert.Equal(t, 8, limit(Settings{Start: -1, MinInFlight: 8}, time.Millisecond))
	assert.Equal(t, 9, limit(Settings{}, 150*time.Millisecond), "a full bucket: the burst rate (×2)")
}

// Acquire never lets more than Limit writes be in flight; a finished one
// frees its place for a waiter.
func TestInFlightBounded(t *testing.T) {
	r := NewRegistry(Settings{MinInFlight: 3, MaxInFlight: 3})
	p := r.For(app, tenant)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var held []*Write
	for range 3 {
		w, err := p.Acquire(ctx)
		require.NoError(t, err)
		held = append(held, w)
	}
	got := make(chan *Write)
	go func() {
		w, err := p.Acquire(ctx)
		if err == nil {
			got <- w
		}
	}()
	select {
	case <-got:
		t.Fatal("a fourth write started with three in flight")
	case <-time.After(50 * time.Millisecond):
	}
	held[0].Done()
	w := <-got
	assert.Equal(t, 3, p.InFlight())
	w.Done()
	held[1].Done()
	held[2].Cancel()
	assert.Equal(t, 0, p.InFlight())
	assert.Equal(t, 3, r.Stats().Attempts, "the cancelled one gave its token back")

	short, stop := context.WithCancel(context.Background())
	stop()
	_, err := p.Acquire(short)
	assert.ErrorIs(t, err, context.Canceled)
}

// Tokens shows every bucket, app+tenant and per-app, for /metrics.
func TestRegistryTokensShowsEveryBucket(t *testing.T) {
	c := newFakeClock()
	r := newTestRegistry(c, Settings{App: Quota{Requests: 100, Per: 10 * time.Second}, AppTenant: Quota{Requests: 30, Per: 10 * time.Second}})
	p := r.For(app, tenant)
	for range 10 {
		write(t, p)
	}
	got := r.Tokens()
	assert.InDelta(t, 20, got[strings.ToLower(app)+"|"+strings.ToLower(tenant)], 0.01)
	assert.InDelta(t, 90, got[strings.ToLower(app)], 0.01)
	assert.Len(t, got, 2)
}
