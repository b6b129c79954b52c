package metrics

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// A throttled Graph answer is counted with its status and the kind and
// operation of its x-ms-throttle-scope (graph-wire.md: "on 429
// x-ms-throttle-scope: <Tenant_Application|Tenant|Application>/<Read|Write|ReadWrite>/<appId>/<tenantId>"),
// without the ids; token requests count as login.
func TestGraphTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			w.Header().Set("x-ms-throttle-scope", "Tenant_Application/Write/11111111-app/22222222-tenant")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	m := New(nil)
	c := &http.Client{Transport: m.GraphTransport(srv.Client().Transport)}
	for _, req := range []struct{ method, path string }{
		{http.MethodDelete, "/v1.0/users/42"}, {http.MethodGet, "/v1.0/users"}, {http.MethodPost, "/tenant/oauth2/v2.0/token"},
	} {
		r, err := http.NewRequest(req.method, srv.URL+req.path, nil)
		require.NoError(t, err)
		resp, err := c.Do(r)
		require.NoError(t, err)
		resp.Body.Close()
	}
	out := scrape(t, m)
	assert.Contains(t, out, `closebot_graph_requests_total{method="DELETE",status="429",target="graph",throttle_scope="Tenant_Application/Write"} 1`)
	assert.Contains(t, out, `closebot_graph_requests_total{method="GET",status="200",target="graph",throttle_scope=""} 1`)
	assert.Contains(t, out, `closebot_graph_requests_total{method="POST",status="200",target="login",throttle_scope=""} 1`)
	assert.NotContains(t, out, "22222222-tenant")
}

func TestSlackMethod(t *testing.T) {
	for path, want := range map[string]string{
		"/api/chat.postMessage":          "chat.postMessage",
		"/api/apps.connections.open":     "apps.connections.open",
		"/slack/api/users.info":          "users.info",
		"/actions/T0/12345/abcdefsecret": "other",
		"/api/":                          "other",
	} {
		assert.Equal(t, want, slackMethod(path), path)
	}
}

func TestSlackTransportCounts429s(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "chat.update") {
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	defer srv.Close()
	m := New(nil)
	c := &http.Client{Transport: m.SlackTransport(nil)}
	for _, p := range []string{"/api/chat.update", "/api/chat.update", "/api/chat.postMessage"} {
		resp, err := c.Post(srv.URL+p, "application/json", nil)
		require.NoError(t, err)
		resp.Body.Close()
	}
	out := scrape(t, m)
	assert.Contains(t, out, `closebot_slack_rate_limited_total{method="chat.update"} 2`)
	assert.Contains(t, out, `closebot_slack_calls_total{method="chat.postMessage",status="200"} 1`)
	assert.Contains(t, out, `closebot_slack_calls_total{method="chat.update",status="429"} 2`)
}

type nopReporter struct{ closure.Reporter }

func (nopReporter) RequestChanged(context.Context, *closure.Request, closure.Event) error { return nil }

// Each finished step is observed once, with its outcome and duration,
// however many events repeat it; a step a previous process saw finish is
// not observed again.
func TestReporterObservesEachStepOnce(t *testing.T) {
	m := New(nil)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := m.WrapReporter(nopReporter{}, t0.Add(time.Minute))
	req := &closure.Request{ID: "CT-1", Steps: []closure.StepProgress{
		{Step: 1, Status: closure.StepDone, StartedAt: t0, FinishedAt: t0.Add(30 * time.Second)},
		{Step: 2, Status: closure.StepDone, StartedAt: t0.Add(30 * time.Second), FinishedAt: t0.Add(120 * time.Second)},
		{Step: 3, Status: closure.StepRunning, StartedAt: t0.Add(120 * time.Second)},
	}}
	ctx := context.Background()
	require.NoError(t, r.RequestChanged(ctx, req, closure.Event{Action: closure.EvStepDone}))
	require.NoError(t, r.RequestChanged(ctx, req, closure.Event{Action: closure.EvStepProgress}))
	req.Steps[2].Status, req.Steps[2].FinishedAt = closure.StepFailed, t0.Add(130*time.Second)
	require.NoError(t, r.RequestChanged(ctx, req, closure.Event{Action: closure.EvStepFailed}))
	require.NoError(t, r.RequestChanged(ctx, req, closure.Event{Action: closure.EvStepFailed}))
	out := scrape(t, m)
	assert.NotContains(t, out, `step="1"`, "finished before this process started")
	assert.Contains(t, out, `closebot_step_duration_seconds_count{outcome="done",step="2"} 1`)
	assert.Contains(t, out, `closebot_step_duration_seconds_sum{outcome="done",step="2"} 90`)
	assert.Contains(t, out, `closebot_step_duration_seconds_count{outcome="failed",step="3"} 1`)
	assert.Contains(t, out, `closebot_step_duration_seconds_sum{outcome="failed",step="3"} 10`)
}

func TestRequestsAndPacerAreReadAtScrape(t *testing.T) {
	n := 1
	m := New(func(context.Context) (map[string]int, error) { return map[string]int{"running": n}, nil })
	m.PacerTokens(func() map[string]float64 { return map[string]float64{"contoso.onmicrosoft.com": 12.5} })
	assert.Contains(t, scrape(t, m), `closebot_requests{state="running"} 1`)
	n = 3
	out := scrape(t, m)
	assert.Contains(t, out, `closebot_requests{state="running"} 3`)
	assert.Contains(t, out, `closebot_pacer_tokens{tenant="contoso.onmicrosoft.com"} 12.5`)
}
