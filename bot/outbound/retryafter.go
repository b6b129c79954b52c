package outbound

import (
	"io"
	"math"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RetryAfterTransport makes every Slack Web API call honour a Retry-After
// that Slack answered to an earlier call of the same method, whoever made
// it: the outbox, an answer to a click, a DM, the socket-mode client. A
// call made while its method is held is answered here, without reaching
// Slack, with the 429 Slack would send (Retry-After: what remains), so each
// caller's own 429 handling applies. Without it, one part of closebot could
// call a method that another part was just told to leave alone.
func RetryAfterTransport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &retryAfterTransport{next: next, now: time.Now, held: map[string]time.Time{}}
}

type retryAfterTransport struct {
	next http.RoundTripper
	now  func() time.Time

	mu   sync.Mutex
	held map[string]time.Time // Web API method → end of its Retry-After
}

func (t *retryAfterTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	method := path.Base(r.URL.Path)
	t.mu.Lock()
	until := t.held[method]
	t.mu.Unlock()
	if wait := until.Sub(t.now()); wait > 0 {
		if r.Body != nil {
			_ = r.Body.Close()
		}
		return held(r, wait), nil
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests {
		return resp, err
	}
	if secs, perr := strconv.ParseFloat(strings.TrimSpace(resp.Header.Get("Retry-After")), 64); perr == nil && secs > 0 {
		end := t.now().Add(time.Duration(secs * float64(time.Second)))
		t.mu.Lock()
		if end.After(t.held[method]) {
			t.held[method] = end
		}
		t.mu.Unlock()
	}
	return resp, nil
}

// held is the 429 Slack would answer while the method's Retry-After runs.
func held(r *http.Request, wait time.Duration) *http.Response {
	body := `{"ok":false,"error":"ratelimited"}`
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	return &http.Response{
		Status: "429 Too Many Requests", StatusCode: http.StatusTooManyRequests,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r,
	}
}
