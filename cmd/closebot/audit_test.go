package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/store"
)

const testAuditKey = "cli-test-audit-key-0123456789abcdefghijkl"

// auditDB creates a real database with two requests through the store:
// CT-1 with 3 events (open, approve, append) and CT-2 with 1. It sets
// CLOSEBOT_AUDIT_KEY_FILE and returns the database path.
func auditDB(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "audit.key")
	require.NoError(t, os.WriteFile(keyFile, []byte(testAuditKey+"\n"), 0o600))
	t.Setenv("CLOSEBOT_AUDIT_KEY_FILE", keyFile)
	t.Setenv("CLOSEBOT_CONFIG", "")
	path := filepath.Join(dir, "closebot.db")
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	db, err := store.Open(path, []byte(testAuditKey), store.Options{Now: func() time.Time { return at }})
	require.NoError(t, err)
	defer db.Close()
	ctx := context.Background()
	newReq := func(tenant string) *closure.Request {
		return &closure.Request{TenantID: tenant, TenantDomain: "contoso.onmicrosoft.com", Requester: "U0ALICE",
			Reason: "offboarding", Channel: "C0OPS", State: closure.StatePending, PlanDigest: "plan-1", ConfigDigest: "cfg-1"}
	}
	r1, _, err := db.Create(ctx, newReq("6f1c3a52-8d0e-4b7a-9c21-3e5d4f6a7b80"), closure.Event{At: at, Actor: "U0ALICE", Action: "open"})
	require.NoError(t, err)
	next := *r1
	next.State = closure.StateApproved
	_, _, err = db.Update(ctx, closure.Expect{ID: r1.ID, State: r1.State, Version: r1.Version, PlanDigest: r1.PlanDigest}, &next,
		closure.Event{At: at.Add(time.Minute), Actor: "U0BOB", Action: "approve", Groups: []string{"S0SECLEAD"}})
	require.NoError(t, err)
	_, err = db.Append(ctx, closure.Event{Request: r1.ID, At: at.Add(2 * time.Minute), Actor: closure.SystemActor, Action: "note", Detail: map[string]string{"why": "<!channel> & co"}})
	require.NoError(t, err)
	_, _, err = db.Create(ctx, newReq("7f1c3a52-8d0e-4b7a-9c21-3e5d4f6a7b80"), closure.Event{At: at, Actor: "U0ALICE", Action: "open"})
	require.NoError(t, err)
	return path
}

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestAuditVerifyOK(t *testing.T) {
	path := auditDB(t)
	code, out, errs := runCLI(t, "audit", "verify", "--db", path)
	require.Equal(t, 0, code, errs)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 4, out)
	assert.Regexp(t, `^CT-1  3 events  ok  head #3 mac [0-9a-f]{8}$`, lines[0])
	assert.Regexp(t, `^CT-2  1 events  ok  head #1 mac [0-9a-f]{8}$`, lines[1])
	assert.Equal(t, "database head  ok  2 requests", lines[2])
	assert.Equal(t, "2 requests verified in "+path, lines[3])

	// The printed mac prefix is the stored head's.
	db, err := store.Open(path, []byte(testAuditKey), store.Options{})
	require.NoError(t, err)
	evs, err := db.Events(context.Background(), "CT-1")
	require.NoError(t, err)
	require.NoError(t, db.Close())
	assert.True(t, strings.HasSuffix(lines[0], store.ShortMAC(evs[2].MAC)))
}

func TestAuditVerifyStorePathFromConfig(t *testing.T) {
	path := auditDB(t)
	cfg := filepath.Join(t.TempDir(), "closebot.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("store: {path: "+path+"}\n"), 0o600))
	t.Setenv("CLOSEBOT_CONFIG", cfg)
	code, out, errs := runCLI(t, "audit", "verify")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "2 requests verified in "+path)

	// No --db, no config: closebot.db in the working directory, which is not there.
	t.Setenv("CLOSEBOT_CONFIG", "")
	t.Chdir(t.TempDir())
	code, _, errs = runCLI(t, "audit", "verify")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "no database at ")
	assert.Contains(t, errs, "closebot.db")
	_, err := os.Stat("closebot.db")
	assert.ErrorIs(t, err, os.ErrNotExist, "verify must not create a database")
}

