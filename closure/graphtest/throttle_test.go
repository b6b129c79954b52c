package graphtest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// throttleEnv is a tenant, a real app token and a manual clock.
type throttleEnv struct {
	s     *Server
	clock *ManualClock
	ten   authTenant
	tok   string
}

func newThrottleEnv(t *testing.T, users int, opts Options) *throttleEnv {
	t.Helper()
	clock := NewManualClock(time.Now())
	opts.Clock = clock
	s := newAuthServer(t, opts)
	ten := addAuthTenant(t, s, "contoso", users)
	tok := mustToken(t, secretCredential(t, s, ten.ID, ten.AppID, "s3cret-contoso"))
	return &throttleEnv{s: s, clock: clock, ten: ten, tok: tok}
}

// writes sends n DELETEs in parallel and returns how many got 429.
// Admission happens before routing, so the target need not exist.
func (e *throttleEnv) writes(t *testing.T, n int) (throttled int, sawPercentage bool) {
	t.Helper()
	var n429 atomic.Int64
	var pct atomic.Bool
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				resp := e.do(t, http.MethodDelete, "/v1.0/users/"+newGUID())
				if resp.StatusCode == http.StatusTooManyRequests {
					n429.Add(1)
				}
				if resp.Header.Get("x-ms-throttle-limit-percentage") != "" {
					pct.Store(true)
				}
				if resp.Header.Get("x-ms-resource-unit") != "1" {
					t.Errorf("x-ms-resource-unit = %q", resp.Header.Get("x-ms-resource-unit"))
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return int(n429.Load()), pct.Load()
}

func (e *throttleEnv) do(t *testing.T, method, path string) *http.Response {
	req, err := http.NewRequest(method, e.s.URL()+path, nil)
	if err != nil {
		t.Error(err)
		return nil
	}
	req.Header.Set("Authorization", "Bearer "+e.tok)
	resp, err := e.s.Client().Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return &http.Response{}
	}
	_, _ = resp.Body.Read(make([]byte, 1))
	_ = resp.Body.Close()
	return resp
}

func TestThrottleWriteQuota(t *testing.T) {
	e := newThrottleEnv(t, 10, Options{})
	if got := e.s.WriteTokens(e.ten.AppID, e.ten.ID); got != 3000 {
		t.Fatalf("initial write tokens = %v, want 3000", got)
	}
	n429, pct := e.writes(t, 3000)
	if n429 != 0 {
		t.Fatalf("%d of 3,000 writes in the window got 429", n429)
	}
	if !pct {
		t.Error("no x-ms-throttle-limit-percentage past 80% of the quota")
	}
	resp := rawCall(t, e.s, http.MethodDelete, "/v1.0/users/"+newGUID(), e.tok, nil)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("write 3,001: %d, want 429", resp.StatusCode)
	}
	h := resp.Header
	ra, err := strconv.Atoi(h.Get("Retry-After"))
	if err != nil || ra < 1 {
		t.Errorf("Retry-After = %q", h.Get("Retry-After"))
	}
	if want := "Tenant_Application/Write/" + e.ten.AppID + "/" + e.ten.ID; h.Get("x-ms-throttle-scope") != want {
		t.Errorf("x-ms-throttle-scope = %q, want %q", h.Get("x-ms-throttle-scope"), want)
	}
	if h.Get("x-ms-throttle-information") != "WriteLimitExceeded" || h.Get("x-ms-resource-unit") == "" {
		t.Errorf("headers = %v", h)
	}
	body, _ := decodeJSON(t, resp)["error"].(map[string]any)
	inner, _ := body["innerError"].(map[string]any)
	if body["code"] != "TooManyRequests" || body["message"] == "" || inner["status"] != "429" || inner["request-id"] == nil {
		t.Errorf("429 body = %v", body)
	}
	// After Retry-After seconds of emulator time the write passes.
	e.clock.Advance(time.Duration(ra) * time.Second)
	if resp := e.do(t, http.MethodDelete, "/v1.0/users/"+newGUID()); resp.StatusCode == http.StatusTooManyRequests {
		t.Fatal("write after Retry-After still 429")
	}
	// Paced at 19/s, under the 20/s refill, no write sees 429.
	for i := 0; i < 400; i++ {
		e.clock.Advance(time.Second / 19)
		if resp := e.do(t, http.MethodDelete, "/v1.0/users/"+newGUID()); resp.StatusCode == http.StatusTooManyRequests {
			t.Fatalf("paced write %d got 429 (tokens %.2f)", i, e.s.WriteTokens(e.ten.AppID, e.ten.ID))
		}
	}
	st := e.s.Stats()
	if st.Throttled != 1 || st.WritesByTenant[e.ten.ID] != 3401 {
		t.Errorf("stats = %+v", st)
	}
	var throttledLogged int
	for _, r := range e.s.Requests() {
		if r.Throttled {
			throttledLogged++
			if r.TenantID != e.ten.ID || r.AppID != e.ten.AppID {
				t.Errorf("throttled log entry %+v", r)
			}
		}
	}
	if throttledLogged != 1 {
		t.Errorf("%d throttled requests logged, want 1", throttledLogged)
	}
}

