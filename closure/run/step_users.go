package run

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/closebot/closebot/closure"
)

// stepUsers is step 1 (DESIGN §4): turn sync off if on, then delete every
// user except the kept admin, ordinary users first, then privileged ones,
// each of those after a re-check of the kept admin. Synced users wait until
// they turn cloud-only. Refusals become gates. Done when only the kept
// admin is left.
func (x *tenantWork) stepUsers(ctx context.Context, req *closure.Request) (*Wait, error) {
	keepID := req.Facts.KeepObjectID
	if keepID == "" {
		return nil, &failure{why: "the approved plan names no kept admin; closebot deletes no user without one"}
	}
	if err := x.stillSafe(ctx, req); err != nil {
		return nil, err
	}
	org, err := x.dir.Organization(ctx)
	if err != nil {
		return nil, fmt.Errorf("read organization: %w", err)
	}
	var syncRefused error
	if org.SyncEnabled && !req.Done.SyncOff {
		if err := x.intend(ctx, runningAt(1), closure.EvIntentSyncOff, map[string]string{"organization": org.ID, "previous": "true"}); err != nil {
			return nil, err
		}
		switch err := x.write(ctx, runningAt(1), func(ctx context.Context) error { return x.dir.DisableSync(ctx, org.ID) }); {
		case closure.IsRefused(err):
			syncRefused = err
		case err != nil:
			return nil, fmt.Errorf("turn sync off: %w", err)
		default:
			if _, err := x.commit(ctx, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
				return s.SyncTurnedOff(q, "true")
			}); err != nil {
				return nil, err
			}
		}
	}

	// Users this request already deleted may still be listed: Entra
	// replicates deletions with a delay. Each is counted once, never
	// deleted twice; the done check below confirms them by id.
	gone, err := x.deletedUserIDs(ctx)
	if err != nil {
		return nil, err
	}
	listed, err := x.usersExceptKeep(ctx, keepID)
	if err != nil {
		return nil, err
	}
	var users []closure.User
	for _, u := range listed {
		if !gone[lower(u.ID)] {
			users = append(users, u)
		}
	}
	if len(users) == 0 && len(listed) > 0 {
		// Only users this request deleted are listed: those still there
		// when read by id came back (restored by someone) and go again.
		if users, err = x.usersLeft(ctx, keepID); err != nil {
			return nil, err
		}
	}
	holders, err := x.roleHolders(ctx)
	if err != nil {
		return nil, err
	}
	for _, id := range req.Facts.Privileged {
		holders[lower(id)] = true
	}
	atGate := map[string]bool{} // users an open gate already retries
	for _, g := range openGatesOf(req, closure.GateRestrictedAdminUnit, closure.GateUserRefused) {
		for _, id := range splitList(g.Params["ids"]) {
			atGate[lower(id)] = true
		}
	}
	var ordinary, privileged []closure.User
	synced := 0
	for _, u := range users {
		switch {
		case atGate[lower(u.ID)]:
		case u.Synced:
			synced++ // waits for sync-off: deleted once cloud-only
		case holders[lower(u.ID)]:
			privileged = append(privileged, u)
		default:
			ordinary = append(ordinary, u)
		}
	}
	if err := x.note(ctx, req, 1, req.StepAt(1).Done+len(users), fmt.Sprintf("%d users to delete (%d waiting for sync-off)", len(users), synced)); err != nil {
		return nil, err
	}

	refused, refusedErr, err := x.deleteOrdinary(ctx, req, ordinary)
	if err != nil {
		return nil, err
	}
	for _, u := range privileged {
		why, err := x.keepOK(ctx, keepID)
		if err != nil {
			return nil, err
		}
		if why != "" {
			return nil, &failure{why: why + "; no privileged user was deleted after this check"}
		}
		err = x.deleteUser(ctx, runningAt(1), u, true)
		if closure.IsRefused(err) {
			refused, refusedErr = append(refused, u), err
			continue
		}
		if err != nil {
			return nil, err
		}
	}

	opened := false
	if syncRefused != nil {
		if _, err := x.openGate(ctx, closure.Gate{ID: "1.sync_off", Step: 1, Kind: closure.GateSyncOff,
			Params: map[string]string{"error": apiWords(syncRefused), "organization": org.ID}}); err != nil {
			return nil, err
		}
		opened = true
	}
	if len(refused) > 0 {
		if err := x.openUserGates(ctx, refused, refusedErr); err != nil {
			return nil, err
		}
		opened = true
	}
	if opened {
		return nil, nil
	}

	left, err := x.usersLeft(ctx, keepID)
	if err != nil {
		return nil, err
	}
	if len(left) == 0 {
		_, err = x.commitStep(ctx, 1, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
			return s.StepDone(q, fmt.Sprintf("%d users deleted; only the kept admin remains", q.StepAt(1).Done))
		})
		return nil, err
	}
	wait := fmt.Sprintf("%d users left", len(left))
	if synced > 0 {
		wait = fmt.Sprintf("%d synced users wait to turn cloud-only after sync-off (up to 72 h)", synced)
	}
	return &Wait{Until: x.now().Add(x.r.recheckEvery()), Reason: wait}, nil
}

