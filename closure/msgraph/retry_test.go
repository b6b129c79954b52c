package msgraph

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/graphtest"
)

// A throttled DELETE is sent once: the 429 goes back to the executor's
// pacer with everything it adapts to (Retry-After, x-ms-throttle-scope,
// x-ms-throttle-limit-percentage), and no sleep happens here. The pacer's
// retry is a new request and arrives.
func TestThrottledWriteGoesBackToThePacer(t *testing.T) {
	s := graphtest.New(graphtest.Options{})
	s.Start()
	t.Cleanup(s.Close)
	spec := smallSpec()
	tn := s.AddTenant(spec)
	s.RegisterClientSecret(tn.ID, spec.ClosebotAppID, testSecret)
	cfg := baseConfig(s, tn, &syncBuffer{})
	cfg.ClientSecret = testSecret
	d, err := New(context.Background(), cfg)
	require.NoError(t, err)
	rec := &sleepRecorder{}
	d.retry.sleep = rec.sleep

	victim := pickUser(t, tn, ordinary)
	s.SetWriteTokens(tn.ClosebotAppID, tn.ID, 0)
	err = d.DeleteUser(ctxT(t), victim.ID)
	ae, ok := closure.AsAPIError(err)
	require.True(t, ok, "error %v", err)
	assert.Equal(t, http.StatusTooManyRequests, ae.Status)
	assert.Equal(t, time.Second, ae.RetryAfter)
	assert.Equal(t, "Tenant_Application/Write/"+tn.ClosebotAppID+"/"+tn.ID, ae.ThrottleScope)
	assert.InDelta(t, 1.0, ae.LimitPercentage, 1e-9)
	assert.Empty(t, rec.got(), "writes are not retried in the adapter")
	assert.Len(t, requests(s, http.MethodDelete, "/users/"+victim.ID), 1)

	s.SetWriteTokens(tn.ClosebotAppID, tn.ID, 10)
	require.NoError(t, d.DeleteUser(ctxT(t), victim.ID), "the retry")
	info, _ := tn.User(victim.ID)
	assert.True(t, info.Deleted)
}

// A PATCH refused with 429 or 503 is sent once too; a retry (the pacer's)
// builds a new request and arrives with its whole (gzip) body.
func TestPatchRetriedWithItsBody(t *testing.T) {
	e := newEnv(t, smallSpec())
	e.s.InjectFault(graphtest.Fault{Method: http.MethodPatch, PathPrefix: "/organization/", Status: http.StatusTooManyRequests, RetryAfter: "1", Times: 1})
	err := e.d.DisableSync(ctxT(t), e.tn.ID)
	ae, ok := closure.AsAPIError(err)
	require.True(t, ok, "error %v", err)
	assert.Equal(t, http.StatusTooManyRequests, ae.Status)
	assert.Equal(t, time.Second, ae.RetryAfter)
	require.NoError(t, e.d.DisableSync(ctxT(t), e.tn.ID))
	patches := requests(e.s, http.MethodPatch, "/beta/organization/")
	require.Len(t, patches, 2)
	assert.Equal(t, http.StatusTooManyRequests, patches[0].Status)
	assert.Equal(t, http.StatusNoContent, patches[1].Status)
	assert.Contains(t, patches[1].Body, `"onPremisesSyncEnabled":false`)
	assert.False(t, e.tn.SyncEnabled())
	require.Len(t, e.s.Writes(), 1)

	u := pickUser(t, e.tn, func(u graphtest.UserInfo) bool { return u.MFAState == "enforced" })
	e.s.InjectFault(graphtest.Fault{Method: http.MethodPatch, PathPrefix: "/users/", Status: http.StatusServiceUnavailable, RetryAfter: "0", Times: 1})
	ae, ok = closure.AsAPIError(e.d.SetPerUserMFA(ctxT(t), u.ID, "disabled"))
	require.True(t, ok)
	assert.Equal(t, http.StatusServiceUnavailable, ae.Status)
	require.NoError(t, e.d.SetPerUserMFA(ctxT(t), u.ID, "disabled"))
	patches = requests(e.s, http.MethodPatch, "/authentication/requirements")
	require.Len(t, patches, 2)
	assert.Contains(t, patches[1].Body, `"perUserMfaState":"disabled"`)
	info, _ := e.tn.User(u.ID)
	assert.Equal(t, "disabled", info.MFAState)
	assert.Empty(t, e.sleeps.got())
}