// admitN charges n calls of r in-process and returns how many passed before
// the first 429, and that 429.
func admitN(s *Server, r *graphRequest, n int) (int, *httpError) {
	for i := 0; i < n; i++ {
		if rej := s.throttle.admit(http.Header{}, r); rej != nil {
			return i, rej
		}
	}
	return n, nil
}

func graphReq(p *Principal, method, target string) *graphRequest {
	u, _ := url.Parse(target)
	return &graphRequest{Method: method, Version: "v1.0", Path: u.Path, Query: u.Query(), RawQuery: u.RawQuery, Header: http.Header{}, Principal: p}
}

func TestThrottleResourceUnitsBySize(t *testing.T) {
	for _, tc := range []struct {
		users, pass int
	}{
		{10, 3500 / 6},   // S: 3,500 RU / 10 s
		{100, 5000 / 6},  // M: 5,000
		{600, 8000 / 6},  // L: 8,000
		{49, 3500 / 6},   // boundary: < 50 is S
		{500, 5000 / 6},  // 500 is still M
		{501, 8000 / 6},  // > 500 is L
		{50, 5000 / 6},   // 50 is M
		{2, 3500 / 6},    // tiny
		{1000, 8000 / 6}, // large
	} {
		clock := NewManualClock(time.Now())
		s := New(Options{Clock: clock})
		tn := s.AddTenant(TenantSpec{Seed: uint64(tc.users), Domain: "size" + strconv.Itoa(tc.users), Members: tc.users - 1})
		if _, n, _ := s.dir.tenant(tn.ID); n != tc.users {
			t.Fatalf("seeded %d users, want %d", n, tc.users)
		}
		p := &Principal{TenantID: tn.ID, AppID: newGUID()}
		// transitiveMembers 5 RU, $expand +1: 6 RU a call.
		r := graphReq(p, http.MethodGet, "/groups/g1/transitiveMembers?$expand=x")
		got, rej := admitN(s, r, 10000)
		if got != tc.pass || rej == nil {
			t.Errorf("%d users: %d calls passed, want %d", tc.users, got, tc.pass)
			continue
		}
		if rej.header.Get("x-ms-throttle-information") != "ResourceUnitLimitExceeded" ||
			rej.header.Get("x-ms-throttle-scope") != "Tenant_Application/ReadWrite/"+p.AppID+"/"+tn.ID ||
			rej.header.Get("x-ms-resource-unit") != "6" || rej.header.Get("Retry-After") != "1" {
			t.Errorf("%d users: 429 headers %v", tc.users, rej.header)
		}
		clock.Advance(10 * time.Second)
		if got, _ := admitN(s, r, tc.pass); got != tc.pass {
			t.Errorf("%d users: after the 10 s window only %d passed", tc.users, got)
		}
	}
}

func TestThrottleCosts(t *testing.T) {
	p := &Principal{TenantID: "t", AppID: "a"}
	s := New(Options{})
	for _, tc := range []struct {
		method, target string
		ru             int
		write          bool
	}{
		{"GET", "/organization", 1, false},
		{"GET", "/users", 2, false},
		{"GET", "/users?$select=id", 1, false},
		{"GET", "/users?$select=id&$top=5", 1, false}, // never below 1
		{"GET", "/users?$top=999", 2, false},
		{"GET", "/users/42", 2, false},
		{"GET", "/users/42/authentication/methods", 1, false},
		{"GET", "/applications?$select=id,appId", 1, false},
		{"GET", "/subscribedSkus", 3, false},
		{"GET", "/groups/9/members", 3, false},
		{"GET", "/groups/9/members?$top=10", 2, false},
		{"GET", "/groups/9/transitiveMembers", 5, false},
		{"GET", "/roleManagement/directory/roleAssignments?$expand=principal", 2, false},
		{"POST", "/directoryObjects/getByIds", 5, false},
		{"DELETE", "/users/42", 1, true},
		{"PATCH", "/organization/1", 1, true},
		{"POST", "/applications", 1, true},
		{"DELETE", "/users/42?$select=id", 1, true}, // modifiers apply to reads
	} {
		c := s.throttle.cost(graphReq(p, tc.method, tc.target))
		if c.ru != tc.ru || c.write != tc.write {
			t.Errorf("%s %s: cost %+v, want %d RU write=%v", tc.method, tc.target, c, tc.ru, tc.write)
		}
	}
}

