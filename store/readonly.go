package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

// OpenReadOnly opens the database at path for reading only, for `closebot
// audit verify` and `audit export`: beside a running closebot, and on an
// evidence copy that is read-only (file or file system). It writes nothing
// to path: no file is created, no mode changed, no lock taken.
//
// bbolt's own read-only open takes a shared flock, which waits for the
// exclusive one a running closebot holds for its whole life; so this reads
// a snapshot instead: the file is copied to a private temporary file
// (removed by Close) and the copy is opened with bbolt's ReadOnly. A copy
// is consistent when no commit landed while it was made: every bbolt commit
// rewrites one of the two meta pages at the start of the file, after the
// pages it points to, and pages the current meta points to are never
// overwritten before the next commit. So the first two pages (of up to
// 64 KiB each) are read before and after the copy, and the copy is made
// again when they differ.
func OpenReadOnly(path string, key []byte, opts Options) (*DB, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("open %s: %w: %d bytes, need at least %d", path, ErrKeyTooShort, len(key), MinKeyLen)
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	src, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open database %s read-only: %w", path, err)
	}
	defer src.Close()
	if fi, err := src.Stat(); err != nil {
		return nil, fmt.Errorf("open database %s read-only: %w", path, err)
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("open database %s read-only: not a regular file", path)
	}
	tmp, err := os.CreateTemp("", "closebot-snapshot-*.db") // 0600: it holds the audit trail
	if err != nil {
		return nil, fmt.Errorf("snapshot of %s: %w", path, err)
	}
	snap := tmp.Name()
	fail := func(err error) (*DB, error) {
		_ = tmp.Close()
		_ = os.Remove(snap)
		return nil, err
	}
	if err := copyConsistent(src, tmp); err != nil {
		return fail(fmt.Errorf("snapshot of %s: %w", path, err))
	}
	if err := tmp.Close(); err != nil {
		return fail(fmt.Errorf("snapshot of %s: %w", path, err))
	}
	b, err := bolt.Open(snap, 0o600, &bolt.Options{ReadOnly: true, Timeout: opts.LockTimeout})
	if err != nil {
		return fail(fmt.Errorf("open database %s read-only: %w", path, err))
	}
	db := &DB{bolt: b, path: path, key: bytes.Clone(key), now: opts.Now, ttl: opts.EnvelopeTTL,
		readOnly: true, snapshot: snap}
	if err := db.initReadOnly(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open database %s read-only: %w", path, err)
	}
	return db, nil
}

// ReadOnly reports whether the database was opened by OpenReadOnly.
func (db *DB) ReadOnly() bool { return db.readOnly }

// metaSpan covers bbolt's two meta pages for page sizes up to 64 KiB.
const metaSpan = 2 * 64 << 10

// copyAttempts bounds the retries of a copy a commit landed in.
const copyAttempts = 50

var errBusy = errors.New("the database changed during every copy attempt; try again")

// copyConsistent copies src to dst, again until no commit landed during a
// copy (see OpenReadOnly).
func copyConsistent(src, dst *os.File) error {
	for attempt := range copyAttempts {
		before, err := readSpan(src)
		if err != nil {
			return err
		}
		fi, err := src.Stat()
		if err != nil {
			return err
		}
		if err := dst.Truncate(0); err != nil {
			return err
		}
		if _, err := dst.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if _, err := io.Copy(dst, io.NewSectionReader(src, 0, fi.Size())); err != nil {
			return err
		}
		after, err := readSpan(src)
		if err != nil {
			return err
		}
		if bytes.Equal(before, after) {
			return nil
		}
		time.Sleep(time.Duration(attempt+1) * time.Millisecond)
	}
	return errBusy
}

func readSpan(f *os.File) ([]byte, error) {
	buf := make([]byte, metaSpan)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:n], nil
}

// initReadOnly checks that the snapshot is a closebot database of a schema
// this closebot reads, and notes a schema-1 file (no database head).
func (db *DB) initReadOnly() error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		for _, name := range topBuckets {
			if tx.Bucket(name) == nil && !bytes.Equal(name, bucketHeads) {
				return fmt.Errorf("not a closebot database: no %s bucket", name)
			}
		}
		meta := tx.Bucket(bucketMeta)
		got := decodeUint(meta.Get(keySchema))
		if got > schemaVersion {
			return fmt.Errorf("database schema %d is newer than this closebot (%d)", got, schemaVersion)
		}
		if meta.Bucket(bucketMetaValues) == nil {
			return errors.New("not a closebot database: no meta values")
		}
		db.noHead = got < 2 && meta.Get(keyHead) == nil
		return nil
	})
}
