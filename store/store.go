// Package store keeps closebot's state in one bbolt file: closure requests,
// the per-tenant open-request lock, the keyed audit chain, Slack message
// refs, seen envelope ids and small metadata. It implements closure.Store.
//
// Layout (top-level buckets):
//
//	requests   8-byte big-endian request number → record (request JSON + audit head + MAC)
//	tenants    tenant id → id of the request holding the tenant ("CT-n")
//	audit      "CT-n" → nested bucket: 8-byte big-endian seq → event JSON (MAC included)
//	slack      "CT-n" → nested bucket: ref name ("card", "step.1"...) → Ref JSON
//	envelopes  envelope id → 8-byte big-endian unix nanoseconds first seen
//	heads      "CT-n" → the request's entry in the database head (head.go)
//	meta       "schema", "request_counter" (8-byte big-endian), "head" (head.go);
//	           nested "values": name → JSON
//
// The audit key is held in memory only; see audit.go for the exact MAC rule
// of the chains, requests.go for the request records and head.go for the
// database head that binds requests, locks, refs and the counter together.
package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/closebot/closebot/closure"
)

// MinKeyLen is the shortest audit key accepted (bytes).
const MinKeyLen = 32

// schemaVersion is written to meta; a newer file is refused rather than misread.
// 2 added the database head (head.go); a file of schema 1 gets one at its
// first read-write open (DB.Upgraded).
const schemaVersion = 2

// Errors of the store, wrapped with %w.
var (
	// ErrLocked: another process holds the database file lock.
	ErrLocked = errors.New("database file is locked by another process")
	// ErrKeyTooShort: the audit key has fewer than MinKeyLen bytes.
	ErrKeyTooShort = errors.New("audit key too short")
	// ErrKeyFileMode: the audit key file can be read (or written) by its
	// group or by others.
	ErrKeyFileMode = errors.New("audit key file is open to group or others")
	// ErrTampered: stored data does not match its MAC; the error is a *Fault.
	// It is closure.ErrTampered, so the runner recognises it without
	// importing the store.
	ErrTampered = closure.ErrTampered
	// ErrInvalid: an argument the store cannot accept (empty id, name...).
	ErrInvalid = errors.New("invalid store argument")
)

var (
	bucketRequests  = []byte("requests")
	bucketTenants   = []byte("tenants")
	bucketAudit     = []byte("audit")
	bucketSlack     = []byte("slack")
	bucketEnvelopes = []byte("envelopes")
	bucketMeta      = []byte("meta")

	keySchema         = []byte("schema")
	keyRequestCounter = []byte("request_counter")
	bucketMetaValues  = []byte("values")
)

// Options tune Open. The zero value is ready to use.
type Options struct {
	// LockTimeout is how long Open waits for the file lock before failing
	// with ErrLocked (default 1 s): a second process must fail fast.
	LockTimeout time.Duration
	// Now is the clock for defaults (event time, envelope pruning); default time.Now.
	Now func() time.Time
	// EnvelopeTTL is how long a seen envelope id is remembered (default 24 h).
	EnvelopeTTL time.Duration
}

// DB is an open closebot database. Safe for concurrent use.
type DB struct {
	bolt *bolt.DB
	path string
	key  []byte
	now  func() time.Time
	ttl  time.Duration

	pruneMu   sync.Mutex
	lastPrune time.Time

	readOnly bool   // OpenReadOnly: a snapshot, never written
	snapshot string // the snapshot file OpenReadOnly made; removed by Close
	noHead   bool   // a read-only schema-1 file: no database head to check
	upgraded int    // requests a schema-1 file held when this open gave it a head

	holdMu sync.Mutex
	held   map[string]*Fault // Hold: requests refused for this process's life
}