// safetyBatch is how many deletions go between two re-checks of the legal
// holds and the kept admin.
const safetyBatch = 100

// stillSafe re-checks, before a batch of deletions, what preflight refuses
// on and can change at any time: an eDiscovery hold placed since the plan
// was read, the kept admin gone, disabled or no longer a permanent Global
// Administrator. On any of them the plan is read again in full and the
// request goes back for approval (errStopped), naming what changed.
func (x *tenantWork) stillSafe(ctx context.Context, req *closure.Request) error {
	// The two reads go in parallel: at the write quota a batch of
	// deletions lasts only a few Graph round trips, and the check of the
	// next batch must fit in it (deleteOrdinary runs it ahead).
	type keepAnswer struct {
		why string
		err error
	}
	keep := make(chan keepAnswer, 1)
	go func() {
		why, err := x.keepOK(ctx, req.Facts.KeepObjectID)
		keep <- keepAnswer{why, err}
	}()
	why := ""
	holds, err := x.dir.LegalHolds(ctx)
	k := <-keep
	switch {
	case holdsUnreadable(err):
		// No eDiscovery (Premium) on this tenant: the approval's
		// attestation covers holds Graph cannot show.
	case err != nil:
		return fmt.Errorf("re-check legal holds: %w", err)
	}
	for _, h := range holds {
		if h.Active() {
			why = "legal hold"
			break
		}
	}
	if why == "" {
		if k.err != nil {
			return k.err
		}
		why = k.why
	}
	if why == "" {
		return nil
	}
	drifted, err := x.verify(ctx, req)
	if err != nil {
		return err
	}
	if !drifted {
		// Released or fixed between the two reads: go on, checked again
		// at the next batch.
		return nil
	}
	return errStopped
}

// usersLeft lists the users other than the kept admin that still exist.
// One this request deleted that a listing still shows (replication lag)
// is read by id: gone (404) is gone; still there (restored by someone) is
// left, and deleted again.
func (x *tenantWork) usersLeft(ctx context.Context, keepID string) ([]closure.User, error) {
	listed, err := x.usersExceptKeep(ctx, keepID)
	if err != nil {
		return nil, err
	}
	gone, err := x.deletedUserIDs(ctx)
	if err != nil {
		return nil, err
	}
	var left []closure.User
	for _, u := range listed {
		if gone[lower(u.ID)] {
			_, err := x.dir.User(ctx, u.ID)
			if isNotFound(err) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("read user %s: %w", u.ID, err)
			}
		}
		left = append(left, u)
	}
	return left, nil
}

// deleteUser deletes one user at a safe point, recording the intent
// before and the deletion (id, UPN, kind) after.
func (x *tenantWork) deleteUser(ctx context.Context, ok func(*closure.Request) bool, u closure.User, privileged bool) error {
	obj := closure.DeletedObject{ID: u.ID, Name: u.UPN, Kind: string(closure.KindOf(u, privileged)), Privileged: privileged}
	if err := x.intend(ctx, ok, closure.EvIntentDelUser, obj.Detail()); err != nil {
		return err
	}
	if err := x.write(ctx, ok, func(ctx context.Context) error { return x.dir.DeleteUser(ctx, u.ID) }); err != nil {
		return err
	}
	_, err := x.commitStep(ctx, 1, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
		return s.UserRemoved(q, obj)
	})
	return err
}

