package msgraph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/closebot/closebot/closure"
)

// retryPolicy is a simple bounded retry that honours Retry-After on
// 429/503/504, for reads only. Writes are sent once (write): the
// executor's pacer (closure/pace) owns their retries, so every retry
// spends a write token and a throttle's scope reaches the pacer.
type retryPolicy struct {
	attempts int           // total tries, first one included
	base     time.Duration // backoff without Retry-After: base·2^(n-1)
	maxWait  time.Duration // a longer Retry-After is returned to the caller
	sleep    func(ctx context.Context, d time.Duration) error
}

func defaultRetry() retryPolicy {
	return retryPolicy{attempts: 4, base: 2 * time.Second, maxWait: 2 * time.Minute, sleep: sleepCtx}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// do runs f, retrying throttling and transient refusals. Every attempt
// builds a fresh request, so a retried write carries its whole body. A
// service refusal comes back as *closure.APIError naming op.
func (d *Directory) do(ctx context.Context, op string, f func(ctx context.Context) error) error {
	for attempt := 1; ; attempt++ {
		err := f(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", op, ctx.Err())
		}
		ae, hinted := asAPIError(op, err)
		if ae == nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if !retryable(ae.Status) || attempt >= d.retry.attempts {
			d.annotatePermission(ctx, op, ae)
			return ae
		}
		wait := ae.RetryAfter
		if !hinted {
			wait = d.retry.base << (attempt - 1)
		}
		if wait > d.retry.maxWait {
			return ae
		}
		d.log.Info("graph call refused, retrying", "op", op, "status", ae.Status, "code", ae.Code,
			"attempt", attempt, "wait", wait)
		if err := d.retry.sleep(ctx, wait); err != nil {
			return fmt.Errorf("%s: waiting to retry after %d: %w", op, ae.Status, err)
		}
	}
}

// write sends a write once: a refusal, throttling included, comes back as
// *closure.APIError (with Retry-After, x-ms-throttle-scope and
// x-ms-throttle-limit-percentage) for the executor's pacer to retry.
func (d *Directory) write(ctx context.Context, op string, f func(ctx context.Context) error) error {
	err := f(ctx)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", op, ctx.Err())
	}
	ae, _ := asAPIError(op, err)
	if ae == nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	d.annotatePermission(ctx, op, ae)
	return ae
}

// deleteOp is write for an idempotent delete: what is already gone is done.
func (d *Directory) deleteOp(ctx context.Context, op string, f func(ctx context.Context) error) error {
	err := d.write(ctx, op, f)
	if ae, ok := closure.AsAPIError(err); ok && ae.Status == http.StatusNotFound {
		d.log.Debug("already gone", "op", op)
		return nil
	}
	return err
}

// asAPIError turns the SDK's error for an HTTP answer into a
// *closure.APIError; nil for anything else (transport, token, decoding).
// hinted reports that the answer carried a Retry-After header.
func asAPIError(op string, err error) (ae *closure.APIError, hinted bool) {
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) {
		ae := &closure.APIError{Op: op, Status: oe.ResponseStatusCode}
		// ODataError.Error() dereferences message unchecked; read it safely.
		if me := oe.GetErrorEscaped(); me != nil {
			ae.Code, ae.Message = deref(me.GetCode()), deref(me.GetMessage())
		}
		if ae.Message == "" {
			ae.Message = http.StatusText(ae.Status)
		}
		ae.RetryAfter, hinted = retryAfter(oe.ResponseHeaders, time.Now())
		throttleHeaders(ae, oe.ResponseHeaders)
		return ae, hinted
	}
	var ke *abs.ApiError
	if errors.As(err, &ke) && ke.ResponseStatusCode != 0 {
		msg := ke.Message
		if msg == "" {
			msg = http.StatusText(ke.ResponseStatusCode)
		}
		ae = &closure.APIError{Op: op, Status: ke.ResponseStatusCode, Message: msg}
		ae.RetryAfter, hinted = retryAfter(ke.ResponseHeaders, time.Now())
		throttleHeaders(ae, ke.ResponseHeaders)
		return ae, hinted
	}
	return nil, false
}

// throttleHeaders copies x-ms-throttle-scope and
// x-ms-throttle-limit-percentage (graph-wire.md §6) into ae.
func throttleHeaders(ae *closure.APIError, h *abs.ResponseHeaders) {
	if h == nil {
		return
	}
	if v := h.Get("x-ms-throttle-scope"); len(v) > 0 {
		ae.ThrottleScope = strings.TrimSpace(v[0])
	}
	if v := h.Get("x-ms-throttle-limit-percentage"); len(v) > 0 {
		if p, err := strconv.ParseFloat(strings.TrimSpace(v[0]), 64); err == nil && p > 0 {
			ae.LimitPercentage = p
		}
	}
}

// retryAfter reads Retry-After as seconds or an HTTP date.
// ok is false when there is no usable header.
func retryAfter(h *abs.ResponseHeaders, now time.Time) (time.Duration, bool) {
	if h == nil {
		return 0, false
	}
	vals := h.Get("Retry-After")
	if len(vals) == 0 {
		return 0, false
	}
	return parseRetryAfter(vals[0], now)
}

func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
