package store

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SeenEnvelope records a socket-mode envelope id and reports whether this is
// the first time it is seen (within the TTL, default a day). It only saves
// work on redeliveries: correctness comes from Update's compare-and-set.
// Ids older than the TTL are pruned, at most once an hour, in the same
// transaction.
func (db *DB) SeenEnvelope(ctx context.Context, envelopeID string, now time.Time) (firstTime bool, err error) {
	if err := checkCtx(ctx); err != nil {
		return false, err
	}
	if envelopeID == "" {
		return false, fmt.Errorf("seen envelope: %w: empty id", ErrInvalid)
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEnvelopes)
		if v := b.Get([]byte(envelopeID)); v != nil && now.Sub(time.Unix(0, int64(decodeUint(v)))) < db.ttl {
			return nil
		}
		firstTime = true
		if err := b.Put([]byte(envelopeID), encodeUint(uint64(now.UnixNano()))); err != nil {
			return err
		}
		if db.pruneDue(now) {
			_, err := pruneEnvelopes(b, now.Add(-db.ttl))
			return err
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("seen envelope %s: %w", envelopeID, err)
	}
	return firstTime, nil
}

// PruneEnvelopes forgets envelope ids seen before now minus the TTL and
// returns how many it removed.
func (db *DB) PruneEnvelopes(ctx context.Context, now time.Time) (int, error) {
	if err := checkCtx(ctx); err != nil {
		return 0, err
	}
	var n int
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		var err error
		n, err = pruneEnvelopes(tx.Bucket(bucketEnvelopes), now.Add(-db.ttl))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune envelopes: %w", err)
	}
	return n, nil
}

// pruneDue reports whether an hour passed since the last automatic prune.
func (db *DB) pruneDue(now time.Time) bool {
	db.pruneMu.Lock()
	defer db.pruneMu.Unlock()
	if !db.lastPrune.IsZero() && now.Sub(db.lastPrune) < time.Hour && now.After(db.lastPrune) {
		return false
	}
	db.lastPrune = now
	return true
}

func pruneEnvelopes(b *bolt.Bucket, before time.Time) (int, error) {
	var old [][]byte
	err := b.ForEach(func(k, v []byte) error {
		if time.Unix(0, int64(decodeUint(v))).Before(before) {
			old = append(old, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(old), nil
}