// Open opens (creating it 0600 if needed) the database at path. key is the
// audit HMAC key (at least MinKeyLen bytes); it is never written to the file.
func Open(path string, key []byte, opts Options) (*DB, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("open %s: %w: %d bytes, need at least %d", path, ErrKeyTooShort, len(key), MinKeyLen)
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.EnvelopeTTL <= 0 {
		opts.EnvelopeTTL = 24 * time.Hour
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("closebot is already running with this database (%s): %w (gave up after %s)", path, ErrLocked, opts.LockTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// bbolt creates with 0600 minus umask; a file made earlier by hand may be
	// wider, and it holds the audit trail, so tighten it.
	if fi, err := os.Stat(path); err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("stat database %s: %w", path, err)
	} else if fi.Mode().Perm() != 0o600 {
		if err := os.Chmod(path, 0o600); err != nil {
			_ = b.Close()
			return nil, fmt.Errorf("restrict database %s to 0600: %w", path, err)
		}
	}
	db := &DB{bolt: b, path: path, key: bytes.Clone(key), now: opts.Now, ttl: opts.EnvelopeTTL}
	if err := db.init(); err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return db, nil
}

// init creates the buckets and checks the schema version.
func (db *DB) init() error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		for _, name := range topBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		if _, err := meta.CreateBucketIfNotExists(bucketMetaValues); err != nil {
			return fmt.Errorf("create meta values: %w", err)
		}
		v := meta.Get(keySchema)
		got := decodeUint(v)
		if got > schemaVersion {
			return fmt.Errorf("database schema %d is newer than this closebot (%d)", got, schemaVersion)
		}
		if got < 2 && meta.Get(keyHead) == nil {
			// A new file, or one written before the database head: seal
			// one over what is there. A schema-2 file without a head is
			// not rebuilt: someone removed it, and the verify tools say so.
			n, err := db.buildHead(tx)
			if err != nil {
				return err
			}
			if v != nil {
				db.upgraded = n
			}
		}
		if got == schemaVersion {
			return nil
		}
		return meta.Put(keySchema, encodeUint(schemaVersion))
	})
}

// topBuckets are the buckets every closebot database has.
var topBuckets = [][]byte{bucketRequests, bucketTenants, bucketAudit, bucketSlack, bucketEnvelopes, bucketMeta, bucketHeads}

// Upgraded reports how many requests a database written before schema 2
// held when this open sealed a database head over them (0: none, or the
// file already had one). Rollbacks and deletions from before that moment
// cannot be seen in the file; start-up says so.
func (db *DB) Upgraded() int { return db.upgraded }

// Close releases the file and its lock (and removes OpenReadOnly's snapshot).
func (db *DB) Close() error {
	err := db.bolt.Close()
	if db.snapshot != "" {
		_ = os.Remove(db.snapshot)
	}
	if err != nil {
		return fmt.Errorf("close database %s: %w", db.path, err)
	}
	return nil
}

// Path is the database file's path.
func (db *DB) Path() string { return db.path }

// LoadKey reads the audit key from the file named by CLOSEBOT_AUDIT_KEY_FILE:
// its bytes, one trailing newline ("\n" or "\r\n") trimmed, at least MinKeyLen.
// A file its group or others may read or write is refused (ErrKeyFileMode):
// whoever reads the key can forge the whole audit trail. The mode is that
// of the file opened (a symbolic link is followed), checked on the open
// file so it cannot change between the check and the read.
func LoadKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read audit key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read audit key file: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o; run: chmod 600 %s (in Kubernetes, mount the secret with defaultMode: 0400)",
			ErrKeyFileMode, path, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read audit key file: %w", err)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) < MinKeyLen {
		// Never echo key bytes, only their count.
		return nil, fmt.Errorf("audit key file %s: %w: %d bytes, need at least %d", path, ErrKeyTooShort, len(b), MinKeyLen)
	}
	return b, nil
}

// checkCtx refuses to start work for a cancelled context; bbolt
// transactions are short and take no context themselves.
func checkCtx(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

func encodeUint(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// decodeUint reads an 8-byte big-endian number; anything else is 0.
func decodeUint(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}
