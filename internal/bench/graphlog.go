package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/closebot/closebot/closure/graphtest"
)

// emulatorClient trusts the Graph emulator's self-signed certificate.
func emulatorClient(certFile string, conns int) (*http.Client, error) {
	pem, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("the emulator's certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", certFile)
	}
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: conns,
	}
	return &http.Client{Transport: tr, Timeout: time.Minute}, nil
}

// write is one write the Graph emulator answered, from its request log.
type write struct {
	at        time.Time // emulator clock
	tenant    string
	status    int
	throttled bool
	userDel   bool // DELETE /v1.0/users/{id}
}

// graphLog reads the emulator's request log as it grows
// (/emulator/requests?since=N) and keeps the writes: the bench measures at
// the emulator, not by the client's own account.
type graphLog struct {
	c    *http.Client
	root string

	mu     sync.Mutex
	next   int
	writes []write
}

func (g *graphLog) poll(ctx context.Context) error {
	g.mu.Lock()
	since := g.next
	g.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/emulator/requests?since=%d", g.root, since), nil)
	if err != nil {
		return err
	}
	resp, err := g.c.Do(req)
	if err != nil {
		return fmt.Errorf("read the emulator's request log: %w", err)
	}
	defer resp.Body.Close()
	var reqs []graphtest.Request
	if err := json.NewDecoder(resp.Body).Decode(&reqs); err != nil {
		return fmt.Errorf("decode the emulator's request log: %w", err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.next = since + len(reqs)
	for _, r := range reqs {
		if r.Kind != "graph" || r.Method == http.MethodGet || r.Method == http.MethodHead {
			continue
		}
		p := strings.ToLower(r.Path)
		if strings.HasSuffix(p, "/$batch") {
			continue // its items are throttled and logged one by one
		}
		g.writes = append(g.writes, write{at: r.Time, tenant: strings.ToLower(r.TenantID), status: r.Status, throttled: r.Status == http.StatusTooManyRequests,
			userDel: r.Method == http.MethodDelete && strings.HasPrefix(p, "/v1.0/users/")})
	}
	return nil
}

// follow polls every interval until ctx ends.
func (g *graphLog) follow(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = g.poll(ctx)
		}
	}
}

// deleted counts the users tenant has lost so far (204 to a DELETE).
func (g *graphLog) deleted(tenant string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, w := range g.writes {
		if w.userDel && w.status == http.StatusNoContent && w.tenant == strings.ToLower(tenant) {
			n++
		}
	}
	return n
}

// firstDelete is when tenant's first user deletion was answered (zero if none yet).
func (g *graphLog) firstDelete(tenant string) time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, w := range g.writes {
		if w.userDel && w.tenant == strings.ToLower(tenant) {
			return w.at
		}
	}
	return time.Time{}
}

// measure is what the emulator saw of one tenant's writes.
type measure struct {
	first, last time.Time // first and last user deletion answered 204
	deleted     int       // users deleted (204)
	attempts    int       // writes of any kind, 429s included
	n429        int
	failures    int     // writes answered neither 2xx, 404 nor 429
	steady      float64 // deletions/s after warm-up (NaN if the run was shorter)
}

func (g *graphLog) measure(tenant string, warm time.Duration) measure {
	g.mu.Lock()
	defer g.mu.Unlock()
	tenant = strings.ToLower(tenant)
	var m measure
	var dels []time.Time
	for _, w := range g.writes {
		if w.tenant != tenant {
			continue
		}
		m.attempts++
		switch {
		case w.throttled:
			m.n429++
		case w.status == http.StatusNotFound || (w.status >= 200 && w.status < 300):
		default:
			m.failures++
		}
		if w.userDel && w.status == http.StatusNoContent {
			dels = append(dels, w.at)
		}
	}
	m.deleted, m.steady = len(dels), math.NaN()
	if len(dels) == 0 {
		return m
	}
	m.first, m.last = dels[0], dels[len(dels)-1]
	from := m.first.Add(warm)
	// Steady state needs a stretch past the warm-up worth measuring.
	if span := m.last.Sub(from); span >= warm/5 && span > 0 {
		n := 0
		for _, t := range dels {
			if !t.Before(from) {
				n++
			}
		}
		m.steady = float64(n) / span.Seconds()
	}
	return m
}
