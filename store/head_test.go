package store

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/closebot/closebot/closure"
)

// headWorld is a closed database with CT-1 (tenant-a, pending with a card
// ref) and CT-2 (tenant-b, pending), and a backup copy of the file taken
// when CT-1 was still pending; after the backup CT-1 was approved and then
// aborted.
type headWorld struct {
	path, backup string
}

func newHeadWorld(t *testing.T) headWorld {
	t.Helper()
	w := headWorld{path: testPath(t)}
	w.backup = w.path + ".backup"
	db, err := Open(w.path, testKey, Options{Now: func() time.Time { return t0 }})
	require.NoError(t, err)
	r1 := createOne(t, db, "tenant-a")
	require.NoError(t, db.SetRef(ctx(), r1.ID, "card", Ref{Channel: "C0OPS", TS: "1700000000.000100"}))
	createOne(t, db, "tenant-b")
	require.NoError(t, db.Close())
	raw, err := os.ReadFile(w.path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(w.backup, raw, 0o600))

	db, err = Open(w.path, testKey, Options{Now: func() time.Time { return t0 }})
	require.NoError(t, err)
	next := *r1
	next.State = closure.StateApproved
	r1b, _, err := db.Update(ctx(), expectOf(r1), &next, event("approve"))
	require.NoError(t, err)
	next = *r1b
	next.State = closure.StateAborted
	_, _, err = db.Update(ctx(), expectOf(r1b), &next, event("abort"))
	require.NoError(t, err)
	require.NoError(t, db.Close())
	return w
}

// copyKeys copies the named keys and nested buckets of CT-1 from the
// backup into the current file: a partial rollback done with bbolt.
func (w headWorld) restoreFromBackup(t *testing.T, withHeadEntry bool) {
	t.Helper()
	src, err := bolt.Open(w.backup, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	require.NoError(t, err)
	defer src.Close()
	rk, _ := requestKey("CT-1")
	var record, headEntry []byte
	chain := map[string][]byte{}
	require.NoError(t, src.View(func(tx *bolt.Tx) error {
		record = bytes.Clone(tx.Bucket(bucketRequests).Get(rk))
		headEntry = bytes.Clone(tx.Bucket(bucketHeads).Get([]byte("CT-1")))
		return tx.Bucket(bucketAudit).Bucket([]byte("CT-1")).ForEach(func(k, v []byte) error {
			chain[string(k)] = bytes.Clone(v)
			return nil
		})
	}))
	editBolt(t, w.path, func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketRequests).Put(rk, record); err != nil {
			return err
		}
		if err := tx.Bucket(bucketAudit).DeleteBucket([]byte("CT-1")); err != nil {
			return err
		}
		b, err := tx.Bucket(bucketAudit).CreateBucket([]byte("CT-1"))
		if err != nil {
			return err
		}
		for k, v := range chain {
			if err := b.Put([]byte(k), v); err != nil {
				return err
			}
		}
		// The aborted request had released tenant-a; pending holds it.
		if err := tx.Bucket(bucketTenants).Put([]byte("tenant-a"), []byte("CT-1")); err != nil {
			return err
		}
		if withHeadEntry {
			return tx.Bucket(bucketHeads).Put([]byte("CT-1"), headEntry)
		}
		return nil
	})
}