func TestAuditVerifyNamesTheTamperedEvent(t *testing.T) {
	path := auditDB(t)
	// Rewrite event 2 of CT-1 behind the store's back: same shape, other actor.
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	require.NoError(t, err)
	require.NoError(t, b.Update(func(tx *bolt.Tx) error {
		chain := tx.Bucket([]byte("audit")).Bucket([]byte("CT-1"))
		key := []byte{0, 0, 0, 0, 0, 0, 0, 2}
		v := chain.Get(key)
		require.NotNil(t, v)
		return chain.Put(key, bytes.Replace(v, []byte(`"actor":"U0BOB"`), []byte(`"actor":"U0EVE"`), 1))
	}))
	require.NoError(t, b.Close())

	code, out, errs := runCLI(t, "audit", "verify", "--db", path)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "CT-1  2 events  FAILED  event #2: mac mismatch")
	assert.Regexp(t, `(?m)^CT-2  1 events  ok  head #1 mac [0-9a-f]{8}$`, out)
	assert.Contains(t, errs, "1 of 2 requests do not verify")
	assert.Contains(t, errs, "audit chain of CT-1 broken at event 2: mac mismatch")

	// Export still gives the evidence, and fails saying the chain is broken.
	code, out, errs = runCLI(t, "audit", "export", "CT-1", "--db", path)
	assert.Equal(t, 1, code)
	assert.Equal(t, 3, strings.Count(out, "\n"))
	assert.Contains(t, out, `"actor":"U0EVE"`)
	assert.Contains(t, errs, "CT-1 exported, but it does not verify")
}

func TestAuditVerifyWrongKey(t *testing.T) {
	path := auditDB(t)
	other := filepath.Join(t.TempDir(), "other.key")
	require.NoError(t, os.WriteFile(other, []byte(strings.Repeat("x", 40)), 0o600))
	t.Setenv("CLOSEBOT_AUDIT_KEY_FILE", other)
	code, out, errs := runCLI(t, "audit", "verify", "--db", path)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "CT-1  1 events  FAILED  event #1: mac mismatch")
	assert.Contains(t, errs, "2 of 2 requests do not verify")
}

func TestAuditNeedsTheKey(t *testing.T) {
	path := auditDB(t)
	t.Setenv("CLOSEBOT_AUDIT_KEY_FILE", "")
	code, _, errs := runCLI(t, "audit", "verify", "--db", path)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "CLOSEBOT_AUDIT_KEY_FILE is not set")

	short := filepath.Join(t.TempDir(), "short.key")
	require.NoError(t, os.WriteFile(short, []byte("short"), 0o600))
	t.Setenv("CLOSEBOT_AUDIT_KEY_FILE", short)
	code, _, errs = runCLI(t, "audit", "verify", "--db", path)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "audit key too short")
}

// Issue 11 item 7: verify works beside a running closebot, which holds
// the file's lock, and leaves the file as it found it.
func TestAuditVerifyWhileClosebotRuns(t *testing.T) {
	path := auditDB(t)
	require.NoError(t, os.Chmod(path, 0o640)) // as an operator may have left it
	// A running closebot holds the file lock (Open tightens to 0600 itself;
	// put the operator's mode back to see that verify does not chmod).
	db, err := store.Open(path, []byte(testAuditKey), store.Options{})
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, os.Chmod(path, 0o640))
	code, out, errs := runCLI(t, "audit", "verify", "--db", path)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "2 requests verified in "+path)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm(), "verify must not chmod")
	// closebot keeps its lock and keeps writing.
	_, err = db.Append(context.Background(), closure.Event{Request: "CT-2", Actor: closure.SystemActor, Action: "note"})
	assert.NoError(t, err)
	code, out, errs = runCLI(t, "audit", "export", "CT-2", "--db", path)
	require.Equal(t, 0, code, errs)
	assert.Equal(t, 2, strings.Count(out, "\n"))
}

// An evidence copy: read-only file in a read-only directory.
func TestAuditVerifyReadOnlyEvidence(t *testing.T) {
	path := auditDB(t)
	dir := filepath.Join(t.TempDir(), "evidence")
	require.NoError(t, os.Mkdir(dir, 0o700))
	ev := filepath.Join(dir, "closebot.db")
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(ev, raw, 0o400))
	require.NoError(t, os.Chmod(dir, 0o500))
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	code, out, errs := runCLI(t, "audit", "verify", "--db", ev)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "2 requests verified in "+ev)
	fi, err := os.Stat(ev)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o400), fi.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1)
}

