package run

import (
	"context"
	"fmt"
	"strings"

	"github.com/closebot/closebot/closure"
)

// mfaOn reports whether a per-user MFA state counts as on: everything but
// disabled, so a state Graph adds later (unknownFutureValue, its evolvable
// enum's sentinel) is turned off like enabled, or lands at the gate when
// Graph refuses, instead of being taken for off.
func mfaOn(state string) bool { return state != "disabled" }

// stepMFA is step 4 (DESIGN §4): no account other than the kept admin may
// keep per-user MFA enforced or enabled; closebot disables it (after step
// 1 none should remain) and asks for the legacy-provider attestation. It
// never touches security defaults, conditional access or the kept admin.
func (x *tenantWork) stepMFA(ctx context.Context, req *closure.Request) (*Wait, error) {
	if req.Facts.KeepObjectID == "" {
		return nil, &failure{why: "the approved plan names no kept admin; closebot changes no MFA setting without one"}
	}
	users, err := x.usersExceptKeep(ctx, req.Facts.KeepObjectID)
	if err != nil {
		return nil, err
	}
	atGate := map[string]bool{}
	for _, g := range openGatesOf(req, closure.GatePerUserMFA) {
		for _, id := range splitList(g.Params["ids"]) {
			atGate[lower(id)] = true
		}
	}
	var refused []closure.User
	var cause error
	for _, u := range users {
		if atGate[lower(u.ID)] {
			continue
		}
		state, err := x.dir.PerUserMFA(ctx, u.ID)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read per-user MFA of %s: %w", u.UPN, err)
		}
		if !mfaOn(state) {
			continue
		}
		err = x.disableMFA(ctx, runningAt(closure.StepDisableMFA), u, state)
		if closure.IsRefused(err) {
			refused, cause = append(refused, u), err
			continue
		}
		if err != nil {
			return nil, err
		}
	}
	// The attestation's gate opens once the automated part is done (its
	// opening makes the request wait in state gate).
	if !hasGateOf(req, closure.GateLegacyMFA) {
		if _, err := x.openGate(ctx, closure.Gate{ID: "4.legacy_mfa", Step: closure.StepDisableMFA, Kind: closure.GateLegacyMFA, Attest: []string{closure.SentenceNoLegacyMFA}}); err != nil {
			return nil, err
		}
	}
	if len(refused) > 0 {
		p := userParams(refused)
		p["error"] = apiWords(cause)
		_, err := x.openGate(ctx, closure.Gate{ID: "4.per_user_mfa", Step: closure.StepDisableMFA, Kind: closure.GatePerUserMFA, Params: p})
		return nil, err
	}
	return x.finishGatedStep(ctx, closure.StepDisableMFA, func() (bool, string) {
		return true, "no account other than the kept admin has per-user MFA; no legacy MFA provider (attested)"
	})
}

// disableMFA sets a user's per-user MFA to disabled at a safe point,
// recording the previous state.
func (x *tenantWork) disableMFA(ctx context.Context, ok func(*closure.Request) bool, u closure.User, previous string) error {
	if err := x.intend(ctx, ok, closure.EvIntentMFA, map[string]string{"id": u.ID, "name": u.UPN, "previous": previous}); err != nil {
		return err
	}
	if err := x.write(ctx, ok, func(ctx context.Context) error { return x.dir.SetPerUserMFA(ctx, u.ID, "disabled") }); err != nil {
		return err
	}
	_, err := x.commitStep(ctx, closure.StepDisableMFA, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
		return s.MFADisabled(q, u.ID, u.UPN, previous)
	})
	return err
}

// recheckMFAGate satisfies the per-user MFA gate once every listed user
// has it off (or is gone).
func (x *tenantWork) recheckMFAGate(ctx context.Context, g closure.Gate) (bool, error) {
	var left []string
	for _, id := range splitList(g.Params["ids"]) {
		state, err := x.dir.PerUserMFA(ctx, id)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("read per-user MFA of %s: %w", id, err)
		}
		if mfaOn(state) {
			left = append(left, id)
		}
	}
	if len(left) > 0 {
		if strings.Join(left, ",") == g.Params["ids"] {
			return false, nil
		}
		q, err := x.commit(ctx, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
			return s.GateUpdate(q, g.ID, g.ETA, map[string]string{"ids": strings.Join(left, ","), "count": fmt.Sprint(len(left))}, fmt.Sprintf("%d users left", len(left)))
		})
		x.gateChanged(ctx, q, g.ID)
		return false, err
	}
	q, err := x.commit(ctx, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
		return s.SatisfyGate(q, g.ID)
	})
	x.gateChanged(ctx, q, g.ID)
	return true, err
}
