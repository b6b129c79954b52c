package store

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/closebot/closebot/closure"
)

const marker = "MARKER-7f3a9c"

// buildChains writes CT-1 with five events (event 3 carries the marker)
// and CT-2 with two, then closes the file.
func buildChains(t *testing.T, path string) {
	t.Helper()
	db, err := Open(path, testKey, Options{Now: func() time.Time { return t0 }})
	require.NoError(t, err)
	r1 := createOne(t, db, "tenant-a")
	for i, detail := range []string{"before", marker, "after"} {
		ev := event("step.progress")
		ev.Request = r1.ID
		ev.At = t0.Add(time.Duration(i+1) * time.Minute)
		ev.Detail = map[string]string{"note": detail}
		_, err := db.Append(ctx(), ev)
		require.NoError(t, err)
	}
	next := *r1
	next.State = closure.StateApproved
	_, _, err = db.Update(ctx(), expectOf(r1), &next, event("approve"))
	require.NoError(t, err)
	r2 := createOne(t, db, "tenant-b")
	ev := event("note")
	ev.Request = r2.ID
	_, err = db.Append(ctx(), ev)
	require.NoError(t, err)
	require.NoError(t, db.Close())
}

// documentedMAC recomputes an event MAC by the rule written in audit.go,
// independently of the store's code.
func documentedMAC(key []byte, prev string, ev closure.Event) string {
	ev.MAC = ""
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	h := hmac.New(sha256.New, key)
	h.Write([]byte(prev))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

func TestChainFollowsDocumentedRule(t *testing.T) {
	path := testPath(t)
	buildChains(t, path)
	db := openAt(t, path)
	evs, err := db.Events(ctx(), "CT-1")
	require.NoError(t, err)
	require.Len(t, evs, 5)
	prev := ""
	for i, ev := range evs {
		assert.Equal(t, uint64(i+1), ev.Seq)
		assert.Equal(t, documentedMAC(testKey, prev, ev), ev.MAC, "event %d", ev.Seq)
		prev = ev.MAC
	}
	assert.Equal(t, evs[0].MAC[:8], ShortMAC(evs[0].MAC))

	all, err := db.VerifyAll(ctx())
	require.NoError(t, err)
	require.Len(t, all, 2)
	for _, r := range all {
		assert.True(t, r.OK(), "%s: %v", r.Request, r.Fault)
	}
	assert.Equal(t, 5, all[0].Events)
	assert.Equal(t, 2, all[1].Events)
}

// TestVerifyFindsFlippedByte patches the raw bbolt file: one byte of event
// 3's JSON changes, as an editor with no key would.
func TestVerifyFindsFlippedByte(t *testing.T) {
	path := testPath(t)
	buildChains(t, path)

	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	// Copy-on-write may leave stale copies in free pages; patch them all.
	n := bytes.Count(raw, []byte(marker))
	require.Positive(t, n, "marker must be in the file")
	raw = bytes.ReplaceAll(raw, []byte(marker), []byte("NARKER-7f3a9c"))
	require.NoError(t, os.WriteFile(path, raw, 0o600))

	db := openAt(t, path)
	res, err := db.Verify(ctx(), "CT-1")
	require.NoError(t, err)
	require.NotNil(t, res.Fault)
	assert.Equal(t, "CT-1", res.Fault.Request)
	assert.Equal(t, uint64(3), res.Fault.Seq)
	assert.Equal(t, ReasonMACMismatch, res.Fault.Reason)
	assert.ErrorIs(t, res.Err(), ErrTampered)
	assert.Contains(t, res.Err().Error(), "CT-1")
	assert.Contains(t, res.Err().Error(), "event 3")

	all, err := db.VerifyAll(ctx())
	require.NoError(t, err)
	require.Len(t, all, 2)
	assert.False(t, all[0].OK())
	assert.Equal(t, uint64(3), all[0].Fault.Seq)
	assert.True(t, all[1].OK(), "CT-2 is untouched")
}

// TestVerifyFindsRecomputedChain: someone with write access but another key
// rewrites every MAC (and the request record) consistently; with the real
// key the very first event is bad.
func TestVerifyFindsRecomputedChain(t *testing.T) {
	path := testPath(t)
	buildChains(t, path)
	forged := []byte("an-attacker-key-that-is-long-enough-000")

	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	require.NoError(t, err)
	require.NoError(t, b.Update(func(tx *bolt.Tx) error {
		chain := tx.Bucket(bucketAudit).Bucket([]byte("CT-1"))
		prev := ""
		var rewrites [][2][]byte
		err := chain.ForEach(func(k, v []byte) error {
			var ev closure.Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return err
			}
			ev.Detail = map[string]string{"note": "rewritten history"}
			ev.MAC = documentedMAC(forged, prev, ev)
			prev = ev.MAC
			nv, err := json.Marshal(ev)
			rewrites = append(rewrites, [2][]byte{bytes.Clone(k), nv})
			return err
		})
		if err != nil {
			return err
		}
		for _, kv := range rewrites {
			if err := chain.Put(kv[0], kv[1]); err != nil {
				return err
			}
		}
		// The record too, so only the key gives the forgery away.
		rk, _ := requestKey("CT-1")
		var rec record
		if err := json.Unmarshal(tx.Bucket(bucketRequests).Get(rk), &rec); err != nil {
			return err
		}
		rec.AuditMAC = prev
		rec.MAC = recordMAC(forged, "CT-1", &rec)
		v, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketRequests).Put(rk, v); err != nil {
			return err
		}
		// And the database head, sealed afresh under the forger's key.
		if err := tx.DeleteBucket(bucketHeads); err != nil {
			return err
		}
		_, err = (&DB{key: forged}).buildHead(tx)
		return err
	}))
	require.NoError(t, b.Close())

	// Sanity: the forgery is self-consistent under the forger's key...
	fdb, err := Open(path, forged, Options{})
	require.NoError(t, err)
	fres, err := fdb.Verify(ctx(), "CT-1")
	require.NoError(t, err)
	assert.True(t, fres.OK(), "%v", fres.Fault)
	require.NoError(t, fdb.Close())

	// ...and fails at event 1 under the real one.
	db := openAt(t, path)
	res, err := db.Verify(ctx(), "CT-1")
	require.NoError(t, err)
	require.NotNil(t, res.Fault)
	assert.Equal(t, "CT-1", res.Fault.Request)
	assert.Equal(t, uint64(1), res.Fault.Seq)
	assert.Equal(t, ReasonMACMismatch, res.Fault.Reason)
	_, err = db.Get(ctx(), "CT-1")
	assert.ErrorIs(t, err, ErrTampered, "the forged record is refused on read")
}

