package store

import (
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Ref locates one Slack message so a restarted bot edits it instead of
// posting again. Names: "card", "thread", "step.1".."step.5", "gate.sync"...
type Ref struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
}

// SetRef records (or replaces) the message named name of request requestID.
func (db *DB) SetRef(ctx context.Context, requestID, name string, ref Ref) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if name == "" || ref.Channel == "" || ref.TS == "" {
		return fmt.Errorf("set slack ref %s/%s: %w: name, channel and ts are required", requestID, name, ErrInvalid)
	}
	v, err := json.Marshal(ref)
	if err != nil {
		return fmt.Errorf("encode slack ref: %w", err)
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		rec, _, err := db.loadRecord(tx, requestID)
		if err != nil {
			return err
		}
		// The refs are part of the database head: check them before the
		// new digest re-seals them.
		if f := checkRefs(tx, requestID); f != nil {
			return f
		}
		h, err := db.beginHead(tx)
		if err != nil {
			return err
		}
		refs, err := tx.Bucket(bucketSlack).CreateBucketIfNotExists([]byte(requestID))
		if err != nil {
			return err
		}
		if err := refs.Put([]byte(name), v); err != nil {
			return err
		}
		return h.sealRequest(requestID, rec, refsDigest(tx, requestID))
	})
	if err != nil {
		return fmt.Errorf("set slack ref %s/%s: %w", requestID, name, err)
	}
	return nil
}

// Ref returns the message named name of request requestID; ok=false if none.
func (db *DB) Ref(ctx context.Context, requestID, name string) (ref Ref, ok bool, err error) {
	if err := checkCtx(ctx); err != nil {
		return Ref{}, false, err
	}
	err = db.bolt.View(func(tx *bolt.Tx) error {
		if err := db.checkRefsRead(tx, requestID); err != nil {
			return err
		}
		refs := tx.Bucket(bucketSlack).Bucket([]byte(requestID))
		if refs == nil {
			return nil
		}
		v := refs.Get([]byte(name))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &ref)
	})
	if err != nil {
		return Ref{}, false, fmt.Errorf("slack ref %s/%s: %w", requestID, name, err)
	}
	return ref, ok, nil
}

// Refs returns every message ref of request requestID by name (empty if none).
func (db *DB) Refs(ctx context.Context, requestID string) (map[string]Ref, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	out := map[string]Ref{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if err := db.checkRefsRead(tx, requestID); err != nil {
			return err
		}
		refs := tx.Bucket(bucketSlack).Bucket([]byte(requestID))
		if refs == nil {
			return nil
		}
		return refs.ForEach(func(k, v []byte) error {
			var r Ref
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode ref %s: %w", k, err)
			}
			out[string(k)] = r
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("slack refs of %s: %w", requestID, err)
	}
	return out, nil
}

// checkRefsRead refuses the refs of a request whose refs no longer match
// its database head entry (a ref pointed at another message, or removed so
// that the start-up read-back of its thread is skipped). Refs of a request
// the head does not know are left to the record's own checks.
func (db *DB) checkRefsRead(tx *bolt.Tx, requestID string) error {
	if db.noHead {
		return nil
	}
	if f := checkRefs(tx, requestID); f != nil {
		return f
	}
	return nil
}
