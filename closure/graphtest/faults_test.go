package graphtest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

func TestFaultInjectionGraph(t *testing.T) {
	e := newThrottleEnv(t, 10, Options{})
	s := e.s
	s.InjectFault(Fault{Method: http.MethodGet, PathPrefix: "/organization", Status: http.StatusServiceUnavailable, Times: 1})
	s.InjectFault(Fault{Method: http.MethodGet, Path: regexp.MustCompile(`^/domains$`), Status: http.StatusTooManyRequests, RetryAfter: "0", Times: 1})
	s.InjectFault(Fault{Method: http.MethodDelete, PathPrefix: "/v1.0/users/", Drop: true, Times: 1})

	resp := rawCall(t, s, http.MethodGet, "/v1.0/organization", e.tok, nil)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("503 fault: %d", resp.StatusCode)
	}
	if body, _ := decodeJSON(t, resp)["error"].(map[string]any); body["code"] == nil || body["message"] == nil {
		t.Errorf("503 body %v", body)
	}
	if resp := rawCall(t, s, http.MethodGet, "/v1.0/organization", e.tok, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("after Times=1 the fault still fires: %d", resp.StatusCode)
	}
	resp = rawCall(t, s, http.MethodGet, "/beta/domains", e.tok, nil)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "0" {
		t.Errorf("429 fault: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	req, _ := http.NewRequest(http.MethodDelete, s.URL()+"/v1.0/users/"+newGUID(), nil)
	req.Header.Set("Authorization", "Bearer "+e.tok)
	if resp, err := s.Client().Do(req); err == nil {
		_ = resp.Body.Close()
		t.Errorf("dropped request answered %d", resp.StatusCode)
	}
	if got := s.FaultsInjected(); got != 3 {
		t.Errorf("faults injected = %d", got)
	}
	var faults []string
	for _, r := range s.Requests() {
		if r.Fault != "" {
			faults = append(faults, r.Fault)
		}
		if r.Fault == "drop" && r.Status != 0 {
			t.Errorf("dropped request logged with status %d", r.Status)
		}
	}
	if strings.Join(faults, ",") != "503,429,drop" {
		t.Errorf("logged faults = %v", faults)
	}
}

// The SDK's retry handler rides over injected 503s and 429s with Retry-After: 0.
func TestFaultInjectionSDKRetries(t *testing.T) {
	s := newAuthServer(t, Options{})
	ten := addAuthTenant(t, s, "contoso", 10)
	client, _ := graphClient(t, s, secretCredential(t, s, ten.ID, ten.AppID, "s3cret-contoso"), true)
	s.InjectFault(Fault{PathPrefix: "/organization", Status: http.StatusServiceUnavailable, RetryAfter: "0", Times: 1})
	s.InjectFault(Fault{PathPrefix: "/organization", Status: http.StatusTooManyRequests, RetryAfter: "0", Times: 1})
	org, err := client.Organization().Get(context.Background(), nil)
	if err != nil || len(org.GetValue()) != 1 {
		t.Fatalf("organization through two faults: %v", err)
	}
	var statuses []int
	for _, r := range s.Requests() {
		if r.Kind == "graph" {
			statuses = append(statuses, r.Status)
		}
	}
	if len(statuses) != 3 || statuses[0] != 503 || statuses[1] != 429 || statuses[2] != 200 {
		t.Errorf("graph statuses = %v", statuses)
	}
}

func TestFaultInjectionAuthorityAndLatency(t *testing.T) {
	s := newAuthServer(t, Options{})
	ten := addAuthTenant(t, s, "contoso", 10)
	s.InjectFault(Fault{Authority: true, PathPrefix: "/" + ten.ID + "/oauth2/v2.0/token", Status: http.StatusServiceUnavailable, Times: 1})
	_, err := getToken(t, secretCredential(t, s, ten.ID, ten.AppID, "s3cret-contoso"))
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) || afe.RawResponse == nil || afe.RawResponse.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("token fault: %v", err)
	}
	tok := mustToken(t, secretCredential(t, s, ten.ID, ten.AppID, "s3cret-contoso"))

	s.SetLatency(30 * time.Millisecond)
	rawCall(t, s, http.MethodGet, "/v1.0/organization", tok, nil)
	reqs := s.Requests()
	if last := reqs[len(reqs)-1]; last.Duration < 30*time.Millisecond {
		t.Errorf("latency not applied: %v", last.Duration)
	}
	s.ClearFaults()
}