// editBolt applies fn to the closed database file through bbolt.
func editBolt(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	require.NoError(t, err)
	require.NoError(t, b.Update(fn))
	require.NoError(t, b.Close())
}

func TestVerifyFindsEditsTheMACMisses(t *testing.T) {
	chainOf := func(tx *bolt.Tx) *bolt.Bucket { return tx.Bucket(bucketAudit).Bucket([]byte("CT-1")) }
	cases := []struct {
		name   string
		edit   func(tx *bolt.Tx) error
		seq    uint64
		reason Reason
	}{{
		// encoding/json matches keys case-insensitively: same event, other bytes.
		name: "key case flipped",
		edit: func(tx *bolt.Tx) error {
			v := chainOf(tx).Get(encodeUint(2))
			return chainOf(tx).Put(encodeUint(2), bytes.Replace(v, []byte(`"actor"`), []byte(`"Actor"`), 1))
		},
		seq: 2, reason: ReasonNotCanonical,
	}, {
		name: "bytes no longer JSON",
		edit: func(tx *bolt.Tx) error {
			v := chainOf(tx).Get(encodeUint(4))
			return chainOf(tx).Put(encodeUint(4), bytes.Replace(bytes.Clone(v), []byte(`{`), []byte(`[`), 1))
		},
		seq: 4, reason: ReasonUnparsable,
	}, {
		name: "middle event removed",
		edit: func(tx *bolt.Tx) error { return chainOf(tx).Delete(encodeUint(3)) },
		seq:  3, reason: ReasonSeqGap,
	}, {
		name: "last event cut off",
		edit: func(tx *bolt.Tx) error { return chainOf(tx).Delete(encodeUint(5)) },
		seq:  5, reason: ReasonHeadMismatch,
	}, {
		name: "request record edited",
		edit: func(tx *bolt.Tx) error {
			rk, _ := requestKey("CT-1")
			v := tx.Bucket(bucketRequests).Get(rk)
			return tx.Bucket(bucketRequests).Put(rk, bytes.Replace(bytes.Clone(v), []byte(`approved`), []byte(`running`), 1))
		},
		seq: 0, reason: ReasonRecordMAC,
	}, {
		name: "chain deleted",
		edit: func(tx *bolt.Tx) error { return tx.Bucket(bucketAudit).DeleteBucket([]byte("CT-1")) },
		seq:  1, reason: ReasonMissing,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := testPath(t)
			buildChains(t, path)
			editBolt(t, path, tc.edit)
			db := openAt(t, path)
			res, err := db.Verify(ctx(), "CT-1")
			require.NoError(t, err)
			require.NotNil(t, res.Fault, "edit not detected")
			assert.Equal(t, tc.seq, res.Fault.Seq, "%v", res.Fault)
			assert.Equal(t, tc.reason, res.Fault.Reason, "%v", res.Fault)
		})
	}
}

