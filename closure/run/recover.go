package run

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/closebot/closebot/closure"
)

// completionOf pairs each intent action with the action recording it done.
var completionOf = map[closure.EventAction]closure.EventAction{
	closure.EvIntentDelUser: closure.EvDeleteUser,
	closure.EvIntentSyncOff: closure.EvSyncOff,
	closure.EvIntentDelApp:  closure.EvDeleteApp,
	closure.EvIntentDelSP:   closure.EvDeleteSP,
	closure.EvIntentMFA:     closure.EvMFADisabled,
	closure.EvIntentDisSP:   closure.EvDisableSP,
}

// sentIntents drops from evs the intents of action that a later
// EvIntentUnsent withdrew (never sent), keeping everything else in order.
// Walking backwards, a withdrawal cancels the last intent of each of its
// ids before it.
func sentIntents(evs []closure.Event, action closure.EventAction) []closure.Event {
	out := make([]closure.Event, 0, len(evs))
	withdrawn := map[string]int{} // id → withdrawals not yet matched to an intent
	for i := len(evs) - 1; i >= 0; i-- {
		ev := evs[i]
		switch {
		case ev.Action == closure.EvIntentUnsent && ev.Detail["action"] == string(action):
			for _, id := range splitList(ev.Detail["ids"]) {
				withdrawn[lower(id)]++
			}
			continue
		case ev.Action == action && withdrawn[lower(ev.Detail["id"])] > 0:
			withdrawn[lower(ev.Detail["id"])]--
			continue
		}
		out = append(out, ev)
	}
	slices.Reverse(out)
	return out
}

// resolvedBy are the events, besides an intent's completion, after which
// an intended user deletion is no longer this request's to record: a
// person removed the user at a gate.
var resolvedBy = map[closure.EventAction]closure.EventAction{closure.EvUserGone: closure.EvIntentDelUser}

