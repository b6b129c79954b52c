package run

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/closebot/closebot/closure"
)

// removeSP deletes a service principal at step 5's safe point; where Graph
// refuses, it sets accountEnabled=false instead. It reports whether it
// disabled it, and in words what Graph refused outright.
func (x *tenantWork) removeSP(ctx context.Context, ok func(*closure.Request) bool, sp closure.ServicePrincipal) (bool, string, error) {
	obj := closure.DeletedObject{ID: sp.ID, Name: sp.DisplayName, Kind: closure.KindServicePrincipal}
	if err := x.intend(ctx, ok, closure.EvIntentDelSP, obj.Detail()); err != nil {
		return false, "", err
	}
	err := x.write(ctx, ok, func(ctx context.Context) error { return x.dir.DeleteServicePrincipal(ctx, sp.ID) })
	switch {
	case err == nil:
		_, err := x.commitStep(ctx, closure.StepDeleteDirectory, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
			return s.ServicePrincipalRemoved(q, obj)
		})
		return false, "", err
	case closure.IsPermissionDenied(err) && permissionOf(err) != "":
		return false, "", err // closebot lacks a grant: the failure names it
	case !closure.IsRefused(err):
		return false, "", fmt.Errorf("delete service principal %s: %w", sp.ID, err)
	}
	if !sp.AccountEnabled {
		return false, "", nil // cannot be deleted, already disabled
	}
	if err := x.intend(ctx, ok, closure.EvIntentDisSP, obj.Detail()); err != nil {
		return false, "", err
	}
	if derr := x.write(ctx, ok, func(ctx context.Context) error { return x.dir.DisableServicePrincipal(ctx, sp.ID) }); derr != nil {
		if closure.IsRefused(derr) {
			return false, "service principal " + sp.DisplayName + " (delete: " + apiWords(err) + "; disable: " + apiWords(derr) + ")", nil
		}
		return false, "", fmt.Errorf("disable service principal %s: %w", sp.ID, derr)
	}
	_, cerr := x.commitStep(ctx, closure.StepDeleteDirectory, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
		return s.ServicePrincipalDisabled(q, obj)
	})
	return true, "", cerr
}

// deleteTenantGate is the id of step 5's last gate.
const deleteTenantGate = "5.delete_tenant"

