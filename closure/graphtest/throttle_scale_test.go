package graphtest

import (
	"net/http"
	"testing"
	"time"
)

// TestThrottleScaledQuotaAndTokens: the test controls a pacer's benchmark
// uses. A scaled quota scales burst and rate; an emptied bucket refuses the
// next write with the write quota's headers, limit percentage included,
// and refills at the scaled rate.
func TestThrottleScaledQuotaAndTokens(t *testing.T) {
	e := newThrottleEnv(t, 10, Options{})
	e.s.SetWriteQuotaScale(10)
	if got := e.s.WriteTokens(e.ten.AppID, e.ten.ID); got != 30000 {
		t.Fatalf("10× write tokens = %v, want 30,000", got)
	}
	e.s.SetWriteTokens(e.ten.AppID, e.ten.ID, 0)
	resp := e.do(t, http.MethodDelete, "/v1.0/users/"+newGUID())
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("write on an empty bucket: %d, want 429", resp.StatusCode)
	}
	h := resp.Header
	if want := "Tenant_Application/Write/" + e.ten.AppID + "/" + e.ten.ID; h.Get("x-ms-throttle-scope") != want {
		t.Errorf("x-ms-throttle-scope = %q, want %q", h.Get("x-ms-throttle-scope"), want)
	}
	if h.Get("x-ms-throttle-limit-percentage") != "1.0" || h.Get("Retry-After") != "1" {
		t.Errorf("headers = %v", h)
	}
	// 200 writes/s at 10×: after 100 ms, 20 pass and the 21st does not.
	e.clock.Advance(100 * time.Millisecond)
	if n429, _ := e.writes(t, 20); n429 != 0 {
		t.Errorf("%d of 20 writes refused after 100 ms at 200/s", n429)
	}
	if resp := e.do(t, http.MethodDelete, "/v1.0/users/"+newGUID()); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("write 21: %d, want 429", resp.StatusCode)
	}
}