// openUserGates opens one gate for refused users in restricted admin
// units and one for the others.
func (x *tenantWork) openUserGates(ctx context.Context, refused []closure.User, cause error) error {
	units, err := x.dir.AdministrativeUnits(ctx)
	if err != nil {
		return fmt.Errorf("read administrative units: %w", err)
	}
	unitOf := map[string]string{}
	for _, au := range units {
		if au.Restricted {
			for _, m := range au.Members {
				unitOf[lower(m)] = au.DisplayName
			}
		}
	}
	var inAU, other []closure.User
	unitNames := map[string]bool{}
	for _, u := range refused {
		if n, ok := unitOf[lower(u.ID)]; ok {
			inAU = append(inAU, u)
			unitNames[n] = true
		} else {
			other = append(other, u)
		}
	}
	if len(inAU) > 0 {
		p := userParams(inAU)
		p["units"] = strings.Join(sortedKeys(unitNames), ", ")
		if _, err := x.openGate(ctx, closure.Gate{ID: "1.restricted_au", Step: 1, Kind: closure.GateRestrictedAdminUnit, Params: p}); err != nil {
			return err
		}
	}
	if len(other) > 0 {
		p := userParams(other)
		p["error"] = apiWords(cause)
		if _, err := x.openGate(ctx, closure.Gate{ID: "1.refused", Step: 1, Kind: closure.GateUserRefused, Params: p}); err != nil {
			return err
		}
	}
	return nil
}

func userParams(us []closure.User) map[string]string {
	ids := make([]string, len(us))
	upns := make([]string, len(us))
	for i, u := range us {
		ids[i], upns[i] = u.ID, u.UPN
	}
	return map[string]string{"ids": strings.Join(ids, ","), "users": strings.Join(upns, ", "), "count": fmt.Sprint(len(us))}
}

// apiWords is a refusal in the service's words, for a gate's text.
func apiWords(err error) string {
	if ae, ok := closure.AsAPIError(err); ok {
		w := fmt.Sprintf("%d %s: %s", ae.Status, ae.Code, ae.Message)
		if ae.Permission != "" {
			w += "; closebot's app lacks " + ae.Permission + " in this tenant"
		}
		return w
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

// recheckUserGate retries the deletion of a step-1 gate's users; the
// gate is satisfied once all are gone. It reports whether the request's
// state changed.
func (x *tenantWork) recheckUserGate(ctx context.Context, req *closure.Request, g closure.Gate) (bool, error) {
	if err := x.stillSafe(ctx, req); err != nil {
		return false, err
	}
	deletedByUs, err := x.deletedUserIDs(ctx)
	if err != nil {
		return false, err
	}
	holders, err := x.roleHolders(ctx)
	if err != nil {
		return false, err
	}
	var left []closure.User
	for _, id := range splitList(g.Params["ids"]) {
		u, err := x.dir.User(ctx, id)
		if isNotFound(err) {
			if !deletedByUs[lower(id)] {
				priv := containsFold(req.Facts.Privileged, id)
				obj := closure.DeletedObject{ID: id, Kind: string(closure.KindMember), Privileged: priv}
				if priv {
					obj.Kind = string(closure.KindPrivileged)
				}
				if _, err := x.commitStep(ctx, 1, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
					return s.UserGone(q, obj, g.ID)
				}); err != nil {
					return false, err
				}
				deletedByUs[lower(id)] = true
			}
			continue
		}
		if err != nil {
			return false, fmt.Errorf("read user %s: %w", id, err)
		}
		priv := holders[lower(u.ID)] || containsFold(req.Facts.Privileged, u.ID)
		if priv {
			why, err := x.keepOK(ctx, req.Facts.KeepObjectID)
			if err != nil {
				return false, err
			}
			if why != "" {
				left = append(left, u)
				continue
			}
		}
		err = x.deleteUser(ctx, gateAt(1), u, priv)
		if closure.IsRefused(err) {
			left = append(left, u)
			continue
		}
		if err != nil {
			return false, err
		}
	}
	if len(left) == 0 {
		q, err := x.commit(ctx, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
			return s.SatisfyGate(q, g.ID)
		})
		x.gateChanged(ctx, q, g.ID)
		return true, err
	}
	if p := userParams(left); p["ids"] != g.Params["ids"] {
		q, err := x.commit(ctx, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
			return s.GateUpdate(q, g.ID, time.Time{}, p, fmt.Sprintf("%d users left", len(left)))
		})
		x.gateChanged(ctx, q, g.ID)
		return false, err
	}
	return false, nil
}

// deletedUserIDs are the users this request recorded deleting.
func (x *tenantWork) deletedUserIDs(ctx context.Context) (map[string]bool, error) {
	evs, err := x.r.store().Events(ctx, x.id)
	if err != nil {
		return nil, fmt.Errorf("read audit of %s: %w", x.id, err)
	}
	out := map[string]bool{}
	for _, ev := range evs {
		if ev.Action == closure.EvDeleteUser || ev.Action == closure.EvUserGone {
			out[lower(firstOf(ev.Detail, "id", "user"))] = true
		}
	}
	return out, nil
}

func firstOf(m map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := m[k]; v != "" {
			return v
		}
	}
	return ""
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