// Read retries are bounded; kiota's own retry handler is off (else each
// of our attempts would be four requests).
func TestRetryIsBoundedAndKiotaRetryIsOff(t *testing.T) {
	e := newEnv(t, smallSpec())
	e.s.InjectFault(graphtest.Fault{Method: http.MethodGet, PathPrefix: "/domains", Status: http.StatusServiceUnavailable})
	_, err := e.d.Domains(ctxT(t))
	ae, ok := closure.AsAPIError(err)
	require.True(t, ok, "error %v", err)
	assert.Equal(t, http.StatusServiceUnavailable, ae.Status)
	assert.False(t, closure.IsRefused(err))
	assert.Len(t, requests(e.s, http.MethodGet, "/domains"), 4)
	assert.Equal(t, []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second}, e.sleeps.got(), "backoff without Retry-After")

	// A write is sent once, through kiota once.
	victim := pickUser(t, e.tn, ordinary)
	e.s.ClearFaults()
	e.s.InjectFault(graphtest.Fault{Method: http.MethodDelete, PathPrefix: "/users/", Status: http.StatusServiceUnavailable})
	_, ok = closure.AsAPIError(e.d.DeleteUser(ctxT(t), victim.ID))
	require.True(t, ok)
	assert.Len(t, requests(e.s, http.MethodDelete, "/users/"), 1)
	e.sleeps = &sleepRecorder{}
	e.d.retry.sleep = e.sleeps.sleep

	// A Retry-After longer than we wait goes back to the caller, with it.
	e.s.ClearFaults()
	e.s.InjectFault(graphtest.Fault{Method: http.MethodGet, PathPrefix: "/organization", Status: http.StatusTooManyRequests, RetryAfter: "600", Times: 1})
	_, err = e.d.Organization(ctxT(t))
	ae, ok = closure.AsAPIError(err)
	require.True(t, ok, "error %v", err)
	assert.Equal(t, http.StatusTooManyRequests, ae.Status)
	assert.Equal(t, "TooManyRequests", ae.Code)
	assert.Equal(t, 10*time.Minute, ae.RetryAfter)
	assert.Empty(t, e.sleeps.got(), "no wait for a Retry-After beyond the bound")

	// 500 is not retried.
	e.s.InjectFault(graphtest.Fault{Method: http.MethodGet, PathPrefix: "/domains", Status: http.StatusInternalServerError, Times: 1})
	_, err = e.d.Domains(ctxT(t))
	ae, ok = closure.AsAPIError(err)
	require.True(t, ok, "error %v", err)
	assert.Equal(t, http.StatusInternalServerError, ae.Status)
	assert.Len(t, requests(e.s, http.MethodGet, "/domains"), 5, "four 503s before, one 500 now")
}

// A throttled next page is retried on its own; the listing goes on where it was.
func TestPageFetchRetried(t *testing.T) {
	e := newEnv(t, graphtest.DefaultTenantSpec(1200))
	e.s.InjectFault(graphtest.Fault{Method: http.MethodGet, PathPrefix: "/users", Times: 1, Status: http.StatusTooManyRequests, RetryAfter: "2"})
	n := 0
	seen := map[string]bool{}
	// The first request is the first page: fault it, then the second page too.
	require.NoError(t, e.d.Users(ctxT(t), func(u closure.User) error {
		n++
		seen[u.ID] = true
		if n == 1 {
			e.s.InjectFault(graphtest.Fault{Method: http.MethodGet, PathPrefix: "/users", Times: 1, Status: http.StatusServiceUnavailable, RetryAfter: "3"})
		}
		return nil
	}))
	assert.Equal(t, 1200, n, "every user once")
	assert.Len(t, seen, 1200)
	assert.Equal(t, []time.Duration{2 * time.Second, 3 * time.Second}, e.sleeps.got())
}

// The wait honours the context.
func TestRetryWaitHonoursContext(t *testing.T) {
	e := newEnv(t, smallSpec())
	e.d.retry.sleep = sleepCtx
	e.s.InjectFault(graphtest.Fault{Method: http.MethodGet, PathPrefix: "/organization", Status: http.StatusTooManyRequests, RetryAfter: "60"})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := e.d.Organization(ctx)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "error %v", err)
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"10", 10 * time.Second, true},
		{"0", 0, true},
		{"1.5", 1500 * time.Millisecond, true},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"", 0, false},
		{"soon", 0, false},
		{"-3", 0, false},
	} {
		got, ok := parseRetryAfter(c.in, now)
		assert.Equal(t, c.want, got, c.in)
		assert.Equal(t, c.ok, ok, c.in)
	}
}
