package run

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/pace"
)

// Every Graph write goes through the tenant's pacer (closure/pace): it
// waits for a write token and a place in flight, and a throttled answer
// is retried here, through the pacer again, so every retry spends a token.
// The adapter sends writes once (closure/msgraph).

// maxWriteAttempts bounds one write's throttled or transient attempts;
// past it the error goes back to the Run loop, which tries the step
// again after a re-check interval.
const maxWriteAttempts = 10

// Pacer returns the Runner's pacer registry, built on first use from
// Pacing with the Service's clock and After: one registry per Runner, so
// the closures it runs for one app share that app's budget.
func (r *Runner) Pacer() *pace.Registry {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pacer == nil {
		s := r.Pacing
		if s.Now == nil {
			s.Now = r.now
		}
		if s.After == nil {
			s.After = r.after
		}
		r.pacer = pace.NewRegistry(s)
	}
	return r.pacer
}

// SetPacing replaces Pacing and starts a fresh registry: for wiring and
// tests that build the Runner elsewhere, before any closure writes (the
// closures running meanwhile would otherwise pace on two budgets).
func (r *Runner) SetPacing(s pace.Settings) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Pacing = s
	r.pacer = nil
}

// pacer is this tenant's pacer, keyed by closebot's app (client id) and
// the tenant.
func (x *tenantWork) pacer() *pace.Pacer {
	return x.r.Pacer().For(x.tenant.ClientID, x.tenant.ID)
}

// safePoint is the check before any Graph write starts: no emergency
// stop, and the stored request still allows it (a pause or an abort
// stored meanwhile stops it).
func (x *tenantWork) safePoint(ctx context.Context, ok func(*closure.Request) bool) error {
	if x.r.Halted() {
		return errStopped
	}
	req, err := x.r.store().Get(ctx, x.id)
	if err != nil {
		return fmt.Errorf("read %s: %w", x.id, err)
	}
	if !ok(req) {
		return errStopped
	}
	return nil
}

// write sends one Graph write through the pacer; see send.
func (x *tenantWork) write(ctx context.Context, ok func(*closure.Request) bool, call func(context.Context) error) error {
	return x.send(ctx, ok, nil, call)
}

// send makes one write: each attempt takes a token and a place in flight
// (first: one already taken, after its safe point), passes the safe point
// and calls Graph; a 429 or 503/504 tells the pacer and tries again.
func (x *tenantWork) send(ctx context.Context, ok func(*closure.Request) bool, first *pace.Write, call func(context.Context) error) error {
	p := x.pacer()
	w := first
	for attempt := 1; ; attempt++ {
		if w == nil {
			var err error
			if w, err = p.Acquire(ctx); err != nil {
				return err
			}
			if err := x.safePoint(ctx, ok); err != nil {
				w.Cancel()
				return err
			}
		}
		err := call(ctx)
		th, again := throttleOf(err)
		if !again {
			if ctx.Err() != nil {
				w.Cancel() // no answer to learn from
			} else {
				w.Done()
			}
			return err
		}
		w.Throttled(th)
		w = nil
		if attempt >= maxWriteAttempts {
			return err
		}
		x.r.logger().DebugContext(ctx, "graph write throttled, the pacer retries it", "request", x.id, "err", err,
			"retry_after", th.RetryAfter, "scope", th.Scope, "attempt", attempt)
	}
}

// throttleOf reads a refused write's answer: a 429 (throttled) or a
// 503/504 (transient) is retried through the pacer; anything else is not.
func throttleOf(err error) (pace.Throttle, bool) {
	ae, ok := closure.AsAPIError(err)
	if !ok || errors.Is(err, context.Canceled) {
		return pace.Throttle{}, false
	}
	switch ae.Status {
	case http.StatusTooManyRequests:
		return pace.Throttle{RetryAfter: ae.RetryAfter, Scope: ae.ThrottleScope, LimitPercentage: ae.LimitPercentage}, true
	case http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return pace.Throttle{RetryAfter: ae.RetryAfter, Transient: true}, true
	}
	return pace.Throttle{}, false
}
