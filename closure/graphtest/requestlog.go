package graphtest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Request is one logged call, for assertions and /emulator/stats.
type Request struct {
	Time          time.Time     // emulator clock at arrival
	Wall          time.Time     // wall clock at arrival
	Duration      time.Duration // wall time to answer
	Kind          string        // "graph", "authority" or "control"
	Method        string
	Path          string
	RawQuery      string
	Status        int // 0 when the connection was dropped
	TenantID      string
	AppID         string
	UserOID       string    // delegated caller's object id
	Throttled     bool      // 429 from the throttler (not an injected fault)
	ResourceUnits int       // x-ms-resource-unit charged
	Fault         string    // injected fault ("429", "503", "drop"), "" if none
	RetryAfter    string    // the Retry-After header answered, verbatim ("" if none)
	Answered      time.Time // emulator clock when the answer was written
	Body          string    // write bodies (and token forms), secrets redacted
}

// maxLoggedBody bounds the body kept per request.
const maxLoggedBody = 8 << 10

type requestLog struct {
	s *Server

	// observe, if set, sees each request as it arrives (SetObserver).
	observe atomic.Pointer[func(Request)]

	mu       sync.Mutex
	reqs     []Request
	byMethod map[string]int
	byStatus map[int]int
	n429     int
}

func newRequestLog(s *Server) *requestLog {
	return &requestLog{s: s, byMethod: map[string]int{}, byStatus: map[int]int{}}
}

// logWriter records the status of the request it wraps, and what the
// pipeline learned about it.
type logWriter struct {
	http.ResponseWriter
	l       *requestLog
	r       *http.Request
	rec     Request
	status  int
	kind    string
	form    url.Values
	fault   string
	dropped bool
	body    *capture
}

// capture keeps the first bytes of a request body as the handler reads it.
type capture struct {
	io.ReadCloser
	buf       bytes.Buffer
	truncated bool
}

func (c *capture) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	if room := maxLoggedBody*4 - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(n, room)])
		if n > room {
			c.truncated = true
		}
	} else if n > 0 {
		c.truncated = true
	}
	return n, err
}

func isWrite(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

func (l *requestLog) begin(w http.ResponseWriter, r *http.Request) *logWriter {
	lw := &logWriter{ResponseWriter: w, l: l, r: r, kind: "graph"}
	lw.rec = Request{Time: l.s.clock.Now(), Wall: time.Now(), Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery}
	if strings.HasPrefix(r.URL.Path, "/emulator/") {
		lw.kind = "control"
	} else if _, _, ok := splitGraphPath(r.URL.Path); !ok {
		lw.kind = "authority"
	}
	if isWrite(r.Method) && r.Body != nil {
		lw.body = &capture{ReadCloser: r.Body}
		r.Body = lw.body
	}
	if f := l.observe.Load(); f != nil {
		rec := lw.rec
		rec.Kind = lw.kind
		(*f)(rec)
	}
	return lw
}

// SetObserver calls f with each request as it arrives, before it is
// answered (Status still 0), on the request's goroutine; nil removes it.
// A test hook: the SIGKILL tests kill closebot with a write in flight.
func (s *Server) SetObserver(f func(Request)) {
	if f == nil {
		s.log.observe.Store(nil)
		return
	}
	s.log.observe.Store(&f)
}

func (w *logWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *logWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming handlers flush through the wrapper.
func (w *logWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// principal records who called (from the bearer token or the token issued).
func (w *logWriter) principal(p *Principal) {
	if p == nil {
		return
	}
	w.rec.TenantID, w.rec.AppID = p.TenantID, p.AppID
	if p.Delegated {
		w.rec.UserOID = p.ObjectID
	}
}

func (w *logWriter) end() {
	rec := w.rec
	rec.Kind = w.kind
	rec.Duration = time.Since(rec.Wall)
	rec.Status = w.status
	if w.dropped {
		rec.Status = 0
	}
	rec.Fault = w.fault
	rec.RetryAfter = w.Header().Get("Retry-After")
	rec.Answered = w.l.s.clock.Now()
	rec.Throttled = w.status == http.StatusTooManyRequests && w.fault == "" && w.Header().Get("x-ms-resource-unit") != ""
	rec.ResourceUnits, _ = strconv.Atoi(w.Header().Get("x-ms-resource-unit"))
	switch {
	case w.form != nil:
		rec.Body = w.form.Encode()
	case w.body != nil && w.body.buf.Len() > 0:
		rec.Body = loggedBody(w.r.Header.Get("Content-Encoding"), w.body)
	}
	l := w.l
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, rec)
	l.byMethod[rec.Method]++
	l.byStatus[rec.Status]++
	if rec.Status == http.StatusTooManyRequests {
		l.n429++
	}
}

// loggedBody is the plain, redacted text of a captured body.
func loggedBody(encoding string, c *capture) string {
	raw := c.buf.Bytes()
	if encoding == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return "(gzip body unreadable)"
		}
		plain, err := io.ReadAll(io.LimitReader(zr, maxLoggedBody*4))
		if err != nil && len(plain) == 0 {
			return "(gzip body unreadable)"
		}
		raw = plain
	}
	out := redactJSON(raw)
	if len(out) > maxLoggedBody {
		out = out[:maxLoggedBody] + "…"
	}
	return out
}