// Issue 11 item 6: one request's record and chain replaced by an older copy
// of themselves verify on their own; the database head names the rollback
// and every read refuses the request.
func TestRollbackOfOneRequestIsSeen(t *testing.T) {
	w := newHeadWorld(t)
	w.restoreFromBackup(t, false)
	db := openAt(t, w.path)

	_, err := db.Get(ctx(), "CT-1")
	var f *Fault
	require.ErrorAs(t, err, &f, "the rolled-back request must not be readable")
	assert.Equal(t, ReasonRolledBack, f.Reason)
	assert.Contains(t, f.Detail, "end at event 1 but the database head says 3")
	assert.ErrorIs(t, db.VerifyChain(ctx(), "CT-1"), closure.ErrTampered)

	open, err := db.List(ctx(), true, 0)
	require.NoError(t, err)
	require.Len(t, open, 1, "only CT-2 is resumed")
	assert.Equal(t, "CT-2", open[0].ID)

	res, err := db.VerifyAll(ctx())
	require.NoError(t, err)
	require.Len(t, res, 2)
	require.NotNil(t, res[0].Fault)
	assert.Equal(t, ReasonRolledBack, res[0].Fault.Reason)
	// The tenant lock put back with the pending record is not in the head either.
	assert.NotNil(t, res[1].Fault, "the head no longer matches the file, so CT-2 stops too")
}

// The same with the request's database head entry put back too: the head
// itself no longer verifies, and nothing resumes.
func TestRollbackWithItsHeadEntryStopsEverything(t *testing.T) {
	w := newHeadWorld(t)
	w.restoreFromBackup(t, true)
	db := openAt(t, w.path)

	req, err := db.Get(ctx(), "CT-1")
	require.NoError(t, err, "record and entry agree")
	assert.Equal(t, closure.StatePending, req.State)
	for _, id := range []string{"CT-1", "CT-2"} {
		err := db.VerifyChain(ctx(), id)
		var f *Fault
		require.ErrorAs(t, err, &f, id)
		assert.Equal(t, ReasonIndex, f.Reason, id)
		assert.Empty(t, f.Request, "a fault of the database as a whole")
		assert.Contains(t, err.Error(), "the database head does not verify")
	}
	rep, err := db.VerifyDatabase(ctx())
	require.NoError(t, err)
	require.NotNil(t, rep.Head)
	assert.Equal(t, ReasonIndex, rep.Head.Reason)
	_, _, err = db.Create(ctx(), newRequest("tenant-c"), event("open"))
	assert.ErrorIs(t, err, ErrTampered, "no new request on a database that does not verify")
}

func TestDeletedRequestIsSeen(t *testing.T) {
	for _, withEntry := range []bool{false, true} {
		name := map[bool]string{false: "head entry kept", true: "head entry deleted too"}[withEntry]
		t.Run(name, func(t *testing.T) {
			path := testPath(t)
			db := openAt(t, path)
			createOne(t, db, "tenant-a")
			createOne(t, db, "tenant-b")
			require.NoError(t, db.Close())
			editBolt(t, path, func(tx *bolt.Tx) error {
				rk, _ := requestKey("CT-1")
				if err := tx.Bucket(bucketRequests).Delete(rk); err != nil {
					return err
				}
				if err := tx.Bucket(bucketAudit).DeleteBucket([]byte("CT-1")); err != nil {
					return err
				}
				if err := tx.Bucket(bucketTenants).Delete([]byte("tenant-a")); err != nil {
					return err
				}
				if withEntry {
					return tx.Bucket(bucketHeads).Delete([]byte("CT-1"))
				}
				return nil
			})
			db = openAt(t, path)
			rep, err := db.VerifyDatabase(ctx())
			require.NoError(t, err)
			require.Len(t, rep.Requests, 2)
			f := rep.Requests[0].Fault
			require.NotNil(t, f, "the deleted request is named")
			assert.Equal(t, "CT-1", f.Request)
			assert.Equal(t, ReasonDeleted, f.Reason)
			require.NotNil(t, rep.Head)
			assert.Equal(t, ReasonIndex, rep.Head.Reason)
			// Its tenant is not free for a new request.
			_, _, err = db.Create(ctx(), newRequest("tenant-a"), event("open"))
			assert.ErrorIs(t, err, ErrTampered)
		})
	}
}