func TestAppendRefusesBrokenHead(t *testing.T) {
	path := testPath(t)
	buildChains(t, path)
	editBolt(t, path, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAudit).Bucket([]byte("CT-1")).Delete(encodeUint(5))
	})
	db := openAt(t, path)
	ev := event("note")
	ev.Request = "CT-1"
	_, err := db.Append(ctx(), ev)
	require.ErrorIs(t, err, ErrTampered)
}

func TestExportJSONLines(t *testing.T) {
	path := testPath(t)
	buildChains(t, path)
	db := openAt(t, path)
	var buf bytes.Buffer
	require.NoError(t, db.Export(ctx(), "CT-1", &buf))

	evs, err := db.Events(ctx(), "CT-1")
	require.NoError(t, err)
	sc := bufio.NewScanner(bytes.NewReader(buf.Bytes()))
	var lines int
	for sc.Scan() {
		require.True(t, json.Valid(sc.Bytes()), "line %d: %s", lines+1, sc.Text())
		var ev closure.Event
		require.NoError(t, json.Unmarshal(sc.Bytes(), &ev))
		assert.Equal(t, evs[lines], ev)
		assert.NotEmpty(t, ev.MAC)
		lines++
	}
	require.NoError(t, sc.Err())
	assert.Equal(t, 5, lines)
	assert.True(t, strings.HasSuffix(buf.String(), "}\n"))

	res, err := VerifyExport(testKey, bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	assert.True(t, res.OK(), "%v", res.Fault)
	assert.Equal(t, "CT-1", res.Request)
	assert.Equal(t, 5, res.Events)

	res, err = VerifyExport([]byte("another-key-another-key-another-key!"), bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	require.NotNil(t, res.Fault)
	assert.Equal(t, uint64(1), res.Fault.Seq)

	tampered := bytes.Replace(buf.Bytes(), []byte(marker), []byte("MARKER-000000"), 1)
	res, err = VerifyExport(testKey, bytes.NewReader(tampered))
	require.NoError(t, err)
	require.NotNil(t, res.Fault)
	assert.Equal(t, uint64(3), res.Fault.Seq)

	require.ErrorIs(t, db.Export(ctx(), "CT-9", &buf), closure.ErrNotFound)
}

func TestEventNormalisedBeforeSealing(t *testing.T) {
	db := openAt(t, testPath(t))
	r := createOne(t, db, "tenant-a")
	ev := closure.Event{
		Request: r.ID,
		At:      time.Date(2025, 3, 1, 10, 0, 0, 123, time.FixedZone("CET", 3600)),
		Actor:   "U0ALICE",
		Action:  "note",
		Detail:  map[string]string{"bad": "x\xffy", "html": "<b>&</b>"},
	}
	sealed, err := db.Append(ctx(), ev)
	require.NoError(t, err)
	assert.Equal(t, time.UTC, sealed.At.Location())
	assert.True(t, sealed.At.Equal(ev.At))
	res, err := db.Verify(ctx(), r.ID)
	require.NoError(t, err)
	assert.True(t, res.OK(), "%v", res.Fault)
}

// A record that does not verify stops work on that request alone: List
// leaves it out (so the runner resumes the others), Get refuses it, and its
// tenant stays locked.
func TestListSkipsATamperedRecord(t *testing.T) {
	path := testPath(t)
	buildChains(t, path)
	editBolt(t, path, func(tx *bolt.Tx) error {
		rk, _ := requestKey("CT-1")
		v := tx.Bucket(bucketRequests).Get(rk)
		return tx.Bucket(bucketRequests).Put(rk, bytes.Replace(bytes.Clone(v), []byte(`approved`), []byte(`running`), 1))
	})
	db := openAt(t, path)
	all, err := db.List(ctx(), false, 0)
	require.NoError(t, err)
	require.Len(t, all, 1)
	assert.Equal(t, "CT-2", all[0].ID)
	_, err = db.Get(ctx(), "CT-1")
	assert.ErrorIs(t, err, ErrTampered)
	_, _, err = db.Create(ctx(), newRequest("tenant-a"), event("open"))
	assert.ErrorIs(t, err, closure.ErrTenantLocked, "the tampered request keeps its tenant locked")
}
