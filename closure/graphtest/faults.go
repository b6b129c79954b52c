package graphtest

import (
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault is an injected failure for requests matching Method and PathPrefix
// or Path. Graph faults match the path with or without its /v1.0 or /beta
// prefix ("/users" matches "/v1.0/users/42"); Authority faults match token
// and discovery paths ("/{tenant}/oauth2/v2.0/token") instead of Graph ones.
type Fault struct {
	Method     string         // "" matches any method
	PathPrefix string         // "" with Path nil matches any path
	Path       *regexp.Regexp // matched against both path forms, if set
	Authority  bool           // apply to authority paths instead of Graph
	Status     int            // e.g. 429, 503, 500; ignored when Drop
	Code       string         // Graph error code; default from Status
	RetryAfter string         // Retry-After header value verbatim; "" sends none
	Times      int            // how many requests to fail; 0 means every one
	Drop       bool           // abort the connection without an answer
	// Writes limits the fault to POST, PATCH, PUT and DELETE.
	Writes bool
	// Rate, between 0 and 1, fails only that fraction of the matching
	// requests (pseudo-random, fixed seed); 0 fails every one.
	Rate float64
}

type faultEntry struct {
	Fault
	left int // remaining, -1 = unlimited
}

type faultSet struct {
	s *Server

	mu             sync.Mutex
	latency        time.Duration
	authLatency    time.Duration
	faults         []*faultEntry
	injectedTotals int
	rand           *rand.Rand // chooses the requests a Rate fault strikes
}

func newFaultSet(s *Server) *faultSet { return &faultSet{s: s, rand: rand.New(rand.NewPCG(14, 3))} }

// SetLatency delays every Graph call by d (wall clock) before it is answered.
func (s *Server) SetLatency(d time.Duration) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.latency = d
}

// SetAuthorityLatency delays every authority (discovery, token) call by d.
func (s *Server) SetAuthorityLatency(d time.Duration) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.authLatency = d
}

// InjectFault adds f; faults are tried in the order added.
func (s *Server) InjectFault(f Fault) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	left := f.Times
	if left <= 0 {
		left = -1
	}
	s.faults.faults = append(s.faults.faults, &faultEntry{Fault: f, left: left})
}

// ClearFaults removes every injected fault and the latencies.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.faults, s.faults.latency, s.faults.authLatency = nil, 0, 0
}

// FaultsInjected counts requests answered by an injected fault.
func (s *Server) FaultsInjected() int {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	return s.faults.injectedTotals
}

func (f *Fault) matches(r *http.Request, authority bool) bool {
	if f.Authority != authority {
		return false
	}
	if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
		return false
	}
	if f.Writes && !isWrite(r.Method) {
		return false
	}
	paths := []string{r.URL.Path}
	if !authority {
		if _, rest, ok := splitGraphPath(r.URL.Path); ok {
			paths = append(paths, rest)
		}
	}
	for _, p := range paths {
		if f.Path != nil {
			if f.Path.MatchString(p) {
				return true
			}
			continue
		}
		if strings.HasPrefix(p, f.PathPrefix) {
			return true
		}
	}
	return false
}

// apply sleeps the configured latency and answers an injected fault for a
// Graph call; true if it answered.
func (f *faultSet) apply(w http.ResponseWriter, r *http.Request) bool {
	return f.run(w, r, false)
}

// applyAuthority is apply for authority paths.
func (f *faultSet) applyAuthority(w http.ResponseWriter, r *http.Request) bool {
	return f.run(w, r, true)
}

func (f *faultSet) run(w http.ResponseWriter, r *http.Request, authority bool) bool {
	f.mu.Lock()
	delay := f.latency
	if authority {
		delay = f.authLatency
	}
	var hit *Fault
	for i, e := range f.faults {
		if e.left == 0 || !e.matches(r, authority) {
			continue
		}
		if e.Rate > 0 && f.rand.Float64() >= e.Rate {
			continue
		}
		if e.left > 0 {
			e.left--
		}
		fc := e.Fault
		hit = &fc
		f.injectedTotals++
		if e.left == 0 {
			f.faults = append(f.faults[:i:i], f.faults[i+1:]...)
		}
		break
	}
	f.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	if hit == nil {
		return false
	}
	lw, _ := w.(*logWriter)
	if lw != nil {
		lw.fault = faultName(hit)
	}
	if hit.Drop {
		if lw != nil {
			lw.dropped = true
		}
		// ErrAbortHandler makes net/http close the HTTP/1 connection or
		// reset the HTTP/2 stream without an answer, quietly.
		panic(http.ErrAbortHandler)
	}
	status := hit.Status
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	code := hit.Code
	if code == "" {
		code = defaultFaultCode(status)
	}
	if hit.RetryAfter != "" {
		w.Header().Set("Retry-After", hit.RetryAfter)
	}
	if authority {
		f.s.auth.oauthError(w, r, status, "temporarily_unavailable", 90033, "A transient error has occurred. Please try again.")
		return true
	}
	e := &httpError{status: status, code: code, message: faultMessage(status), throttled: status == http.StatusTooManyRequests}
	e.write(w, r)
	return true
}

func faultName(f *Fault) string {
	if f.Drop {
		return "drop"
	}
	if f.Status == 0 {
		return "503"
	}
	return strconv.Itoa(f.Status)
}

func defaultFaultCode(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "TooManyRequests"
	case http.StatusServiceUnavailable:
		return "serviceNotAvailable"
	case http.StatusGatewayTimeout:
		return "gatewayTimeout"
	case http.StatusForbidden:
		return "Authorization_RequestDenied"
	case http.StatusNotFound:
		return "Request_ResourceNotFound"
	case http.StatusBadRequest:
		return "Request_BadRequest"
	}
	return "UnknownError"
}

func faultMessage(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "Please retry again later."
	case http.StatusServiceUnavailable:
		return "The service is currently unavailable. Please retry later."
	case http.StatusForbidden:
		return "Insufficient privileges to complete the operation."
	}
	return http.StatusText(status)
}