// Issue 11 item 6: verify names a deleted request, a rolled-back one and a
// database head that no longer matches the file.
func TestAuditVerifyNamesDeletedAndRolledBack(t *testing.T) {
	t.Run("deleted request", func(t *testing.T) {
		path := auditDB(t)
		editDB(t, path, func(tx *bolt.Tx) error {
			if err := tx.Bucket([]byte("requests")).Delete([]byte{0, 0, 0, 0, 0, 0, 0, 1}); err != nil {
				return err
			}
			if err := tx.Bucket([]byte("audit")).DeleteBucket([]byte("CT-1")); err != nil {
				return err
			}
			return tx.Bucket([]byte("tenants")).Delete([]byte("6f1c3a52-8d0e-4b7a-9c21-3e5d4f6a7b80"))
		})
		code, out, errs := runCLI(t, "audit", "verify", "--db", path)
		assert.Equal(t, 1, code)
		assert.Contains(t, out, "CT-1  0 events  FAILED  deleted (the database head lists it but its record and audit chain are gone)")
		assert.Regexp(t, `(?m)^CT-2  1 events  ok  head #1 mac [0-9a-f]{8}$`, out)
		assert.Contains(t, out, "database head  FAILED  database head mismatch")
		assert.Contains(t, errs, "1 of 2 requests do not verify")
	})
	t.Run("rolled back request", func(t *testing.T) {
		path := auditDB(t)
		// CT-1's last event cut off and its record put back one step: what
		// a copy of the request taken before event 3 looks like.
		before := recordAt(t, path, "CT-1")
		db, err := store.Open(path, []byte(testAuditKey), store.Options{})
		require.NoError(t, err)
		_, err = db.Append(context.Background(), closure.Event{Request: "CT-1", Actor: closure.SystemActor, Action: "note"})
		require.NoError(t, err)
		require.NoError(t, db.Close())
		editDB(t, path, func(tx *bolt.Tx) error {
			if err := tx.Bucket([]byte("audit")).Bucket([]byte("CT-1")).Delete([]byte{0, 0, 0, 0, 0, 0, 0, 4}); err != nil {
				return err
			}
			return tx.Bucket([]byte("requests")).Put([]byte{0, 0, 0, 0, 0, 0, 0, 1}, before)
		})
		code, out, _ := runCLI(t, "audit", "verify", "--db", path)
		assert.Equal(t, 1, code)
		assert.Contains(t, out, "CT-1  3 events  FAILED  rolled back (its record and chain end at event 3 but the database head says 4")
	})
}

func editDB(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	require.NoError(t, err)
	require.NoError(t, b.Update(fn))
	require.NoError(t, b.Close())
}

func recordAt(t *testing.T, path, id string) []byte {
	t.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	require.NoError(t, err)
	defer b.Close()
	var v []byte
	require.NoError(t, b.View(func(tx *bolt.Tx) error {
		v = bytes.Clone(tx.Bucket([]byte("requests")).Get([]byte{0, 0, 0, 0, 0, 0, 0, 1}))
		return nil
	}))
	require.NotNil(t, v, id)
	return v
}

func TestAuditExportJSONLines(t *testing.T) {
	path := auditDB(t)
	code, out, errs := runCLI(t, "audit", "export", "ct-01", "--db", path)
	require.Equal(t, 0, code, errs)
	var seqs []uint64
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var ev closure.Event
		require.NoError(t, json.Unmarshal(sc.Bytes(), &ev), sc.Text())
		assert.Equal(t, "CT-1", ev.Request)
		assert.Len(t, ev.MAC, 64)
		seqs = append(seqs, ev.Seq)
	}
	assert.Equal(t, []uint64{1, 2, 3}, seqs)
	// The export verifies on its own with the key, outside the database.
	res, err := store.VerifyExport([]byte(testAuditKey), strings.NewReader(out))
	require.NoError(t, err)
	assert.True(t, res.OK())
	assert.Equal(t, 3, res.Events)

	// --out before or after the id; the file is private.
	file := filepath.Join(t.TempDir(), "ct-1.jsonl")
	code, _, errs = runCLI(t, "audit", "export", "--db", path, "CT-1", "--out", file)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, errs, "CT-1: 3 events written to "+file)
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, out, string(data))
	fi, err := os.Stat(file)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

func TestAuditExportRefusals(t *testing.T) {
	path := auditDB(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"audit", "export", "--db", path}, "give one request id"},
		{[]string{"audit", "export", "12", "--db", path}, "Did you mean CT-12?"},
		{[]string{"audit", "export", "CT-9", "--db", path}, "no request CT-9 in " + path},
		{[]string{"audit", "frobnicate"}, `unknown subcommand "frobnicate"`},
		{[]string{"audit"}, "missing subcommand"},
	} {
		code, _, errs := runCLI(t, c.args...)
		assert.Equal(t, 1, code, c.args)
		assert.Contains(t, errs, c.want, c.args)
	}
}
