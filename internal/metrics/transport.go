package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// roundTripper counts each request after its response (or error).
type roundTripper struct {
	next http.RoundTripper
	seen func(req *http.Request, resp *http.Response, err error, took time.Duration)
}

func (t roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	t.seen(req, resp, err, time.Since(start))
	return resp, err
}

func orDefault(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		return http.DefaultTransport
	}
	return rt
}

// status is the response's code, or "error" when there was no response
// (a dial failure, a timeout, a cancelled context).
func status(resp *http.Response, err error) string {
	if err != nil || resp == nil {
		return "error"
	}
	return strconv.Itoa(resp.StatusCode)
}

// GraphTransport wraps the transport closure/msgraph uses (Graph and the
// Entra authority share it): requests by target, method, status and
// throttle scope, and Graph's latency.
func (m *Metrics) GraphTransport(next http.RoundTripper) http.RoundTripper {
	return roundTripper{next: orDefault(next), seen: func(req *http.Request, resp *http.Response, err error, took time.Duration) {
		target := "graph"
		// Token requests go to the authority: /<tenant>/oauth2/v2.0/token,
		// and its discovery documents.
		if strings.Contains(req.URL.Path, "/oauth2/") || strings.Contains(req.URL.Path, "/.well-known/") ||
			strings.Contains(req.URL.Path, "/discovery/") {
			target = "login"
		}
		scope := ""
		if resp != nil {
			scope = throttleScope(resp.Header.Get("x-ms-throttle-scope"))
		}
		m.graph.WithLabelValues(target, req.Method, status(resp, err), scope).Inc()
		if target == "graph" {
			m.graphSeconds.WithLabelValues(req.Method).Observe(took.Seconds())
		}
	}}
}

// SlackTransport wraps the Slack Web API client's transport: calls by
// method (the last element of /api/<method>) and status, and 429s.
func (m *Metrics) SlackTransport(next http.RoundTripper) http.RoundTripper {
	return roundTripper{next: orDefault(next), seen: func(req *http.Request, resp *http.Response, err error, _ time.Duration) {
		method := slackMethod(req.URL.Path)
		st := status(resp, err)
		m.slack.WithLabelValues(method, st).Inc()
		if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
			m.slack429.WithLabelValues(method).Inc()
		}
	}}
}

// slackMethod is the Web API method of a path like /api/chat.postMessage;
// anything else (a response_url) is "other", so no path becomes a series.
func slackMethod(path string) string {
	i := strings.LastIndex(path, "/api/")
	if i < 0 {
		return "other"
	}
	m := path[i+len("/api/"):]
	if m == "" || strings.ContainsAny(m, "/?") || len(m) > 64 {
		return "other"
	}
	return m
}