// Ids below the counter are a contiguous range: a request missing from it
// is named even when the counter was turned back to hide it.
func TestCounterAndGaps(t *testing.T) {
	path := testPath(t)
	db := openAt(t, path)
	createOne(t, db, "tenant-a")
	createOne(t, db, "tenant-b")
	createOne(t, db, "tenant-c")
	require.NoError(t, db.Close())

	t.Run("counter turned back", func(t *testing.T) {
		p := path + ".1"
		copyFile(t, path, p)
		editBolt(t, p, func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(keyRequestCounter, encodeUint(2))
		})
		db := openAt(t, p)
		rep, err := db.VerifyDatabase(ctx())
		require.NoError(t, err)
		require.NotNil(t, rep.Head)
		assert.Equal(t, ReasonCounter, rep.Head.Reason)
		require.Len(t, rep.Requests, 3)
		assert.Equal(t, ReasonCounter, rep.Requests[2].Fault.Reason, "CT-3 is above the counter")
		_, _, err = db.Create(ctx(), newRequest("tenant-d"), event("open"))
		assert.ErrorIs(t, err, ErrTampered)
	})
	t.Run("middle request gone", func(t *testing.T) {
		p := path + ".2"
		copyFile(t, path, p)
		editBolt(t, p, func(tx *bolt.Tx) error {
			rk, _ := requestKey("CT-2")
			if err := tx.Bucket(bucketRequests).Delete(rk); err != nil {
				return err
			}
			return tx.Bucket(bucketAudit).DeleteBucket([]byte("CT-2"))
		})
		db := openAt(t, p)
		rep, err := db.VerifyDatabase(ctx())
		require.NoError(t, err)
		require.Len(t, rep.Requests, 3)
		assert.True(t, rep.Requests[0].OK())
		require.NotNil(t, rep.Requests[1].Fault)
		assert.Equal(t, ReasonDeleted, rep.Requests[1].Fault.Reason)
		assert.True(t, rep.Requests[2].OK())
	})
}

func TestTenantLocksAreCovered(t *testing.T) {
	path := testPath(t)
	db := openAt(t, path)
	createOne(t, db, "tenant-a")
	require.NoError(t, db.Close())

	t.Run("lock of an open request removed", func(t *testing.T) {
		p := path + ".1"
		copyFile(t, path, p)
		editBolt(t, p, func(tx *bolt.Tx) error { return tx.Bucket(bucketTenants).Delete([]byte("tenant-a")) })
		db := openAt(t, p)
		res, err := db.Verify(ctx(), "CT-1")
		require.NoError(t, err)
		require.NotNil(t, res.Fault)
		assert.Equal(t, ReasonLock, res.Fault.Reason)
		// Without the lock a second request for the tenant would go through.
		_, _, err = db.Create(ctx(), newRequest("tenant-a"), event("open"))
		assert.ErrorIs(t, err, ErrTampered)
	})
	t.Run("lock added for a tenant", func(t *testing.T) {
		p := path + ".2"
		copyFile(t, path, p)
		editBolt(t, p, func(tx *bolt.Tx) error { return tx.Bucket(bucketTenants).Put([]byte("tenant-z"), []byte("CT-9")) })
		db := openAt(t, p)
		rep, err := db.VerifyDatabase(ctx())
		require.NoError(t, err)
		require.NotNil(t, rep.Head)
		assert.Equal(t, ReasonIndex, rep.Head.Reason)
	})
}