// stepDirectory is step 5 (DESIGN §4): final checks, the point of no
// return (approval.required fresh confirmations after a clean drift
// check), then the deletion of tenant-owned Application service
// principals and app registrations (never closebot's, never Microsoft's,
// never the deny-list), then the kept admin's tenant deletion gate.
func (x *tenantWork) stepDirectory(ctx context.Context, req *closure.Request) (*Wait, error) {
	st := req.StepAt(closure.StepDeleteDirectory)
	if _, ok := req.Gate(deleteTenantGate); ok {
		return &Wait{Until: x.now().Add(x.r.recheckEvery()), Reason: "tenant deletion"}, nil
	}
	if g, ok := req.Gate(closure.RemoveWriteGateID); ok && !g.IsOpen() {
		// closebot's write access is gone (verified): the deletions above
		// are not run again (they would be refused now). The tenant
		// deletion's gate opens with the words the last writes left.
		_, err := x.openGate(ctx, closure.Gate{ID: deleteTenantGate, Step: closure.StepDeleteDirectory, Kind: closure.GateDeleteTenant, Params: deleteParams(g)})
		return nil, err
	}
	if x.tenant.ClientID == "" {
		return nil, &failure{why: "tenants[].client_id is not configured: closebot cannot tell its own app apart, so it deletes no app"}
	}
	switch {
	case st.AwaitingConfirmation:
		return &Wait{Until: x.now().Add(x.r.recheckEvery()), Reason: "waiting for the point-of-no-return confirmations"}, nil
	case !st.Confirmed:
		if why, err := x.finalChecks(ctx, req); err != nil || why != "" {
			if why != "" {
				return nil, &failure{why: "final check: " + why}
			}
			return nil, err
		}
		if drifted, err := x.verify(ctx, req); err != nil || drifted {
			return nil, err
		}
		_, err := x.commitStep(ctx, closure.StepDeleteDirectory, closure.System.AwaitConfirmation)
		return nil, err
	}
	// Confirmed: check once more, right before the deletions. The
	// confirmation may come days after the final checks, and a disabled
	// kept admin is not plan drift: re-check them too.
	if drifted, err := x.verify(ctx, req); err != nil || drifted {
		return nil, err
	}
	if why, err := x.keepOK(ctx, req.Facts.KeepObjectID); err != nil || why != "" {
		if why != "" {
			return nil, &failure{why: why + "; no app or service principal was deleted after this check"}
		}
		return nil, err
	}
	ok := func(r *closure.Request) bool {
		s := r.StepAt(closure.StepDeleteDirectory)
		return runningAt(closure.StepDeleteDirectory)(r) && s != nil && s.Confirmed
	}
	var refused []string
	sps, err := x.dir.ServicePrincipals(ctx)
	if err != nil {
		return nil, fmt.Errorf("read service principals: %w", err)
	}
	// Tenant-owned Application service principals, then other publishers'
	// enabled ones (third-party multi-tenant, legacy, SAML): they block the
	// tenant's deletion. Each is deleted, or disabled where Graph refuses
	// (Microsoft's "Delete a tenant" how-to).
	disabled := 0
	for _, sp := range sps {
		if !closure.TenantOwnedApplicationSP(sp, req.TenantID, x.tenant.ClientID) && !closure.OtherPublisherSP(sp, req.TenantID, x.tenant.ClientID) {
			continue
		}
		off, why, err := x.removeSP(ctx, ok, sp)
		if err != nil {
			return nil, err
		}
		if off {
			disabled++
		}
		if why != "" {
			refused = append(refused, why)
		}
	}
	apps, err := x.dir.Applications(ctx)
	if err != nil {
		return nil, fmt.Errorf("read applications: %w", err)
	}
	for _, a := range apps {
		if closure.UntouchableApp(a.AppID, x.tenant.ClientID) {
			continue
		}
		obj := closure.DeletedObject{ID: a.ID, Name: a.DisplayName, Kind: closure.KindApplication}
		if err := x.intend(ctx, ok, closure.EvIntentDelApp, obj.Detail()); err != nil {
			return nil, err
		}
		err := x.write(ctx, ok, func(ctx context.Context) error { return x.dir.DeleteApplication(ctx, a.ID) })
		if closure.IsRefused(err) {
			refused = append(refused, "app registration "+a.DisplayName+" ("+apiWords(err)+")")
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("delete application %s: %w", a.ID, err)
		}
		if _, err := x.commitStep(ctx, closure.StepDeleteDirectory, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
			return s.AppRemoved(q, obj)
		}); err != nil {
			return nil, err
		}
	}
	params := map[string]string{
		"keep": x.tenant.Keep, "closebot_app": x.tenant.ClientID, "tenant": x.tenant.Domain + " (" + req.TenantID + ")",
		"confirmations": fmt.Sprint(x.goneConfirmations()), "span": x.r.Gates.GoneSpan.String(),
	}
	params["refused"], params["disabled"] = "none", fmt.Sprint(disabled)
	if len(refused) > 0 {
		params["refused"] = strings.Join(refused, "; ")
	}
	if x.justInTime() {
		// The last write is done: ask for the write access back first.
		return nil, x.askRemoval(ctx, params)
	}
	_, err = x.openGate(ctx, closure.Gate{ID: deleteTenantGate, Step: closure.StepDeleteDirectory, Kind: closure.GateDeleteTenant, Params: params})
	return nil, err
}

func (x *tenantWork) goneConfirmations() int {
	if x.r.Gates.GoneConfirmations > 0 {
		return x.r.Gates.GoneConfirmations
	}
	return 3
}

// finalChecks are the checks before step 5's point of no return: only
// the kept admin is left, still an active permanent Global Administrator,
// and every subscription is Deleted or gone. It returns what fails.
func (x *tenantWork) finalChecks(ctx context.Context, req *closure.Request) (string, error) {
	users, err := x.usersLeft(ctx, req.Facts.KeepObjectID)
	if err != nil {
		return "", err
	}
	if len(users) > 0 {
		return fmt.Sprintf("%d users other than the kept admin exist again (first: %s)", len(users), users[0].UPN), nil
	}
	if why, err := x.keepOK(ctx, req.Facts.KeepObjectID); err != nil || why != "" {
		return why, err
	}
	subs, err := x.subscriptions(ctx)
	if err != nil {
		return "", err
	}
	for _, s := range subs {
		if s.Status != "Deleted" {
			return fmt.Sprintf("subscription %s (%s) is %s, not Deleted", s.SkuPartNumber, s.ID, s.Status), nil
		}
	}
	return "", nil
}

