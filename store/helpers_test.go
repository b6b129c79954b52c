package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

var (
	testKey = []byte("k3y-for-tests-0123456789abcdefghijklmnop")
	t0      = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
)

func testPath(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "closebot.db")
}

// openAt opens path with the test key and a fixed clock; closed at cleanup.
func openAt(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(path, testKey, Options{Now: func() time.Time { return t0 }})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func newRequest(tenant string) *closure.Request {
	return &closure.Request{
		TenantID:     tenant,
		TenantDomain: "contoso.onmicrosoft.com",
		Requester:    "U0ALICE",
		Reason:       "offboarding <!channel> & co",
		Channel:      "C0OPS",
		State:        closure.StatePending,
		PlanDigest:   "digest-1",
		ConfigDigest: "cfg-1",
	}
}

func event(action closure.EventAction) closure.Event {
	return closure.Event{At: t0, Actor: "U0ALICE", Action: action}
}

func createOne(t *testing.T, db *DB, tenant string) *closure.Request {
	t.Helper()
	r, _, err := db.Create(context.Background(), newRequest(tenant), event("open"))
	require.NoError(t, err)
	return r
}

func expectOf(r *closure.Request) closure.Expect {
	return closure.Expect{ID: r.ID, State: r.State, Version: r.Version, PlanDigest: r.PlanDigest}
}