func TestSlackRefsAreCovered(t *testing.T) {
	path := testPath(t)
	db := openAt(t, path)
	r := createOne(t, db, "tenant-a")
	require.NoError(t, db.SetRef(ctx(), r.ID, "card", Ref{Channel: "C0OPS", TS: "1700000000.000100"}))
	require.NoError(t, db.SetRef(ctx(), r.ID, "step.1", Ref{Channel: "C0OPS", TS: "1700000000.000200"}))
	refs, err := db.Refs(ctx(), r.ID)
	require.NoError(t, err)
	assert.Len(t, refs, 2)
	res, err := db.Verify(ctx(), r.ID)
	require.NoError(t, err)
	require.True(t, res.OK(), "%v", res.Fault)
	require.NoError(t, db.Close())

	for name, edit := range map[string]func(b *bolt.Bucket) error{
		"card pointed elsewhere": func(b *bolt.Bucket) error {
			return b.Put([]byte("card"), []byte(`{"channel":"C0OPS","ts":"1700000000.999999"}`))
		},
		"card removed (its thread would not be read back)": func(b *bolt.Bucket) error { return b.Delete([]byte("card")) },
	} {
		t.Run(name, func(t *testing.T) {
			p := path + "." + name[:4]
			copyFile(t, path, p)
			editBolt(t, p, func(tx *bolt.Tx) error { return edit(tx.Bucket(bucketSlack).Bucket([]byte("CT-1"))) })
			db := openAt(t, p)
			_, _, err := db.Ref(ctx(), "CT-1", "card")
			assert.ErrorIs(t, err, ErrTampered)
			_, err = db.Refs(ctx(), "CT-1")
			assert.ErrorIs(t, err, ErrTampered)
			res, err := db.Verify(ctx(), "CT-1")
			require.NoError(t, err)
			require.NotNil(t, res.Fault)
			assert.Equal(t, ReasonRefs, res.Fault.Reason)
			// A new ref does not re-seal the changed ones.
			assert.ErrorIs(t, db.SetRef(ctx(), "CT-1", "step.2", Ref{Channel: "C0OPS", TS: "1700000000.000300"}), ErrTampered)
		})
	}
}

// Every write keeps the head verifying; a file of schema 1 gets one at its
// first read-write open and says how many requests it covered.
func TestHeadFollowsEveryWriteAndUpgrades(t *testing.T) {
	path := testPath(t)
	buildChains(t, path)
	db := openAt(t, path)
	rep, err := db.VerifyDatabase(ctx())
	require.NoError(t, err)
	require.True(t, rep.OK(), "%+v", rep)
	assert.Zero(t, db.Upgraded())
	require.NoError(t, db.Close())

	// Make it a schema-1 file: no head, no heads bucket.
	editBolt(t, path, func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketHeads); err != nil {
			return err
		}
		if err := tx.Bucket(bucketMeta).Delete(keyHead); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, encodeUint(1))
	})
	db = openAt(t, path)
	assert.Equal(t, 2, db.Upgraded())
	rep, err = db.VerifyDatabase(ctx())
	require.NoError(t, err)
	assert.True(t, rep.OK(), "%+v", rep)
	require.NoError(t, db.Close())

	// A schema-2 file whose head was removed is not quietly given a new one.
	editBolt(t, path, func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyHead) })
	db = openAt(t, path)
	assert.Zero(t, db.Upgraded())
	rep, err = db.VerifyDatabase(ctx())
	require.NoError(t, err)
	require.NotNil(t, rep.Head)
	assert.Equal(t, ReasonMissing, rep.Head.Reason)
	ev := event("note")
	ev.Request = "CT-2"
	_, err = db.Append(ctx(), ev)
	assert.ErrorIs(t, err, ErrTampered, "no write re-seals a database without its head")
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	raw, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, raw, 0o600))
}

// A counter pushed far up names the first missing request, and does not
// make verify walk billions of ids.
func TestHugeCounterIsBounded(t *testing.T) {
	path := testPath(t)
	db := openAt(t, path)
	createOne(t, db, "tenant-a")
	require.NoError(t, db.Close())
	editBolt(t, path, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyRequestCounter, encodeUint(1<<62))
	})
	db = openAt(t, path)
	rep, err := db.VerifyDatabase(ctx())
	require.NoError(t, err)
	require.NotNil(t, rep.Head)
	assert.Equal(t, ReasonCounter, rep.Head.Reason)
	require.Len(t, rep.Requests, 2)
	assert.Equal(t, "CT-2", rep.Requests[1].Request)
	assert.Equal(t, ReasonDeleted, rep.Requests[1].Fault.Reason)
}
