package store

import (
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// Issue 11 item 7: the audit tools read beside a running closebot, which
// holds the file's exclusive lock and keeps committing.
func TestOpenReadOnlyBesideARunningWriter(t *testing.T) {
	path := testPath(t)
	db := openAt(t, path)
	r := createOne(t, db, "tenant-a")
	createOne(t, db, "tenant-b")

	var (
		wg      sync.WaitGroup
		stop    atomic.Bool
		appends atomic.Int64
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			ev := event("step.progress")
			ev.Request = r.ID
			if _, err := db.Append(ctx(), ev); err != nil {
				t.Error(err)
				return
			}
			appends.Add(1)
			// 500 commits a second: well above what closebot writes (its
			// deletions are paced by Graph's ~20 writes a second), yet not
			// a loop with no gap at all, which starves any reader that
			// copies the file (a flake under -race on a busy machine).
			time.Sleep(2 * time.Millisecond)
		}
	}()
	deadline := time.Now().Add(500 * time.Millisecond)
	reads := 0
	for time.Now().Before(deadline) || reads < 3 {
		ro, err := OpenReadOnly(path, testKey, Options{})
		require.NoError(t, err)
		assert.True(t, ro.ReadOnly())
		rep, err := ro.VerifyDatabase(ctx())
		require.NoError(t, err)
		assert.True(t, rep.OK(), "a snapshot taken during commits verifies: %+v", rep)
		require.Len(t, rep.Requests, 2)
		require.NoError(t, ro.Close())
		reads++
	}
	stop.Store(true)
	wg.Wait()
	assert.Positive(t, appends.Load(), "the writer kept committing meanwhile")

	// The writer still holds its lock and still writes.
	_, err := Open(path, testKey, Options{LockTimeout: 50 * time.Millisecond})
	assert.ErrorIs(t, err, ErrLocked)
	ev := event("note")
	ev.Request = r.ID
	_, err = db.Append(ctx(), ev)
	assert.NoError(t, err)
}

// An evidence copy: a read-only file in a read-only directory. Nothing is
// created, chmodded or written.
func TestOpenReadOnlyEvidenceCopy(t *testing.T) {
	path := testPath(t)
	buildChains(t, path)
	dir := filepath.Join(t.TempDir(), "evidence")
	require.NoError(t, os.Mkdir(dir, 0o700))
	ev := filepath.Join(dir, "closebot.db")
	copyFile(t, path, ev)
	require.NoError(t, os.Chmod(ev, 0o444))
	require.NoError(t, os.Chmod(dir, 0o555))
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	before, err := os.Stat(ev)
	require.NoError(t, err)

	ro, err := OpenReadOnly(ev, testKey, Options{})
	require.NoError(t, err)
	rep, err := ro.VerifyDatabase(ctx())
	require.NoError(t, err)
	assert.True(t, rep.OK(), "%+v", rep)
	evs, err := ro.Events(ctx(), "CT-1")
	require.NoError(t, err)
	assert.Len(t, evs, 5)
	assert.Equal(t, ev, ro.Path(), "Path names the file read, not the snapshot")
	require.NoError(t, ro.Close())

	after, err := os.Stat(ev)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o444), after.Mode().Perm(), "no chmod")
	assert.Equal(t, before.ModTime(), after.ModTime(), "not written")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "nothing created beside it")
}

func TestOpenReadOnlyRefusals(t *testing.T) {
	dir := t.TempDir()
	_, err := OpenReadOnly(filepath.Join(dir, "none.db"), testKey, Options{})
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = os.Stat(filepath.Join(dir, "none.db"))
	assert.ErrorIs(t, err, os.ErrNotExist, "no file created")

	junk := filepath.Join(dir, "junk.db")
	require.NoError(t, os.WriteFile(junk, []byte("not a database at all"), 0o600))
	_, err = OpenReadOnly(junk, testKey, Options{})
	assert.Error(t, err)

	other := filepath.Join(dir, "other.db")
	b, err := bolt.Open(other, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, b.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("x")); return err }))
	require.NoError(t, b.Close())
	_, err = OpenReadOnly(other, testKey, Options{})
	assert.ErrorContains(t, err, "not a closebot database")

	_, err = OpenReadOnly(other, []byte("short"), Options{})
	assert.ErrorIs(t, err, ErrKeyTooShort)
}

// A read-only schema-1 file cannot be given a head: the report says so
// and still checks every chain.
func TestOpenReadOnlySchema1(t *testing.T) {
	path := testPath(t)
	buildChains(t, path)
	editBolt(t, path, func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketHeads); err != nil {
			return err
		}
		if err := tx.Bucket(bucketMeta).Delete(keyHead); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, encodeUint(1))
	})
	ro, err := OpenReadOnly(path, testKey, Options{})
	require.NoError(t, err)
	defer ro.Close()
	rep, err := ro.VerifyDatabase(ctx())
	require.NoError(t, err)
	assert.True(t, rep.NoHead)
	assert.True(t, rep.OK(), "%+v", rep)
	_, err = ro.Get(ctx(), "CT-1")
	assert.NoError(t, err)
}