// orphanIntents returns the intents of the audit log with no recorded
// completion: writes a crash may have made without recording them. Per
// object only the last intent counts: an earlier one was refused or never
// sent (a crash before the call) and was superseded by the retry, whose
// own completion records the write once.
func orphanIntents(evs []closure.Event) []closure.Event {
	key := func(intent closure.EventAction, ev closure.Event) string {
		// Sync-off has no object id: all its intents share one key.
		return string(intent) + "|" + lower(ev.Detail["id"])
	}
	completes := map[closure.EventAction]closure.EventAction{} // completion action → intent
	for intent, completion := range completionOf {
		completes[completion] = intent
	}
	for action, intent := range resolvedBy {
		completes[action] = intent
	}
	open := map[string]int{} // key → index in evs of its unresolved last intent
	for i, ev := range evs {
		if _, ok := completionOf[ev.Action]; ok {
			open[key(ev.Action, ev)] = i
			continue
		}
		if ev.Action == closure.EvIntentUnsent {
			// Intents the step withdrew: those writes were never sent.
			for _, id := range splitList(ev.Detail["ids"]) {
				delete(open, string(ev.Detail["action"])+"|"+lower(id))
			}
			continue
		}
		if intent, ok := completes[ev.Action]; ok {
			delete(open, key(intent, ev))
		}
	}
	idx := make([]int, 0, len(open))
	for _, i := range open {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	out := make([]closure.Event, len(idx))
	for j, i := range idx {
		out[j] = evs[i]
	}
	return out
}

// reconcile records, on resume, the writes a crash left unrecorded: an
// intended deletion whose object is gone was made by this request. An
// intended write that did not happen is simply made again by its step
// (every write is idempotent), so nothing is repeated or skipped.
func (x *tenantWork) reconcile(ctx context.Context) error {
	evs, err := x.r.store().Events(ctx, x.id)
	if err != nil {
		return fmt.Errorf("read audit of %s: %w", x.id, err)
	}
	orphans := orphanIntents(evs)
	if len(orphans) == 0 {
		return nil
	}
	var apps map[string]bool
	var sps map[string]bool
	for _, ev := range orphans {
		id := ev.Detail["id"]
		var record func(closure.System, *closure.Request) (*closure.Request, closure.Event, error)
		step := closure.StepDeleteUsers
		switch ev.Action {
		case closure.EvIntentDelUser:
			_, err := x.dir.User(ctx, id)
			if !isNotFound(err) {
				if err != nil {
					return fmt.Errorf("read user %s: %w", id, err)
				}
				continue
			}
			obj := closure.DeletedObject{ID: id, Name: ev.Detail["name"], Kind: ev.Detail["kind"], Privileged: ev.Detail["privileged"] == "true"}
			record = func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
				return s.UserRemoved(q, obj)
			}
		case closure.EvIntentSyncOff:
			org, err := x.dir.Organization(ctx)
			if err != nil {
				return fmt.Errorf("read organization: %w", err)
			}
			if org.SyncEnabled {
				continue
			}
			record = func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
				if q.Done.SyncOff {
					return nil, closure.Event{}, deny(closure.RuleNotDue, "", q.State, "already recorded")
				}
				return s.SyncTurnedOff(q, ev.Detail["previous"])
			}
		case closure.EvIntentDelApp:
			if apps == nil {
				list, err := x.dir.Applications(ctx)
				if err != nil {
					return fmt.Errorf("read applications: %w", err)
				}
				apps = map[string]bool{}
				for _, a := range list {
					apps[lower(a.ID)] = true
				}
			}
			if apps[lower(id)] {
				continue
			}
			step = closure.StepDeleteDirectory
			obj := closure.DeletedObject{ID: id, Name: ev.Detail["name"], Kind: closure.KindApplication}
			record = func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
				return s.AppRemoved(q, obj)
			}
		case closure.EvIntentDelSP:
			if sps == nil {
				list, err := x.dir.ServicePrincipals(ctx)
				if err != nil {
					return fmt.Errorf("read service principals: %w", err)
				}
				sps = map[string]bool{}
				for _, sp := range list {
					sps[lower(sp.ID)] = true
				}
			}
			if sps[lower(id)] {
				continue
			}
			step = closure.StepDeleteDirectory
			obj := closure.DeletedObject{ID: id, Name: ev.Detail["name"], Kind: closure.KindServicePrincipal}
			record = func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
				return s.ServicePrincipalRemoved(q, obj)
			}
		case closure.EvIntentDisSP:
			list, err := x.dir.ServicePrincipals(ctx)
			if err != nil {
				return fmt.Errorf("read service principals: %w", err)
			}
			i := slices.IndexFunc(list, func(sp closure.ServicePrincipal) bool { return equalFold(sp.ID, id) })
			if i < 0 || list[i].AccountEnabled {
				continue // gone, or not disabled: the step does it again
			}
			step = closure.StepDeleteDirectory
			obj := closure.DeletedObject{ID: id, Name: ev.Detail["name"], Kind: closure.KindServicePrincipal}
			record = func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
				return s.ServicePrincipalDisabled(q, obj)
			}
		case closure.EvIntentMFA:
			state, err := x.dir.PerUserMFA(ctx, id)
			if err != nil && !isNotFound(err) {
				return fmt.Errorf("read per-user MFA of %s: %w", id, err)
			}
			if err == nil && mfaOn(state) {
				continue
			}
			step = closure.StepDisableMFA
			record = func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
				return s.MFADisabled(q, id, ev.Detail["name"], ev.Detail["previous"])
			}
		}
		x.r.logger().InfoContext(ctx, "recording a write a crash left unrecorded", "request", x.id, "intent", ev.Action, "id", id)
		if _, err := x.commitStep(ctx, step, record); err != nil {
			if errors.Is(err, errStopped) {
				continue // recorded meanwhile, or the request moved on
			}
			return err
		}
	}
	return nil
}