// secretKey matches JSON property names and form fields whose values must
// never be logged.
var secretKey = regexp.MustCompile(`(?i)(secret|password|assertion|token|device_code|^code$|^key$|credential)`)

func redactForm(v url.Values) url.Values {
	out := url.Values{}
	for k, vals := range v {
		if secretKey.MatchString(k) {
			out[k] = []string{"REDACTED"}
			continue
		}
		out[k] = append([]string{}, vals...)
	}
	return out
}

func redactJSON(raw []byte) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "(non-JSON body, " + strconv.Itoa(len(raw)) + " bytes)"
	}
	v = redactValue(v)
	b, err := json.Marshal(v)
	if err != nil {
		return "(unloggable body)"
	}
	return string(b)
}

func redactValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if secretKey.MatchString(k) && x != nil {
				t[k] = "REDACTED"
				continue
			}
			t[k] = redactValue(x)
		}
	case []any:
		for i, x := range t {
			t[i] = redactValue(x)
		}
	}
	return v
}

// Requests returns a copy of the request log, oldest first.
func (s *Server) Requests() []Request {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return append([]Request(nil), s.log.reqs...)
}

// RequestsSince returns a copy of the log from entry n on (n counts from
// the last ResetLog); past the end it is empty.
func (s *Server) RequestsSince(n int) []Request {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	if n < 0 {
		n = 0
	}
	if n >= len(s.log.reqs) {
		return []Request{}
	}
	return append([]Request(nil), s.log.reqs[n:]...)
}

// ResetLog empties the request log and its counters.
func (s *Server) ResetLog() {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	s.log.reqs = nil
	s.log.byMethod, s.log.byStatus, s.log.n429 = map[string]int{}, map[int]int{}, 0
}

// Stats are the emulator's counters, served as /emulator/stats.
type Stats struct {
	Requests       int            `json:"requests"`
	ByMethod       map[string]int `json:"byMethod"`
	ByStatus       map[string]int `json:"byStatus"`
	TooMany        int            `json:"status429"`      // every 429 answered (throttler and faults)
	Throttled      int            `json:"throttled"`      // 429s from the throttler, $batch items included
	Faults         int            `json:"faultsInjected"` // answers by injected faults
	WritesByTenant map[string]int `json:"writesByTenant"` // writes admitted by the throttler
	TokensIssued   int            `json:"tokensIssued"`
}

// Stats returns the counters since New (the log-derived ones since ResetLog).
func (s *Server) Stats() Stats {
	st := Stats{ByMethod: map[string]int{}, ByStatus: map[string]int{}, WritesByTenant: map[string]int{}}
	s.log.mu.Lock()
	st.Requests = len(s.log.reqs)
	for k, v := range s.log.byMethod {
		st.ByMethod[k] = v
	}
	codes := make([]int, 0, len(s.log.byStatus))
	for k := range s.log.byStatus {
		codes = append(codes, k)
	}
	sort.Ints(codes)
	for _, k := range codes {
		st.ByStatus[strconv.Itoa(k)] = s.log.byStatus[k]
	}
	st.TooMany = s.log.n429
	s.log.mu.Unlock()
	s.throttle.mu.Lock()
	st.Throttled = s.throttle.rejected
	for k, v := range s.throttle.writes {
		st.WritesByTenant[k] = v
	}
	s.throttle.mu.Unlock()
	st.Faults = s.FaultsInjected()
	st.TokensIssued = s.TokensIssued()
	return st
}
