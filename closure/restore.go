package closure

import (
	"context"
	"fmt"
	"strings"
)

// restore carries out an approver's Restore of an aborted request: it
// brings back exactly the users this request deleted (its audit log's
// intended deletions that Entra holds as deleted), until the restore
// deadline.
func (r *Runner) restore(ctx context.Context, req *Request) error {
	x, err := r.exec(req)
	if err != nil {
		return err
	}
	if !x.now().Before(req.RestoreDeadline) {
		_, err := x.commit(ctx, func(s System, q *Request) (*Request, Event, error) {
			return s.Restored(q, nil, "the restore deadline passed: Entra no longer keeps the deleted users")
		})
		return err
	}
	evs, err := r.store().Events(ctx, req.ID)
	if err != nil {
		return fmt.Errorf("read audit of %s: %w", req.ID, err)
	}
	deleted, err := x.dir.DeletedUsers(ctx)
	if err != nil {
		return fmt.Errorf("list deleted users: %w", err)
	}
	held := map[string]bool{}
	for _, u := range deleted {
		held[lower(u.ID)] = true
	}
	seen := map[string]bool{}
	var restored, failed []string
	aborted := func(q *Request) bool { return q.State == StateAborted && q.RestoreRequested != nil }
	for _, ev := range evs {
		if ev.Action != intentDeleteUser {
			continue
		}
		id := ev.Detail["id"]
		if id == "" || seen[lower(id)] || !held[lower(id)] {
			continue
		}
		seen[lower(id)] = true
		obj := DeletedObject{ID: id, Name: ev.Detail["name"], Kind: ev.Detail["kind"], Privileged: ev.Detail["privileged"] == "true"}
		if err := x.intend(ctx, aborted, intentRestoreUser, obj.detail()); err != nil {
			return err
		}
		if err := x.dir.RestoreUser(ctx, id); IsRefused(err) {
			// e.g. the UPN is taken again: a person must restore it by hand.
			failed = append(failed, obj.Name+" ("+apiWords(err)+")")
			continue
		} else if err != nil {
			return fmt.Errorf("restore user %s: %w", id, err)
		}
		if _, err := x.commit(ctx, func(s System, q *Request) (*Request, Event, error) { return s.UserRestored(q, obj) }); err != nil {
			return err
		}
		restored = append(restored, id)
	}
	_, err = x.commit(ctx, func(s System, q *Request) (*Request, Event, error) {
		note := fmt.Sprintf("%d users restored", len(restored))
		if len(failed) > 0 {
			note += "; Graph refused to restore: " + strings.Join(failed, "; ")
		}
		return s.Restored(q, restored, note)
	})
	return err
}
