package main

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/closebot/closebot/closure/pace"
)

// nearLimitTransport feeds the x-ms-throttle-limit-percentage of an
// admitted write's answer to the tenant's pacer (Learn graph/throttling:
// Graph adds it once more than 80 % of a limit is used). The pacer then
// holds no more tokens than the service has left, whatever it believed: a
// restart, or another process writing with the same app.
type nearLimitTransport struct {
	next  http.RoundTripper
	pacer func() *pace.Pacer // the tenant's pacer; looked up per answer
}

func (t nearLimitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil || r.Method == http.MethodGet || resp.StatusCode == http.StatusTooManyRequests {
		return resp, err // reads have their own quotas; a 429 reaches the pacer through the step
	}
	if v := resp.Header.Get("x-ms-throttle-limit-percentage"); v != "" {
		if pct, perr := strconv.ParseFloat(strings.TrimSpace(v), 64); perr == nil && pct > 0 && pct <= 1 {
			t.pacer().NearLimit(pct)
		}
	}
	return resp, nil
}
