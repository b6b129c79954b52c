package demo

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/store"
)

// Snapshots reads the database of a closebot running in another process,
// which holds the file's lock: each read is served from a consistent copy
// (store.OpenReadOnly) at most MaxAge old. It is the people's Store in the
// tests that run the closebot binary.
type Snapshots struct {
	Path   string
	Key    []byte
	MaxAge time.Duration

	mu sync.Mutex
	db *store.DB
	at time.Time
}

// View runs f on a snapshot at most MaxAge old.
func (s *Snapshots) View(ctx context.Context, f func(*store.DB) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil || time.Since(s.at) > s.MaxAge {
		if s.db != nil {
			_ = s.db.Close()
			s.db = nil
		}
		// A copy a commit kept landing in, or a file not yet created, is
		// tried again for a while.
		var err error
		for deadline := time.Now().Add(15 * time.Second); ; {
			s.db, err = store.OpenReadOnly(s.Path, s.Key, store.Options{})
			if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			return fmt.Errorf("snapshot of %s: %w", s.Path, err)
		}
		s.at = time.Now()
	}
	return f(s.db)
}

// Close removes the last snapshot.
func (s *Snapshots) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db != nil {
		_ = s.db.Close()
		s.db = nil
	}
}

// Get reads a request.
func (s *Snapshots) Get(ctx context.Context, id string) (r *closure.Request, err error) {
	err = s.View(ctx, func(db *store.DB) error { r, err = db.Get(ctx, id); return err })
	return r, err
}

// List lists requests.
func (s *Snapshots) List(ctx context.Context, open bool, limit int) (rs []*closure.Request, err error) {
	err = s.View(ctx, func(db *store.DB) error { rs, err = db.List(ctx, open, limit); return err })
	return rs, err
}

// Ref reads a message ref.
func (s *Snapshots) Ref(ctx context.Context, requestID, name string) (r store.Ref, ok bool, err error) {
	err = s.View(ctx, func(db *store.DB) error { r, ok, err = db.Ref(ctx, requestID, name); return err })
	return r, ok, err
}

// Events reads a request's audit events.
func (s *Snapshots) Events(ctx context.Context, id string) (evs []closure.Event, err error) {
	err = s.View(ctx, func(db *store.DB) error { evs, err = db.Events(ctx, id); return err })
	return evs, err
}
