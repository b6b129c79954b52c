package run

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/closebot/closebot/closure"
)

// restore carries out an approver's Restore of an aborted request: it
// brings back exactly the users this request deleted (its audit log's
// intended deletions that Entra holds as deleted), until the restore
// deadline.
func (r *Runner) restore(ctx context.Context, req *closure.Request) error {
	x, err := r.workOn(req)
	if err != nil {
		return err
	}
	if !x.now().Before(req.RestoreDeadline) {
		_, err := x.commit(ctx, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
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
	aborted := func(q *closure.Request) bool { return q.State == closure.StateAborted && q.RestoreRequested != nil }
	// This Restore round so far (a crash may have cut it): users already
	// restored and recorded count; a restore a crash left unrecorded is
	// recorded now (the user is live again, so it is not restored twice).
	var orphans []closure.Event
	for _, ev := range evs {
		switch ev.Action {
		case closure.EvRestore:
			restored, orphans = nil, nil
		case closure.EvUserRestored:
			restored = append(restored, ev.Detail["id"])
			orphans = slices.DeleteFunc(orphans, func(o closure.Event) bool { return equalFold(o.Detail["id"], ev.Detail["id"]) })
		case closure.EvIntentRestore:
			orphans = append(orphans, ev)
		}
	}
	for _, id := range restored {
		seen[lower(id)] = true
	}
	for _, ev := range orphans {
		id := ev.Detail["id"]
		if seen[lower(id)] || held[lower(id)] {
			continue // restored meanwhile, or still deleted: restored below
		}
		if _, err := x.dir.User(ctx, id); isNotFound(err) {
			continue // purged or gone for good: nothing was restored
		} else if err != nil {
			return fmt.Errorf("read user %s: %w", id, err)
		}
		obj := closure.DeletedObject{ID: id, Name: ev.Detail["name"], Kind: ev.Detail["kind"], Privileged: ev.Detail["privileged"] == "true"}
		r.logger().InfoContext(ctx, "recording a restore a crash left unrecorded", "request", req.ID, "id", id)
		if _, err := x.commit(ctx, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
			return s.UserRestored(q, obj)
		}); err != nil {
			return err
		}
		seen[lower(id)] = true
		restored = append(restored, id)
	}
	for _, ev := range sentIntents(evs, closure.EvIntentDelUser) {
		if ev.Action != closure.EvIntentDelUser {
			continue
		}
		id := ev.Detail["id"]
		if id == "" || seen[lower(id)] || !held[lower(id)] {
			continue
		}
		seen[lower(id)] = true
		obj := closure.DeletedObject{ID: id, Name: ev.Detail["name"], Kind: ev.Detail["kind"], Privileged: ev.Detail["privileged"] == "true"}
		if err := x.intend(ctx, aborted, closure.EvIntentRestore, obj.Detail()); err != nil {
			return err
		}
		if err := x.write(ctx, aborted, func(ctx context.Context) error { return x.dir.RestoreUser(ctx, id) }); closure.IsRefused(err) {
			// e.g. the UPN is taken again: a person must restore it by hand.
			failed = append(failed, obj.Name+" ("+apiWords(err)+")")
			continue
		} else if err != nil {
			return fmt.Errorf("restore user %s: %w", id, err)
		}
		if _, err := x.commit(ctx, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
			return s.UserRestored(q, obj)
		}); err != nil {
			return err
		}
		restored = append(restored, id)
	}
	_, err = x.commit(ctx, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
		note := fmt.Sprintf("%d users restored", len(restored))
		if len(failed) > 0 {
			note += "; Graph refused to restore: " + strings.Join(failed, "; ")
		}
		return s.Restored(q, restored, note)
	})
	return err
}