func TestThrottleTenantAndAppQuotas(t *testing.T) {
	clock := NewManualClock(time.Now())
	s := New(Options{Clock: clock})
	tn := s.AddTenant(TenantSpec{Seed: 5, Domain: "quota", Members: 9})

	// Background writes by other apps drain the tenant's 18,000/5 min bucket:
	// at 120/s against a 60/s refill it is empty after 300 s.
	s.SetBackgroundWrites(tn.ID, 120)
	clock.Advance(300 * time.Second)
	p := &Principal{TenantID: tn.ID, AppID: newGUID()}
	_, rej := admitN(s, graphReq(p, http.MethodDelete, "/users/1"), 1)
	if rej == nil || rej.header.Get("x-ms-throttle-scope") != "Tenant/Write/"+p.AppID+"/"+tn.ID || rej.header.Get("x-ms-throttle-information") != "WriteLimitExceeded" {
		t.Fatalf("tenant quota: %+v", rej)
	}
	// Background writes at the refill rate keep it from recovering; with
	// them off it refills at 60/s.
	s.SetBackgroundWrites(tn.ID, 0)
	clock.Advance(time.Second)
	if got, _ := admitN(s, graphReq(p, http.MethodDelete, "/users/1"), 100); got != 60 {
		t.Errorf("after 1 s of refill %d writes passed, want 60", got)
	}

	// The per-app quota across tenants: 35,000 writes / 5 min. Spread over
	// many tenants, each app+tenant bucket (3,000) is never the limit.
	clock2 := NewManualClock(time.Now())
	s2 := New(Options{Clock: clock2})
	app := newGUID()
	total := 0
	var last *httpError
	for i := 0; i < 13 && last == nil; i++ {
		ti := s2.AddTenant(TenantSpec{Seed: uint64(100 + i), Domain: "app" + strconv.Itoa(i), Members: 1})
		n, rej := admitN(s2, graphReq(&Principal{TenantID: ti.ID, AppID: app}, http.MethodDelete, "/users/1"), 3000)
		total, last = total+n, rej
	}
	if total != 35000 || last == nil || !strings.HasPrefix(last.header.Get("x-ms-throttle-scope"), "Application/Write/"+app+"/") {
		t.Errorf("per-app quota: %d writes passed, 429 %+v", total, last)
	}
}

func TestThrottleConditionalAccessNoRetryAfter(t *testing.T) {
	e := newThrottleEnv(t, 10, Options{})
	path := "/v1.0/identity/conditionalAccess/policies"
	if resp := e.do(t, http.MethodGet, path); resp.StatusCode == http.StatusTooManyRequests {
		t.Fatal("first CA call throttled")
	}
	resp := rawCall(t, e.s, http.MethodGet, path, e.tok, nil)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("second CA call in the same second: %d", resp.StatusCode)
	}
	if _, ok := resp.Header["Retry-After"]; ok {
		t.Errorf("CA 429 has Retry-After %q", resp.Header.Get("Retry-After"))
	}
	if e, _ := decodeJSON(t, resp)["error"].(map[string]any); e["code"] != "TooManyRequests" {
		t.Errorf("CA 429 body %v", e)
	}
	// Other calls in the tenant are not affected by the CA limit.
	if resp := e.do(t, http.MethodGet, "/v1.0/organization"); resp.StatusCode == http.StatusTooManyRequests {
		t.Error("organization throttled by the CA limit")
	}
	e.clock.Advance(time.Second)
	if resp := e.do(t, http.MethodGet, path); resp.StatusCode == http.StatusTooManyRequests {
		t.Error("CA call a second later still throttled")
	}
}

func TestThrottleDisabled(t *testing.T) {
	// A still clock: the bucket must not refill while the test spends it.
	s := New(Options{DisableThrottling: true, Clock: NewManualClock(time.Now())})
	tn := s.AddTenant(TenantSpec{Seed: 9, Domain: "off", Members: 1})
	p := &Principal{TenantID: tn.ID, AppID: newGUID()}
	if got, rej := admitN(s, graphReq(p, http.MethodDelete, "/users/1"), 3500); got != 3500 || rej != nil {
		t.Errorf("throttling off: %d passed, %+v", got, rej)
	}
	s.SetThrottling(true)
	if got, _ := admitN(s, graphReq(p, http.MethodDelete, "/users/1"), 3500); got != 3000 {
		t.Errorf("throttling back on: %d passed, want 3000", got)
	}
}

