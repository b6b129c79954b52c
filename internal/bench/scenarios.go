package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/closebot/closebot/config"
	"github.com/closebot/closebot/internal/demo"
)

// closures is closebot closing n tenants at once, each of --users users,
// from alice's slash command to the end of step 1 (or the cap).
func (b *bench) closures(ctx context.Context, name string, n int, args ...string) Result {
	r := Result{Scenario: name, Tenants: n, Allowed: b.allowed}
	burst := quotaBurst
	if name == ScenarioBackground {
		// Other apps spent the tenant's burst and keep writing: closebot
		// gets what is left of the tenant's 60/s, from nothing.
		r.Allowed, burst = min(b.allowed, tenantRate*b.quota-b.o.Background), 0
		if r.Allowed <= 0 {
			r.Err = fmt.Errorf("background writes %g/s leave closebot nothing of the tenant's %g/s", b.o.Background, tenantRate*b.quota)
			return r
		}
	}
	args = append([]string{"--users", strconv.Itoa(b.o.Users), "--plain-users", "--quota-scale", fmt.Sprint(b.quota), "--tenants", strconv.Itoa(n)}, args...)
	w, err := b.startWorld(ctx, name, b.scale, b.o.Latency, true, args...)
	if err != nil {
		r.Err = err
		return r
	}
	defer w.close()
	tenants := w.emu.cfg.Tenants[:n]
	p := w.people()
	targets := make([]int, n)
	errs := make(chan error, n)
	for i, t := range tenants {
		go func() {
			users, err := p.openAndApprove(t.Domain)
			if err == nil {
				targets[i] = users
				err = p.signIn(ctx, t)
			}
			if err == nil && name == ScenarioBackground {
				// Step 1 starts now: the other apps have just spent the
				// tenant's burst (it refilled while the closure was approved).
				err = w.spendTenantWrites(ctx, t.ID)
			}
			errs <- err
		}()
	}
	for range n {
		r.Err = errors.Join(r.Err, <-errs)
	}
	if r.Err != nil {
		r.Err = fmt.Errorf("%w (closebot's log: %s)", r.Err, w.bot.tail())
		return r
	}
	r.Ideal = b.ideal(targets[0], burst, r.Allowed)
	r.Err = b.await(ctx, w, tenants, targets, b.limit(r.Ideal))
	r.PeakRSS = w.botRSS()
	b.summarize(ctx, &r, w, tenants, targets)
	return r
}

// baseline is one of the two loops closebot is compared with, deleting the
// users of one tenant: sequential (one DELETE at a time through the real
// msgraph adapter, step 1 as it was) or unpaced (16 in flight, no pacing).
func (b *bench) baseline(ctx context.Context, name string) Result {
	r := Result{Scenario: name, Tenants: 1, Allowed: b.allowed}
	w, err := b.startWorld(ctx, name, b.scale, b.o.Latency, false,
		"--users", strconv.Itoa(b.o.Users), "--plain-users", "--quota-scale", fmt.Sprint(b.quota))
	if err != nil {
		r.Err = err
		return r
	}
	defer w.close()
	t := w.emu.cfg.Tenants[0]
	d, err := w.emu.directory(ctx, t, w.graph)
	if err != nil {
		r.Err = err
		return r
	}
	ids, err := deletable(ctx, d, t.Keep)
	if err != nil {
		r.Err = err
		return r
	}
	r.Ideal = b.ideal(len(ids), quotaBurst, r.Allowed)
	limit := b.limit(r.Ideal)
	if name == ScenarioSequential && b.o.Limit == 0 {
		// Its rate is plain after a few minutes; the total is extrapolated.
		limit = b.warm + 150*time.Second
	}
	stop := func() bool {
		f := w.log.firstDelete(t.ID)
		return !f.IsZero() && w.now().Sub(f) >= limit
	}
	if name == ScenarioSequential {
		r.Err = sequential(ctx, d, ids, stop)
	} else {
		var tok string
		if tok, r.Err = w.emu.appToken(ctx, w.graph, t); r.Err == nil {
			r.Err = unpaced(ctx, w.graph, w.emu.cfg.Graph.BaseURL, tok, ids, w.scale, stop)
		}
	}
	b.summarize(ctx, &r, w, []config.Tenant{t}, []int{len(ids)})
	return r
}

