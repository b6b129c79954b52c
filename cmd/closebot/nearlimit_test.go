package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure/pace"
)

// An admitted write whose answer says 90 % of the limit is used leaves the
// pacer at most the remaining 10 % of its bucket; a read's answer, or a
// write's without the header, changes nothing.
func TestNearLimitHeaderReachesThePacer(t *testing.T) {
	pct := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if pct != "" {
			w.Header().Set("x-ms-throttle-limit-percentage", pct)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	reg := pace.NewRegistry(pace.Settings{})
	p := reg.For("app", "tenant")
	tr := nearLimitTransport{next: http.DefaultTransport, pacer: func() *pace.Pacer { return p }}
	send := func(method string) {
		req, err := http.NewRequest(method, srv.URL+"/v1.0/users/x", nil)
		require.NoError(t, err)
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	full := p.Tokens()
	require.InDelta(t, pace.AppTenantWrites.Requests, full, 1)

	send(http.MethodDelete)
	assert.InDelta(t, full, p.Tokens(), 1, "no header: nothing changes")
	pct = "0.9"
	send(http.MethodGet)
	assert.InDelta(t, full, p.Tokens(), 1, "a read's answer is about another quota")
	send(http.MethodDelete)
	assert.LessOrEqual(t, p.Tokens(), 0.1*full+1, "a write's answer caps the bucket")
}
