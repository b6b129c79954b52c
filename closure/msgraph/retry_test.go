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

// A DELETE throttled twice with Retry-After is retried by the adapter after
// exactly the waits Graph asked for, and arrives.
func TestDeleteRetriedAfterRetryAfter(t *testing.T) {
	e := newEnv(t, smallSpec())
	victim := pickUser(t, e.tn, ordinary)
	e.s.InjectFault(graphtest.Fault{Method: http.MethodDelete, PathPrefix: "/users/", Status: http.StatusTooManyRequests, RetryAfter: "7", Times: 2})
	require.NoError(t, e.d.DeleteUser(ctxT(t), victim.ID))
	assert.Equal(t, []time.Duration{7 * time.Second, 7 * time.Second}, e.sleeps.got())
	dels := requests(e.s, http.MethodDelete, "/users/"+victim.ID)
	require.Len(t, dels, 3)
	assert.Equal(t, []int{429, 429, 204}, []int{dels[0].Status, dels[1].Status, dels[2].Status})
	info, _ := e.tn.User(victim.ID)
	assert.True(t, info.Deleted)
}

// A PATCH retried after a 429 arrives with its whole (gzip) body: the
// retry builds a new request, kiota never resends one.
func TestPatchRetriedWithItsBody(t *testing.T) {
	e := newEnv(t, smallSpec())
	e.s.InjectFault(graphtest.Fault{Method: http.MethodPatch, PathPrefix: "/organization/", Status: http.StatusTooManyRequests, RetryAfter: "1", Times: 1})
	require.NoError(t, e.d.DisableSync(ctxT(t), e.tn.ID))
	patches := requests(e.s, http.MethodPatch, "/beta/organization/")
	require.Len(t, patches, 2)
	assert.Equal(t, http.StatusTooManyRequests, patches[0].Status)
	assert.Equal(t, http.StatusNoContent, patches[1].Status)
	assert.Contains(t, patches[1].Body, `"onPremisesSyncEnabled":false`)
	assert.False(t, e.tn.SyncEnabled())
	require.Len(t, e.s.Writes(), 1)
	assert.Equal(t, []time.Duration{time.Second}, e.sleeps.got())

	u := pickUser(t, e.tn, func(u graphtest.UserInfo) bool { return u.MFAState == "enforced" })
	e.s.InjectFault(graphtest.Fault{Method: http.MethodPatch, PathPrefix: "/users/", Status: http.StatusServiceUnavailable, RetryAfter: "0", Times: 1})
	require.NoError(t, e.d.SetPerUserMFA(ctxT(t), u.ID, "disabled"))
	patches = requests(e.s, http.MethodPatch, "/authentication/requirements")
	require.Len(t, patches, 2)
	assert.Contains(t, patches[1].Body, `"perUserMfaState":"disabled"`)
	info, _ := e.tn.User(u.ID)
	assert.Equal(t, "disabled", info.MFAState)
}

// Retries are bounded; kiota's own retry handler is off (else each of our
// attempts would be four requests).
func TestRetryIsBoundedAndKiotaRetryIsOff(t *testing.T) {
	e := newEnv(t, smallSpec())
	victim := pickUser(t, e.tn, ordinary)
	e.s.InjectFault(graphtest.Fault{Method: http.MethodDelete, PathPrefix: "/users/", Status: http.StatusServiceUnavailable})
	err := e.d.DeleteUser(ctxT(t), victim.ID)
	ae, ok := closure.AsAPIError(err)
	require.True(t, ok, "error %v", err)
	assert.Equal(t, http.StatusServiceUnavailable, ae.Status)
	assert.False(t, closure.IsRefused(err))
	assert.Len(t, requests(e.s, http.MethodDelete, "/users/"), 4)
	assert.Equal(t, []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second}, e.sleeps.got(), "backoff without Retry-After")

	// A Retry-After longer than we wait goes back to the caller, with it.
	e.s.ClearFaults()
	e.s.InjectFault(graphtest.Fault{Method: http.MethodGet, PathPrefix: "/organization", Status: http.StatusTooManyRequests, RetryAfter: "600", Times: 1})
	_, err = e.d.Organization(ctxT(t))
	ae, ok = closure.AsAPIError(err)
	require.True(t, ok, "error %v", err)
	assert.Equal(t, http.StatusTooManyRequests, ae.Status)
	assert.Equal(t, "TooManyRequests", ae.Code)
	assert.Equal(t, 10*time.Minute, ae.RetryAfter)
	assert.Len(t, e.sleeps.got(), 3, "no wait for a Retry-After beyond the bound")

	// 500 is not retried.
	e.s.InjectFault(graphtest.Fault{Method: http.MethodGet, PathPrefix: "/domains", Status: http.StatusInternalServerError, Times: 1})
	_, err = e.d.Domains(ctxT(t))
	ae, ok = closure.AsAPIError(err)
	require.True(t, ok, "error %v", err)
	assert.Equal(t, http.StatusInternalServerError, ae.Status)
	assert.Len(t, requests(e.s, http.MethodGet, "/domains"), 1)
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
