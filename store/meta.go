package store

import (
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// PutMeta stores a small JSON value under name (e.g. "config.last_run", the
// authorisation config snapshot posted as a diff at the next start-up).
// Never pass secrets: the file is not encrypted.
func (db *DB) PutMeta(ctx context.Context, name string, v any) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if name == "" {
		return fmt.Errorf("put meta: %w: empty name", ErrInvalid)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("put meta %s: %w", name, err)
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Bucket(bucketMetaValues).Put([]byte(name), b)
	})
	if err != nil {
		return fmt.Errorf("put meta %s: %w", name, err)
	}
	return nil
}

// GetMeta decodes the value stored under name into v; ok=false if none.
func (db *DB) GetMeta(ctx context.Context, name string, v any) (ok bool, err error) {
	if err := checkCtx(ctx); err != nil {
		return false, err
	}
	err = db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta).Bucket(bucketMetaValues).Get([]byte(name))
		if b == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(b, v)
	})
	if err != nil {
		return false, fmt.Errorf("get meta %s: %w", name, err)
	}
	return ok, nil
}