func TestRequestLogRedactsAndStats(t *testing.T) {
	e := newThrottleEnv(t, 10, Options{})
	s := e.s
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(`{"passwordCredential":{"displayName":"ci","secretText":"hunter2"},"displayName":"x"}`))
	_ = zw.Close()
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/v1.0/applications/"+newGUID()+"/addPassword?x=1", &gz)
	req.Header.Set("Authorization", "Bearer "+e.tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()

	var found bool
	for _, r := range s.Requests() {
		if strings.Contains(r.Body, "hunter2") || strings.Contains(r.Body, "s3cret") {
			t.Fatalf("secret in log: %+v", r)
		}
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/addPassword") {
			found = true
			if !strings.Contains(r.Body, `"displayName":"x"`) || !strings.Contains(r.Body, "REDACTED") || r.RawQuery != "x=1" ||
				r.TenantID != e.ten.ID || r.AppID != e.ten.AppID || r.ResourceUnits != 1 || r.Kind != "graph" || r.Time.IsZero() || r.Wall.IsZero() {
				t.Errorf("logged write %+v", r)
			}
		}
	}
	if !found {
		t.Fatal("write not logged")
	}

	resp = rawCall(t, s, http.MethodGet, "/emulator/stats", "", nil)
	var st Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("stats %d: %v", resp.StatusCode, err)
	}
	if st.ByMethod["POST"] < 2 || st.TokensIssued != 1 || st.WritesByTenant[e.ten.ID] != 1 || st.Requests < 3 {
		t.Errorf("stats = %+v", st)
	}
	s.ResetLog()
	if n := len(s.Requests()); n != 0 {
		t.Errorf("%d requests after ResetLog", n)
	}
}

func TestControlDeviceCodeOverHTTP(t *testing.T) {
	s := newAuthServer(t, Options{})
	ten := addAuthTenant(t, s, "contoso", 10)
	s.RegisterPublicClient(signinClientID)
	cred := deviceCodeCred(t, s, ten.ID, signinClientID, func(azidentity.DeviceCodeMessage) error { return nil })
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := s.WaitDeviceCode(ctx); err != nil {
			return
		}
		// Not rawCall: t.Fatal must not run outside the test goroutine.
		resp, err := s.Client().Get(s.URL() + "/emulator/devicecodes")
		if err != nil {
			return
		}
		var pending []DeviceCode
		_ = json.NewDecoder(resp.Body).Decode(&pending)
		_ = resp.Body.Close()
		if len(pending) != 1 {
			return
		}
		body := strings.NewReader(`{"user":"` + ten.Admin + `","mfa":true}`)
		if resp, err = s.Client().Post(s.URL()+"/emulator/devicecodes/"+pending[0].UserCode+"/complete", "application/json", body); err == nil {
			_ = resp.Body.Close()
		}
	}()
	c, err := ParseAccessToken(mustToken(t, cred))
	if err != nil || c.Oid != ten.AdminOID || len(c.AMR) != 2 {
		t.Fatalf("claims %+v err %v", c, err)
	}
}

// A Rate fault strikes about its share of the matching requests, a Writes
// fault spares reads, and the request log keeps each answer's Retry-After
// and when it was answered.
func TestFaultRateAndWrites(t *testing.T) {
	e := newThrottleEnv(t, 10, Options{DisableThrottling: true})
	s := e.s
	s.InjectFault(Fault{Writes: true, Rate: 0.25, Status: http.StatusTooManyRequests, RetryAfter: "3"})
	for range 40 {
		if resp := rawCall(t, s, http.MethodGet, "/v1.0/organization", e.tok, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("a read met a Writes fault: %d", resp.StatusCode)
		}
	}
	struck := 0
	const n = 400
	for range n {
		resp := rawCall(t, s, http.MethodDelete, "/v1.0/users/"+newGUID(), e.tok, nil)
		if resp.StatusCode == http.StatusTooManyRequests {
			struck++
		}
	}
	if struck < n/8 || struck > n*3/8 {
		t.Errorf("a 25 %% fault struck %d of %d writes", struck, n)
	}
	logged := 0
	for _, r := range s.Requests() {
		if r.Fault == "429" {
			logged++
			if r.RetryAfter != "3" || r.Answered.Before(r.Time) {
				t.Errorf("logged 429: Retry-After %q, answered %s, arrived %s", r.RetryAfter, r.Answered, r.Time)
			}
		} else if r.RetryAfter != "" {
			t.Errorf("%s %s logged Retry-After %q", r.Method, r.Path, r.RetryAfter)
		}
	}
	if logged != struck {
		t.Errorf("%d 429s logged, %d answered", logged, struck)
	}
}