// await waits until every tenant has lost its users, or each has been
// deleting for limit (emulated), or the bot stops.
func (b *bench) await(ctx context.Context, w *world, tenants []config.Tenant, targets []int, limit time.Duration) error {
	started, shown := time.Now(), time.Now()
	for {
		done := true
		for i, t := range tenants {
			f := w.log.firstDelete(t.ID)
			if w.log.deleted(t.ID) < targets[i] && (f.IsZero() || w.now().Sub(f) < limit) {
				done = false
			}
			if f.IsZero() && time.Since(started) > 5*time.Minute {
				return fmt.Errorf("closebot deleted no user of %s within 5 minutes: %s", t.Domain, w.bot.tail())
			}
		}
		if done {
			return nil
		}
		if ok, err := w.bot.exited(); ok {
			return fmt.Errorf("closebot run stopped (%v): %s", err, w.bot.tail())
		}
		if time.Since(shown) > 15*time.Second {
			shown = time.Now()
			for i, t := range tenants {
				fmt.Fprintf(b.o.Progress, "bench:   %s: %d of %d users deleted\n", t.Domain, w.log.deleted(t.ID), targets[i])
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// summarize fills r from what the emulator logged of the tenants' writes.
func (b *bench) summarize(ctx context.Context, r *Result, w *world, tenants []config.Tenant, targets []int) {
	time.Sleep(300 * time.Millisecond) // the last answers reach the log
	if err := w.log.poll(ctx); err != nil {
		r.Err = errors.Join(r.Err, err)
	}
	attempts, n429, steady := 0, 0, 0.0
	for i, t := range tenants {
		m := w.log.measure(t.ID, b.warm)
		r.Deleted += m.deleted
		r.Target += targets[i]
		attempts += m.attempts
		n429 += m.n429
		r.Failures += m.failures
		steady += m.steady / float64(len(tenants))
		total := m.last.Sub(m.first)
		if left := targets[i] - m.deleted; left > 0 {
			r.Projected = true
			if m.steady > 0 {
				total += time.Duration(float64(left) / m.steady * float64(time.Second))
			} else {
				total = -1
			}
		}
		if r.Total >= 0 && (total < 0 || total > r.Total) {
			r.Total = total
		}
	}
	r.Steady = steady
	if attempts > 0 {
		r.Share429 = float64(n429) / float64(attempts)
	}
}

// slackCommands is how many /close-tenant commands the Slack side sends at once.
const slackCommands = 20

// slackSide is 20 people typing /close-tenant at the same moment, one per
// tenant: how soon each is acknowledged, how soon its card is in the
// channel, and how many of closebot's Web API calls Slack refused with 429
// under its per-method limits. It runs at real time (scale 1).
func (b *bench) slackSide(ctx context.Context) Result {
	r := Result{Scenario: ScenarioSlack, Tenants: slackCommands, Commands: slackCommands, Steady: math.NaN()}
	w, err := b.startWorld(ctx, "slack", 1, b.o.Latency, true, "--users", "50", "--plain-users", "--tenants", strconv.Itoa(slackCommands))
	if err != nil {
		r.Err = err
		return r
	}
	defer w.close()
	p := w.people()
	var mu sync.Mutex
	var acks, cards []time.Duration
	gate := make(chan struct{})
	errs := make(chan error, slackCommands)
	for _, t := range w.emu.cfg.Tenants {
		go func() {
			<-gate
			sent := time.Now()
			env, err := w.slack.Slack().Slash(demo.Alice, demo.Channel, t.Domain+" bench: Slack side")
			if err != nil {
				errs <- err
				return
			}
			if _, err := env.WaitAck(3 * time.Second); err != nil {
				errs <- fmt.Errorf("/close-tenant %s: %w", t.Domain, err)
				return
			}
			a, _ := env.Ack()
			err = w.slack.Slack().WaitFor(3*time.Minute, func() bool { _, ok := p.card(t.Domain); return ok })
			mu.Lock()
			acks = append(acks, a.Latency)
			if err == nil {
				cards = append(cards, time.Since(sent))
			}
			mu.Unlock()
			if err != nil {
				err = fmt.Errorf("no card for %s: %w", t.Domain, err)
			}
			errs <- err
		}()
	}
	close(gate)
	for range slackCommands {
		r.Err = errors.Join(r.Err, <-errs)
	}
	r.AckP99, r.CardP99 = p99(acks), p99(cards)
	r.Slack429 = map[string]int{}
	for _, f := range w.slack.Slack().Refusals() {
		if f.Status == 429 {
			r.Slack429[f.Method]++
		}
	}
	r.PeakRSS = w.botRSS()
	return r
}

// p99 is the 99th percentile by nearest rank (of 20 samples: the largest).
func p99(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(math.Ceil(0.99*float64(len(s))))-1]
}
