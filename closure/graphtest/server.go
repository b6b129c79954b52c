// Package graphtest emulates Microsoft Graph (/v1.0 and /beta) and the Entra ID
// authority (OpenID discovery, OAuth2 token and device-code endpoints) over TLS,
// faithfully enough that the real msgraph-sdk-go and azidentity clients work
// against it. Tests and `closebot demo` run it in-process; `closebot emulate`
// runs it standalone. FIDELITY.md says how sure each behaviour is.
package graphtest

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Options configure a Server. The zero value is a usable emulator on the real clock.
type Options struct {
	// Clock drives token lifetimes, throttling buckets, lifecycle dates and
	// ETAs. Nil means the real clock.
	Clock Clock
	// Assumed switches behaviours FIDELITY.md marks as assumed; see assumed.go.
	Assumed Assumptions
	// DisableThrottling turns the identity throttling quotas off (headers
	// x-ms-resource-unit are still sent); SetThrottling toggles it later.
	DisableThrottling bool
	// SkipPermissionChecks accepts every app-only token whatever its roles
	// claim (by default each route checks the application permissions its
	// Learn page lists and answers 403 Authorization_RequestDenied).
	SkipPermissionChecks bool
	// ReplicationLag keeps a deleted object in collection listings (users,
	// role assignments and schedule instances, directory role and
	// administrative unit members, applications, service principals) for
	// this long after its deletion on the emulator clock, as Entra's
	// eventually consistent replicas do; 0 turns it off. SetReplicationLag
	// changes it later. By-id reads lag too with Assumed.ReplicationLagByID.
	ReplicationLag time.Duration
}

// Server is one emulator instance: one TLS listener serving the authority
// (/{tenant}/...) and Graph (/v1.0, /beta) on the same host, like a test
// double of login.microsoftonline.com and graph.microsoft.com together.
type Server struct {
	opts  Options
	clock Clock
	ts    *httptest.Server

	auth     *authority  // authority.go: credentials, tokens, device codes
	dir      *directory  // directory.go: tenants and their objects
	throttle *throttler  // throttle.go: identity throttling quotas
	faults   *faultSet   // faults.go: latency and injected failures
	log      *requestLog // requestlog.go: every request, for assertions
	ctl      *controlMux // control.go: /emulator/... routes (stats, human actions)

	startOnce sync.Once
	ctlOnce   sync.Once // control.go: authority control routes registered
}

// New builds an emulator; call Start before use.
func New(opts Options) *Server {
	s := &Server{opts: opts, clock: opts.Clock}
	if s.clock == nil {
		s.clock = RealClock{}
	}
	s.ctl = newControlMux()
	s.auth = newAuthority(s)
	s.dir = newDirectory(s)
	s.throttle = newThrottler(s)
	s.faults = newFaultSet(s)
	s.log = newRequestLog(s)
	return s
}

// Start listens on a loopback port with a self-signed certificate.
func (s *Server) Start() {
	s.startOnce.Do(func() {
		s.ts = httptest.NewUnstartedServer(s)
		s.ts.EnableHTTP2 = true
		s.ts.StartTLS()
	})
}

// Close stops the listener.
func (s *Server) Close() {
	if s.ts != nil {
		s.ts.Close()
	}
}

// URL is the scheme and host, e.g. https://127.0.0.1:41234 (no trailing slash).
func (s *Server) URL() string { return s.ts.URL }

// AuthorityHost is the value for AZURE_AUTHORITY_HOST / cloud.Configuration.
func (s *Server) AuthorityHost() string { return s.ts.URL + "/" }

// GraphURL is the v1.0 base URL for the Graph request adapter.
func (s *Server) GraphURL() string { return s.ts.URL + "/v1.0" }

// Client returns an *http.Client that trusts the emulator's certificate.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// CertPool holds the emulator's certificate, for clients built elsewhere.
func (s *Server) CertPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.ts.Certificate())
	return p
}

// CertPEM exports the certificate so another process can trust it
// (SSL_CERT_FILE or its own pool).
func (s *Server) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.ts.Certificate().Raw})
}

// Clock is the emulator's clock.
func (s *Server) Clock() Clock { return s.clock }

// ServeHTTP routes a request: authority paths, then Graph through the
// pipeline log → faults → body → bearer token → throttling → route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rw := s.log.begin(w, r)
	defer rw.end()
	if strings.HasPrefix(r.URL.Path, "/emulator/") {
		s.serveControl(rw, r)
		return
	}
	version, rest, ok := splitGraphPath(r.URL.Path)
	if !ok {
		if s.auth.serve(rw, r) {
			return
		}
		writeError(rw, r, http.StatusNotFound, "UnknownError", "No route for "+r.URL.Path)
		return
	}
	if s.faults.apply(rw, r) {
		return
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") &&
		(!strings.EqualFold(ce, "gzip") || s.opts.Assumed.GzipRequestsUnsupported) {
		// kiota's compression handler resends the body uncompressed on 415
		// (graph-wire.md §4); any encoding but gzip is refused outright.
		writeError(rw, r, http.StatusUnsupportedMediaType, "UnsupportedMediaType",
			"Content-Encoding '"+ce+"' is not supported.")
		return
	}
	body, err := readBody(r)
	if err != nil {
		writeError(rw, r, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	p, gerr := s.auth.authenticate(r)
	if gerr != nil {
		gerr.write(rw, r)
		return
	}
	rw.principal(p)
	gr := &graphRequest{
		Method:    r.Method,
		Version:   version,
		Path:      rest,
		Query:     r.URL.Query(),
		RawQuery:  r.URL.RawQuery,
		Header:    r.Header,
		Body:      body,
		Principal: p,
		Base:      s.ts.URL + "/" + version,
		http:      r,
	}
	if !(r.Method == http.MethodPost && rest == "/$batch") {
		if rej := s.throttle.admit(rw.Header(), gr); rej != nil {
			rej.write(rw, r)
			return
		}
	}
	s.dir.serve(rw, gr)
}

// graphRequest is one Graph call after the pipeline: decoded query, plain body,
// authenticated caller. $batch items are turned into graphRequests too.
type graphRequest struct {
	Method    string
	Version   string // "v1.0" or "beta"
	Path      string // after the version, e.g. "/users/42"; never empty
	Query     url.Values
	RawQuery  string
	Header    http.Header
	Body      []byte
	Principal *Principal
	Base      string // absolute base for @odata.nextLink, e.g. https://127.0.0.1:1/v1.0
	http      *http.Request
}

// Principal is the caller a bearer token names.
type Principal struct {
	TenantID  string
	AppID     string   // client id the token was issued to
	ObjectID  string   // user object id for delegated tokens, "" for app-only
	Delegated bool     // true for device-code (user) tokens
	AMR       []string // authentication methods, e.g. pwd, mfa
	Roles     []string // application permissions of an app-only token
	Scopes    []string // delegated permissions (scp) of a user token
}

func splitGraphPath(p string) (version, rest string, ok bool) {
	for _, v := range []string{"v1.0", "beta"} {
		prefix := "/" + v
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			rest = strings.TrimPrefix(p, prefix)
			if rest == "" {
				rest = "/"
			}
			return v, rest, true
		}
	}
	return "", "", false
}