// The real SDK (retry off, as closebot's writes run) sees the write-quota 429
// as an ODataError carrying the documented headers.
func TestThrottleSDKSees429(t *testing.T) {
	clock := NewManualClock(time.Now())
	s := newAuthServer(t, Options{Clock: clock})
	ten := addAuthTenant(t, s, "contoso", 10)
	client, _ := graphClient(t, s, secretCredential(t, s, ten.ID, ten.AppID, "s3cret-contoso"), false)
	// Spend the app+tenant write burst in-process; the SDK's call is the next.
	p := &Principal{TenantID: ten.ID, AppID: ten.AppID}
	if n, _ := admitN(s, graphReq(p, http.MethodDelete, "/users/1"), 3000); n != 3000 {
		t.Fatalf("burst = %d", n)
	}
	victim := ""
	for _, u := range ten.Users() {
		if u.UPN != ten.Admin {
			victim = u.ID
		}
	}
	err := client.Users().ByUserId(victim).Delete(context.Background(), nil)
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) || oe.GetStatusCode() != http.StatusTooManyRequests {
		t.Fatalf("delete over quota: %v", err)
	}
	h := oe.GetResponseHeaders()
	if len(h.Get("retry-after")) != 1 || h.Get("x-ms-throttle-information")[0] != "WriteLimitExceeded" ||
		len(h.Get("x-ms-throttle-scope")) != 1 || len(h.Get("x-ms-resource-unit")) != 1 {
		t.Errorf("429 headers as the SDK sees them: %v", h.ListKeys())
	}
	if oe.GetErrorEscaped() == nil || *oe.GetErrorEscaped().GetCode() != "TooManyRequests" {
		t.Errorf("ODataError main error: %v", oe.Error())
	}
	if u, ok := ten.User(victim); !ok || u.Deleted {
		t.Error("the throttled delete was applied")
	}
	// Paced after the refill, the same delete goes through.
	clock.Advance(time.Second)
	if err := client.Users().ByUserId(victim).Delete(context.Background(), nil); err != nil {
		t.Fatalf("delete after refill: %v", err)
	}
}

func TestThrottleQuotaScaleAndSpentTenantBurst(t *testing.T) {
	clock := NewManualClock(time.Now())
	s := New(Options{Clock: clock})
	tn := s.AddTenant(TenantSpec{Seed: 6, Domain: "scaled", Members: 9})
	p := &Principal{TenantID: tn.ID, AppID: newGUID()}

	// ×10: the burst stays 3,000, the refill is 200/s instead of 20/s.
	s.SetQuotaScale(10)
	if got, _ := admitN(s, graphReq(p, http.MethodDelete, "/users/1"), 4000); got != 3000 {
		t.Fatalf("burst under quota scale 10: %d writes passed, want 3000", got)
	}
	clock.Advance(time.Second)
	if got, _ := admitN(s, graphReq(p, http.MethodDelete, "/users/1"), 1000); got != 200 {
		t.Errorf("after 1 s at quota scale 10: %d writes passed, want 200", got)
	}

	// Other apps spent the tenant's burst and write 50/s: 10/s are left.
	s.SetQuotaScale(1)
	s.SetBackgroundWrites(tn.ID, 50)
	s.SpendTenantWrites(tn.ID)
	clock.Advance(2 * time.Second)
	got, rej := admitN(s, graphReq(p, http.MethodDelete, "/users/1"), 100)
	if got != 20 || rej == nil || !strings.HasPrefix(rej.header.Get("x-ms-throttle-scope"), "Tenant/Write/") {
		t.Errorf("busy tenant: %d writes passed in 2 s (want 20), 429 %+v", got, rej)
	}
}

func TestRequestsSince(t *testing.T) {
	e := newThrottleEnv(t, 10, Options{})
	for i := 0; i < 3; i++ {
		e.do(t, http.MethodDelete, "/v1.0/users/"+newGUID())
	}
	all := e.s.Requests()
	if got := e.s.RequestsSince(len(all) - 2); len(got) != 2 || got[1].Path != all[len(all)-1].Path {
		t.Errorf("RequestsSince(n-2) = %d entries", len(got))
	}
	if got := e.s.RequestsSince(len(all) + 5); got == nil || len(got) != 0 {
		t.Errorf("RequestsSince past the end = %v, want empty", got)
	}
}

func TestSpendWritesOverHTTP(t *testing.T) {
	e := newThrottleEnv(t, 10, Options{})
	e.s.SetBackgroundWrites(e.ten.ID, 59)
	resp := rawCall(t, e.s, http.MethodPost, "/emulator/throttle/"+e.ten.ID+"/spend-writes", "", nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("spend-writes: %d", resp.StatusCode)
	}
	// Other apps take 59 of the tenant's 60/s: one write a second is left.
	e.clock.Advance(time.Second)
	if resp := e.do(t, http.MethodDelete, "/v1.0/users/"+newGUID()); resp.StatusCode == http.StatusTooManyRequests {
		t.Fatal("the second's one write got 429")
	}
	if resp := e.do(t, http.MethodDelete, "/v1.0/users/"+newGUID()); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a second write in the same second: %d, want 429", resp.StatusCode)
	}
}
