package run

import (
	"context"
	"fmt"
	"strings"

	"github.com/closebot/closebot/closure"
)

// Write access only during a closure (write_access: just_in_time): closebot's
// app reads at rest; before step 1's first write the kept admin grants the
// write permissions and directory role (a gate that re-checks a token issued
// now), and after step 5's last write they remove them (a gate that checks
// the removal the same way) before the tenant deletion's gate opens: once
// the tenant is gone Graph cannot show the removal, and the deletion can
// wait days with the credential holding only read access meanwhile.

// writeGrants are the grants a just-in-time tenant is asked for.
func (x *tenantWork) writeGrants() []closure.WriteGrant { return x.r.Service.Policy.WriteGrants }

// justInTime reports whether this tenant's write access is granted per
// closure (and there is something to grant).
func (x *tenantWork) justInTime() bool {
	return x.tenant.JustInTime() && len(x.writeGrants()) > 0
}

// grantState reads what closebot's app holds now: the roles claim of a
// token issued now, and the directory roles its service principal holds.
func (x *tenantWork) grantState(ctx context.Context) (roles []string, hasRole func(string) bool, err error) {
	roles, err = x.dir.GrantedPermissions(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("read closebot's granted permissions: %w", err)
	}
	held := map[string]bool{}
	needRole := false
	for _, g := range x.writeGrants() {
		needRole = needRole || g.IsRole()
	}
	if needRole {
		sps, err := x.dir.ServicePrincipals(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("read service principals: %w", err)
		}
		self := map[string]bool{}
		for _, sp := range sps {
			if strings.EqualFold(sp.AppID, x.tenant.ClientID) {
				self[strings.ToLower(sp.ID)] = true
			}
		}
		ras, err := x.dir.RoleAssignments(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("read role assignments: %w", err)
		}
		for _, a := range ras {
			if self[strings.ToLower(a.PrincipalID)] && (a.DirectoryScopeID == "" || a.DirectoryScopeID == "/") {
				held[strings.ToLower(a.RoleDefinitionID)] = true
			}
		}
	}
	return roles, func(id string) bool { return held[strings.ToLower(id)] }, nil
}

// ensureWriteAccess runs before step 1's first write in just-in-time mode.
// It reports whether it committed something (the loop then re-reads the
// request): the grants verified, or a gate asking for the missing ones.
func (x *tenantWork) ensureWriteAccess(ctx context.Context, req *closure.Request) (bool, error) {
	if !x.justInTime() || req.Step != closure.StepDeleteUsers || !req.WriteGrantedAt.IsZero() {
		return false, nil
	}
	if x.tenant.ClientID == "" {
		return false, &failure{why: "tenants[].client_id is not configured: closebot cannot check its own app's write access"}
	}
	roles, hasRole, err := x.grantState(ctx)
	if err != nil {
		return false, err
	}
	all := x.writeGrants()
	missing := closure.MissingGrants(all, roles, hasRole)
	if len(missing) == 0 {
		names := make([]string, len(all))
		for i, g := range all {
			names[i] = g.Name
		}
		_, err := x.commit(ctx, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
			return s.WriteGranted(q, names)
		})
		return true, err
	}
	_, err = x.openGate(ctx, closure.Gate{ID: closure.GrantWriteGatePrefix, Step: closure.StepDeleteUsers,
		Kind: closure.GateGrantWriteAccess, Params: closure.WriteGrantParams(x.tenant, all, missing, false)})
	return true, err
}

// recheckGrantGate re-checks a grant gate: satisfied when nothing is
// missing; otherwise, when what is missing changed, the gate says so.
func (x *tenantWork) recheckGrantGate(ctx context.Context, g closure.Gate) (bool, error) {
	roles, hasRole, err := x.grantState(ctx)
	if err != nil {
		return false, err
	}
	all := x.writeGrants()
	missing := closure.MissingGrants(all, roles, hasRole)
	if len(missing) == 0 {
		// The grant may come days after the window's drift check: the
		// plan is compared again before the first write.
		x.r.setVerified(x.id, false)
		return x.satisfy(ctx, g.ID)
	}
	params := closure.WriteGrantParams(x.tenant, all, missing, false)
	if params["missing"] == g.Params["missing"] {
		return false, nil
	}
	q, err := x.commit(ctx, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
		return s.GateUpdate(q, g.ID, g.ETA, params, "still missing: "+params["missing"])
	})
	x.gateChanged(ctx, q, g.ID)
	return false, err
}

// askRemoval opens the removal gate after step 5's last write; params are
// the tenant deletion gate's, which it carries until the removal is seen.
func (x *tenantWork) askRemoval(ctx context.Context, params map[string]string) error {
	roles, hasRole, err := x.grantState(ctx)
	if err != nil {
		return err
	}
	all := x.writeGrants()
	held := closure.HeldGrants(all, roles, hasRole)
	p := closure.WriteGrantParams(x.tenant, all, held, true)
	for k, v := range params {
		p["delete."+k] = v
	}
	_, err = x.openGate(ctx, closure.Gate{ID: closure.RemoveWriteGateID, Step: closure.StepDeleteDirectory,
		Kind: closure.GateRemoveWriteAccess, Params: p})
	return err
}

// deleteParams are the tenant deletion gate's params a removal gate
// carried.
func deleteParams(g closure.Gate) map[string]string {
	out := map[string]string{}
	for k, v := range g.Params {
		if rest, ok := strings.CutPrefix(k, "delete."); ok {
			out[rest] = v
		}
	}
	return out
}

// recheckRemoveGate re-checks the removal gate: a Purge asked for first
// (closebot can still write), then satisfied when closebot's app holds none
// of the write grants any more.
func (x *tenantWork) recheckRemoveGate(ctx context.Context, req *closure.Request, g closure.Gate) (bool, error) {
	if req.PurgeRequested != nil {
		if err := x.purge(ctx, req); err != nil {
			return false, err
		}
	}
	roles, hasRole, err := x.grantState(ctx)
	if err != nil {
		return false, err
	}
	all := x.writeGrants()
	held := closure.HeldGrants(all, roles, hasRole)
	if len(held) == 0 {
		return x.satisfy(ctx, g.ID)
	}
	params := closure.WriteGrantParams(x.tenant, all, held, true)
	if params["held"] == g.Params["held"] {
		return false, nil
	}
	q, err := x.commit(ctx, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
		return s.GateUpdate(q, g.ID, g.ETA, params, "still held: "+params["held"])
	})
	x.gateChanged(ctx, q, g.ID)
	return false, err
}
