package run

import (
	"context"
	"fmt"

	"github.com/closebot/closebot/closure"
)

// PrepareApproval reads the tenant again for a request back for approval
// after it started (a drift check or a failed preflight item interrupted
// it), before an approver sees the approval modal. A preflight item that
// still fails refuses with a *PreflightError naming what to fix; a plan
// that changed since the re-pend starts a new round on the fresh read
// (System.Replan), so the approver confirms the tenant as it is now, and
// the modal's typed checks use the current numbers. It returns the request
// to approve.
func (r *Runner) PrepareApproval(ctx context.Context, id string) (*closure.Request, error) {
	req, err := r.store().Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", id, err)
	}
	if req.State != closure.StatePending || req.Interrupted == nil {
		return req, nil
	}
	x, err := r.workOn(req)
	if err != nil {
		return nil, err
	}
	gone, err := x.deletedUserIDs(ctx)
	if err != nil {
		return nil, err
	}
	p, items, err := readPlan(ctx, x.dir, x.tenant, r.now(), gone)
	if err != nil {
		return nil, fmt.Errorf("read the plan again: %w", err)
	}
	if len(items) > 0 {
		return nil, &closure.PreflightError{TenantID: req.TenantID, Items: items}
	}
	fresh := p.Facts()
	summary := p.Summary()
	if fresh.Digest() == req.PlanDigest && summary.SameApproval(req.Plan) {
		return req, nil
	}
	got, _, err := r.Service.ApplySystem(ctx, id, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
		return s.Replan(q, fresh, &summary)
	})
	return got, err
}
