package run

import (
	"context"
	"fmt"
	"time"

	"github.com/closebot/closebot/closure"
)

// Preflight reads the tenant (read-only) and builds its plan, or refuses
// with a *PreflightError listing every failed item of DESIGN §5.
func Preflight(ctx context.Context, dir closure.Directory, tenant closure.TenantPolicy, now time.Time) (*closure.Plan, error) {
	p, items, err := readPlan(ctx, dir, tenant, now, nil)
	if err != nil {
		return nil, err
	}
	if len(items) > 0 {
		return nil, &closure.PreflightError{TenantID: tenant.ID, Items: items}
	}
	return p, nil
}

// readPlan reads everything the plan shows and lists the failed preflight
// items; the runner's drift check uses the plan even when items fail (a
// kept admin who lost their role is drift). gone names users this request
// deleted: a listing that still shows them lags behind (Entra replicates
// deletions with a delay), so they are left out.
func readPlan(ctx context.Context, dir closure.Directory, tenant closure.TenantPolicy, now time.Time, gone map[string]bool) (*closure.Plan, []closure.PreflightItem, error) {
	in, err := ReadTenant(ctx, dir, tenant, gone)
	if err != nil {
		return nil, nil, err
	}
	p, items := closure.BuildPlan(tenant, in, now)
	return p, items, nil
}

// ReadTenant reads everything closure.BuildPlan needs (read-only). gone names
// users this request deleted: a listing that still shows them lags
// behind (Entra replicates deletions with a delay), so they are left out.
func ReadTenant(ctx context.Context, dir closure.Directory, tenant closure.TenantPolicy, gone map[string]bool) (closure.TenantRead, error) {
	var in closure.TenantRead
	org, err := dir.Organization(ctx)
	if err != nil {
		return in, fmt.Errorf("read organization: %w", err)
	}
	in.Organization = org
	if in.Domains, err = dir.Domains(ctx); err != nil {
		return in, fmt.Errorf("read domains: %w", err)
	}
	if err := dir.Users(ctx, func(u closure.User) error {
		if !gone[lower(u.ID)] {
			in.Users = append(in.Users, u)
		}
		return nil
	}); err != nil {
		return in, fmt.Errorf("read users: %w", err)
	}
	if in.Roles, err = ReadRoles(ctx, dir); err != nil {
		return in, err
	}
	if in.Units, err = dir.AdministrativeUnits(ctx); err != nil {
		return in, fmt.Errorf("read administrative units: %w", err)
	}
	if in.Subscriptions, err = dir.Subscriptions(ctx); err != nil {
		return in, fmt.Errorf("read subscriptions: %w", err)
	}
	// Display-only reads (DESIGN §5): a licence the tenant lacks makes them
	// "not available on this tenant" in the plan; no step depends on them.
	optional := func(what, needs string, err error) error {
		if closure.IsUnlicensed(err) {
			in.Unavailable = append(in.Unavailable, what+" (needs "+needs+")")
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", what, err)
		}
		return nil
	}
	secDefaults, err := dir.SecurityDefaultsEnabled(ctx)
	if err := optional("security defaults", "a licence this tenant lacks", err); err != nil {
		return in, err
	}
	in.SecurityDefaults = secDefaults
	cas, err := dir.ConditionalAccessPolicies(ctx)
	if err := optional("conditional access", "Microsoft Entra ID P1", err); err != nil {
		return in, err
	}
	in.CAPolicies = cas
	counts, err := dir.Counts(ctx)
	if err := optional("device and group counts", "a licence this tenant lacks", err); err != nil {
		return in, err
	}
	in.Counts = counts
	holds, err := dir.LegalHolds(ctx)
	if holdsUnreadable(err) {
		in.Unavailable = append(in.Unavailable, "eDiscovery holds (need eDiscovery Premium; the approver attests to holds Graph cannot show)")
	} else if err != nil {
		return in, fmt.Errorf("read legal holds: %w", err)
	}
	in.Holds = holds
	if in.Apps, err = dir.Applications(ctx); err != nil {
		return in, fmt.Errorf("read applications: %w", err)
	}
	if in.SPs, err = dir.ServicePrincipals(ctx); err != nil {
		return in, fmt.Errorf("read service principals: %w", err)
	}
	if keep := in.KeepUser(tenant); keep != nil {
		methods, err := dir.AuthenticationMethods(ctx, keep.ID)
		if err != nil {
			return in, fmt.Errorf("read the kept admin's authentication methods: %w", err)
		}
		if methods == nil {
			methods = []string{}
		}
		in.KeepMethods = methods
	}
	return in, nil
}

// holdsUnreadable: the tenant cannot show eDiscovery holds to closebot (no
// eDiscovery Premium: a licence refusal, or a 403 that is not a missing
// permission). A missing permission is a failure that names it.
func holdsUnreadable(err error) bool {
	if err == nil {
		return false
	}
	if closure.IsUnlicensed(err) {
		return true
	}
	ae, ok := closure.AsAPIError(err)
	return ok && ae.Status == 403 && !closure.IsPermissionDenied(err)
}

// ReadRoles reads the role assignments (DESIGN §5: /roleAssignments on
// every licence, PIM only when it answers; the two cases are told apart by
// the licence error, anything else is a failure). The three reads go in
// parallel: step 1 re-checks the kept admin's role before every batch of
// deletions, and at high latency three round trips in a row would stall
// the writes.
func ReadRoles(ctx context.Context, dir closure.Directory) (closure.RoleView, error) {
	type answer struct {
		as  []closure.RoleAssignment
		err error
	}
	read := func(f func(context.Context) ([]closure.RoleAssignment, error)) <-chan answer {
		ch := make(chan answer, 1)
		go func() {
			as, err := f(ctx)
			ch <- answer{as, err}
		}()
		return ch
	}
	schedCh, eligibleCh := read(dir.ActiveSchedules), read(dir.EligibleAssignments)
	active, err := dir.RoleAssignments(ctx)
	schedA, eligibleA := <-schedCh, <-eligibleCh
	if err != nil {
		return closure.RoleView{}, fmt.Errorf("read role assignments: %w", err)
	}
	v := closure.RoleView{Active: active}
	sched, err := schedA.as, schedA.err
	switch {
	case closure.IsUnlicensed(err):
		return v, nil
	case err != nil:
		return closure.RoleView{}, fmt.Errorf("read role assignment schedules: %w", err)
	}
	eligible, err := eligibleA.as, eligibleA.err
	switch {
	case closure.IsUnlicensed(err):
		// Licence lost between the two reads: treat as no PIM.
		return v, nil
	case err != nil:
		return closure.RoleView{}, fmt.Errorf("read role eligibility: %w", err)
	}
	v.PIM, v.Eligible = true, eligible
	v.Active = closure.OverlaySchedules(active, sched)
	return v, nil
}
