package msgraph

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/closebot/closebot/closure/graphtest"
)

const (
	testSecret   = "s3cret-value-never-logged"
	signinClient = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
)

// env is the real emulator in-process with one seeded tenant and our
// adapter on it through real azidentity and msgraph-sdk-go.
type env struct {
	s      *graphtest.Server
	tn     *graphtest.Tenant
	spec   graphtest.TenantSpec
	d      *Directory
	logs   *syncBuffer
	sleeps *sleepRecorder
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// sleepRecorder replaces the retry sleep: tests stay fast and see the waits.
type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (r *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.waits = append(r.waits, d)
	r.mu.Unlock()
	return ctx.Err()
}

func (r *sleepRecorder) got() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.waits...)
}

func newEmulator(t testing.TB) *graphtest.Server {
	t.Helper()
	s := graphtest.New(graphtest.Options{DisableThrottling: true})
	s.Start()
	t.Cleanup(s.Close)
	s.RegisterPublicClient(signinClient)
	return s
}

// baseConfig points a Config at the emulator, without a credential.
func baseConfig(s *graphtest.Server, tn *graphtest.Tenant, logs *syncBuffer) Config {
	return Config{
		TenantID: tn.ID, ClientID: tn.ClosebotAppID, SigninClientID: signinClient, Keep: tn.KeptAdmin().UPN,
		GraphBaseURL: s.GraphURL(), AuthorityHost: s.AuthorityHost(), Transport: s.Client().Transport,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

func newEnv(t testing.TB, spec graphtest.TenantSpec) *env {
	t.Helper()
	s := newEmulator(t)
	tn := s.AddTenant(spec)
	s.RegisterClientSecret(tn.ID, spec.ClosebotAppID, testSecret)
	logs := &syncBuffer{}
	cfg := baseConfig(s, tn, logs)
	cfg.ClientSecret = testSecret
	d, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	rec := &sleepRecorder{}
	d.retry.sleep = rec.sleep
	t.Cleanup(func() {
		if strings.Contains(logs.String(), testSecret) {
			t.Errorf("the client secret was logged")
		}
	})
	return &env{s: s, tn: tn, spec: spec, d: d, logs: logs, sleeps: rec}
}

// smallSpec is the default tenant of 60 users: one of everything.
func smallSpec() graphtest.TenantSpec { return graphtest.DefaultTenantSpec(60) }

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// requests lists the emulator's logged Graph calls of method whose path contains frag.
func requests(s *graphtest.Server, method, frag string) []graphtest.Request {
	var out []graphtest.Request
	for _, r := range s.Requests() {
		if r.Kind == "graph" && r.Method == method && strings.Contains(r.Path, frag) {
			out = append(out, r)
		}
	}
	return out
}

// pickUser finds a seeded user matching ok.
func pickUser(t *testing.T, tn *graphtest.Tenant, ok func(graphtest.UserInfo) bool) graphtest.UserInfo {
	t.Helper()
	for _, u := range tn.Users() {
		if ok(u) {
			return u
		}
	}
	t.Fatal("no seeded user matches")
	return graphtest.UserInfo{}
}

func ordinary(u graphtest.UserInfo) bool {
	return u.UserType == "Member" && !u.Synced && !u.Restricted && len(u.Roles) == 0 && len(u.Eligible) == 0 && u.Enabled
}
