// Package metrics holds closebot's Prometheus collectors and the hooks that
// feed them: http.RoundTripper wrappers for Graph and Slack, a
// closure.Reporter decorator for step outcomes, and plain functions the bot
// and the pacer call. It keeps client_golang out of the core packages.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one closebot's collectors, on a registry of their own (tests
// start several closebots in one process).
type Metrics struct {
	reg          *prometheus.Registry
	steps        *prometheus.HistogramVec
	graph        *prometheus.CounterVec
	graphSeconds *prometheus.HistogramVec
	pacer        *pacerCollector
	slack        *prometheus.CounterVec
	slack429     *prometheus.CounterVec
	ack          *prometheus.HistogramVec
	socket       prometheus.Gauge
	conns        prometheus.Gauge
}

// RequestCounter reads how many requests are in each state (the store, at
// scrape time: the database is the truth, and a restart loses nothing).
type RequestCounter func(ctx context.Context) (map[string]int, error)

// New registers every collector; requests may be nil (no requests gauge).
func New(requests RequestCounter) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.steps = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "closebot_step_duration_seconds",
		Help: "How long each finished step of a closure took (closebot's clock), by step and outcome (done, failed).",
		// Steps last from seconds to days (gates wait for people and 72 h
		// of deprovisioning).
		Buckets: []float64{1, 10, 60, 600, 3600, 6 * 3600, 24 * 3600, 72 * 3600, 14 * 24 * 3600},
	}, []string{"step", "outcome"})
	m.graph = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "closebot_graph_requests_total",
		Help: "Microsoft Graph and Entra sign-in requests by host kind, method, HTTP status and x-ms-throttle-scope (kind/operation, on 429s).",
	}, []string{"target", "method", "status", "throttle_scope"})
	m.graphSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "closebot_graph_request_duration_seconds",
		Help:    "Microsoft Graph request latency by method.",
		Buckets: prometheus.DefBuckets,
	}, []string{"method"})
	m.pacer = &pacerCollector{desc: prometheus.NewDesc("closebot_pacer_tokens",
		"Tokens left in the Graph write pacer's bucket, by tenant (read at scrape time).", []string{"tenant"}, nil)}
	m.slack = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "closebot_slack_calls_total",
		Help: "Slack Web API calls by method and HTTP status.",
	}, []string{"method", "status"})
	m.slack429 = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "closebot_slack_rate_limited_total",
		Help: "Slack Web API calls answered 429 (rate limited), by method.",
	}, []string{"method"})
	m.ack = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "closebot_ack_latency_seconds",
		Help:    "From a socket-mode envelope's receipt to its ack, by envelope type; Slack's deadline is 3 s.",
		Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2, 3, 5},
	}, []string{"type"})
	m.socket = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "closebot_slack_socket_connected",
		Help: "1 while the socket-mode socket is connected (after its hello), else 0.",
	})
	m.conns = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "closebot_slack_connections",
		Help: "num_connections of the current socket's hello: more than 1 means another instance uses the app.",
	})
	m.reg.MustRegister(m.steps, m.graph, m.graphSeconds, m.pacer, m.slack, m.slack429, m.ack, m.socket, m.conns,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if requests != nil {
		m.reg.MustRegister(&requestsCollector{count: requests, desc: prometheus.NewDesc(
			"closebot_requests", "Requests by state, read from the database at scrape time.", []string{"state"}, nil)})
	}
	return m
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry is the registry behind Handler (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveStep records a finished step.
func (m *Metrics) ObserveStep(step int, outcome string, d time.Duration) {
	m.steps.WithLabelValues(strconv.Itoa(step), outcome).Observe(d.Seconds())
}

// PacerTokens is the pacer's hook: tokens reports the tokens left in each
// tenant's write bucket, and is read at every scrape.
func (m *Metrics) PacerTokens(tokens func() map[string]float64) {
	m.pacer.mu.Lock()
	defer m.pacer.mu.Unlock()
	m.pacer.tokens = tokens
}

// pacerCollector reads the pacer's buckets at scrape time.
type pacerCollector struct {
	desc   *prometheus.Desc
	mu     sync.Mutex
	tokens func() map[string]float64
}

func (c *pacerCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *pacerCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	f := c.tokens
	c.mu.Unlock()
	if f == nil {
		return
	}
	for tenant, n := range f() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, n, tenant)
	}
}

// ObserveAck records the time from an envelope's receipt to its ack.
func (m *Metrics) ObserveAck(envelopeType string, d time.Duration) {
	m.ack.WithLabelValues(envelopeType).Observe(d.Seconds())
}

// SetSocket records the socket's state and the current hello's count.
func (m *Metrics) SetSocket(connected bool, connections int) {
	v := 0.0
	if connected {
		v = 1
	}
	m.socket.Set(v)
	m.conns.Set(float64(connections))
}

// requestsCollector reads the requests by state at each scrape.
type requestsCollector struct {
	count RequestCounter
	desc  *prometheus.Desc
}

func (c *requestsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *requestsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	byState, err := c.count(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for state, n := range byState {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), state)
	}
}

// throttleScope keeps the kind and operation of x-ms-throttle-scope
// ("Tenant_Application/Write/<appId>/<tenantId>" → "Tenant_Application/Write"):
// the ids would make a series per tenant and app.
func throttleScope(h string) string {
	parts := strings.SplitN(h, "/", 3)
	if len(parts) < 2 {
		return h
	}
	return parts[0] + "/" + parts[1]
}