// recheckDeleteTenant is the re-check of step 5's last gate: carry out a
// Purge request, then ask whether the tenant is gone; after
// gone_confirmations answers over gone_span the request is closed.
func (x *tenantWork) recheckDeleteTenant(ctx context.Context, req *closure.Request, g closure.Gate) (bool, error) {
	if req.PurgeRequested != nil {
		if err := x.purge(ctx, req); err != nil {
			return false, err
		}
	}
	gone, err := x.dir.TenantGone(ctx)
	if err != nil {
		return false, fmt.Errorf("ask whether the tenant is gone: %w", err)
	}
	st := req.StepAt(closure.StepDeleteDirectory)
	if !gone && st.GoneCount == 0 {
		return false, nil
	}
	q, err := x.commit(ctx, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
		return s.GoneAnswer(q, gone)
	})
	if err != nil || !gone {
		return false, err
	}
	if q.State == closure.StateStuck {
		// "Tenant not found" is progress: stuck → gate, from where it closes.
		if q, err = x.commit(ctx, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
			return s.GateProgress(q, g.ID, time.Time{}, "tenant not found")
		}); err != nil {
			return false, err
		}
	}
	st = q.StepAt(closure.StepDeleteDirectory)
	if st.GoneCount < x.goneConfirmations() || x.now().Sub(st.GoneSince) < x.r.Gates.GoneSpan {
		return false, nil
	}
	closed, err := x.commit(ctx, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
		return s.Close(q, map[string]string{
			"gone_confirmations": fmt.Sprint(st.GoneCount),
			"gone_since":         st.GoneSince.UTC().Format(time.RFC3339),
		})
	})
	if err != nil {
		return false, err
	}
	if rep := x.r.reporter(); rep != nil {
		evs, err := x.r.store().Events(ctx, x.id)
		if err == nil && len(evs) > 0 {
			x.warn(ctx, "report summary", rep.Summary(ctx, closed, closure.Summarise(closed, evs[len(evs)-1])))
		}
	}
	return true, nil
}

// purge permanently deletes the objects this request deleted (an
// approver's Purge at step 5's gate).
func (x *tenantWork) purge(ctx context.Context, req *closure.Request) error {
	if req.WriteAccessRemoved() {
		// Refused by the decision since; one asked for before the removal
		// was seen cannot be carried out either.
		_, err := x.commit(ctx, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
			return s.Purged(q, nil, "closebot's write access was removed; purge in the Entra admin center → Identity → Users → Deleted users")
		})
		return err
	}
	if req.StepAt(closure.StepDeleteDirectory).GoneCount > 0 {
		_, err := x.commit(ctx, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
			return s.Purged(q, nil, "the tenant is already gone")
		})
		return err
	}
	// The audit log names what to purge, irreversibly: it must verify.
	if err := x.r.checkChain(ctx, x.id); err != nil {
		return err
	}
	evs, err := x.r.store().Events(ctx, x.id)
	if err != nil {
		return fmt.Errorf("read audit of %s: %w", x.id, err)
	}
	var ids []string
	seen := map[string]bool{}
	for _, ev := range evs {
		switch ev.Action {
		case closure.EvDeleteUser, closure.EvDeleteApp, closure.EvDeleteSP:
			id := firstOf(ev.Detail, "id", "user", "app")
			if id != "" && !seen[lower(id)] {
				seen[lower(id)] = true
				ids = append(ids, id)
			}
		}
	}
	var purged []string
	for _, id := range ids {
		if err := x.intend(ctx, gateAt(closure.StepDeleteDirectory), closure.EvIntentPurge, map[string]string{"id": id}); err != nil {
			return err
		}
		if err := x.write(ctx, gateAt(closure.StepDeleteDirectory), func(ctx context.Context) error { return x.dir.PurgeDeleted(ctx, id) }); err != nil && !isNotFound(err) {
			return fmt.Errorf("purge %s: %w", id, err)
		}
		purged = append(purged, id)
	}
	_, err = x.commit(ctx, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
		return s.Purged(q, purged, "")
	})
	return err
}
