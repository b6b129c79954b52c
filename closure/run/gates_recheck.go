package run

import (
	"context"
	"fmt"

	"github.com/closebot/closebot/closure"
)

// recheckGates re-checks every open gate of the request (its own checks
// and attestations) and reports whether the request's state changed.
func (x *tenantWork) recheckGates(ctx context.Context, req *closure.Request) (bool, error) {
	var subs []closure.CompanySubscription
	var org *closure.Organization
	before := req.State
	for _, g := range req.Gates {
		if !g.IsOpen() {
			continue
		}
		// Read the request again: an earlier gate may have changed it.
		cur, err := x.r.store().Get(ctx, x.id)
		if err != nil {
			return false, err
		}
		if cur.State != closure.StateRunning && cur.State != closure.StateGate && cur.State != closure.StateStuck {
			return true, nil
		}
		changed := false
		switch g.Kind {
		case closure.GateSyncOff:
			if org == nil {
				o, err := x.dir.Organization(ctx)
				if err != nil {
					return false, fmt.Errorf("read organization: %w", err)
				}
				org = &o
			}
			if !org.SyncEnabled {
				changed, err = x.satisfy(ctx, g.ID)
			}
		case closure.GateRestrictedAdminUnit, closure.GateUserRefused:
			changed, err = x.recheckUserGate(ctx, cur, g)
		case closure.GateSubscriptionDirect, closure.GateSubscriptionCSP, closure.GateSubscriptionMCA, closure.GateSelfService, closure.GateDeleteSubscriptions:
			if subs == nil {
				if subs, err = x.subscriptions(ctx); err != nil {
					return false, err
				}
				if subs == nil {
					subs = []closure.CompanySubscription{}
				}
			}
			changed, err = x.recheckSubscriptionGate(ctx, g, subs)
		case closure.GateAzure, closure.GateLegacyMFA:
			if len(cur.MissingAttestations(g.ID)) == 0 {
				changed, err = x.satisfy(ctx, g.ID)
			}
		case closure.GatePerUserMFA:
			changed, err = x.recheckMFAGate(ctx, g)
		case closure.GateDeleteTenant:
			changed, err = x.recheckDeleteTenant(ctx, cur, g)
		case closure.GateGrantWriteAccess:
			changed, err = x.recheckGrantGate(ctx, g)
		case closure.GateRemoveWriteAccess:
			changed, err = x.recheckRemoveGate(ctx, cur, g)
		}
		if err != nil {
			return false, err
		}
		_ = changed
	}
	after, err := x.r.store().Get(ctx, x.id)
	if err != nil {
		return false, err
	}
	return after.State != before, nil
}

func (x *tenantWork) satisfy(ctx context.Context, gateID string) (bool, error) {
	q, err := x.commit(ctx, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
		return s.SatisfyGate(q, gateID)
	})
	x.gateChanged(ctx, q, gateID)
	return true, err
}
