package run

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/closebot/closebot/closure"
)

// tenantWork is one request's work against its tenant's directory (workOn
// builds it).
type tenantWork struct {
	r      *Runner
	id     string
	tenant closure.TenantPolicy
	dir    closure.Directory
}

func (r *Runner) workOn(req *closure.Request) (*tenantWork, error) {
	t, ok := r.Service.Policy.Tenant(req.TenantID)
	if !ok {
		return nil, &failure{why: "tenant " + req.TenantID + " is no longer configured"}
	}
	dir, err := r.Dirs(t.ID)
	if err != nil {
		return nil, fmt.Errorf("directory for %s: %w", t.ID, err)
	}
	return &tenantWork{r: r, id: req.ID, tenant: t, dir: dir}, nil
}

func (x *tenantWork) now() time.Time { return x.r.now() }

// commit applies a system decision and reports it (Service reports the
// request change; steps and gates are reported here). Only a refusal
// because the request moved on becomes errStopped; any other is a bug in
// the decision and stays an error (see Runner.commitErr).
func (x *tenantWork) commit(ctx context.Context, f func(closure.System, *closure.Request) (*closure.Request, closure.Event, error)) (*closure.Request, error) {
	req, _, err := x.r.Service.ApplySystem(ctx, x.id, f)
	if closure.RuleOf(err).MovedOn() {
		return nil, fmt.Errorf("%w: %v", errStopped, err)
	}
	return req, err
}

// commitStep commits and reports the step's progress.
func (x *tenantWork) commitStep(ctx context.Context, step int, f func(closure.System, *closure.Request) (*closure.Request, closure.Event, error)) (*closure.Request, error) {
	req, err := x.commit(ctx, f)
	if err == nil {
		if rep := x.r.reporter(); rep != nil {
			if st := req.StepAt(step); st != nil {
				x.warn(ctx, "report step", rep.StepProgress(ctx, req, *st))
			}
		}
	}
	return req, err
}

func (x *tenantWork) warn(ctx context.Context, what string, err error) {
	if err != nil {
		x.r.logger().WarnContext(ctx, what, "request", x.id, "err", err)
	}
}

// openGate opens a gate (a fresh id if base was used before) and reports it.
func (x *tenantWork) openGate(ctx context.Context, g closure.Gate) (*closure.Request, error) {
	g.Assignee = x.tenant.KeepSlackUser
	if g.Instructions == "" {
		g.Instructions = string(g.Kind)
	}
	req, err := x.commit(ctx, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
		g.ID = nextGateID(q, g.ID)
		return s.OpenGate(q, g)
	})
	if err == nil {
		if rep := x.r.reporter(); rep != nil {
			got, _ := req.Gate(g.ID)
			x.warn(ctx, "report gate", rep.GateOpened(ctx, req, got))
		}
	}
	return req, err
}

// nextGateID returns base, or base.N when a gate already used it.
func nextGateID(req *closure.Request, base string) string {
	id := base
	for n := 2; ; n++ {
		if _, used := req.Gate(id); !used {
			return id
		}
		id = base + "." + strconv.Itoa(n)
	}
}

// gateChanged reports a gate's update.
func (x *tenantWork) gateChanged(ctx context.Context, req *closure.Request, gateID string) {
	if rep := x.r.reporter(); rep != nil && req != nil {
		if g, ok := req.Gate(gateID); ok {
			x.warn(ctx, "report gate", rep.GateUpdated(ctx, req, g))
		}
	}
}

// openGateOf returns the open gates of a kind.
func openGatesOf(req *closure.Request, kinds ...closure.GateKind) []closure.Gate {
	var out []closure.Gate
	for _, g := range req.Gates {
		if g.IsOpen() {
			for _, k := range kinds {
				if g.Kind == k {
					out = append(out, g)
				}
			}
		}
	}
	return out
}

func hasGateOf(req *closure.Request, kind closure.GateKind) bool {
	for _, g := range req.Gates {
		if g.Kind == kind {
			return true
		}
	}
	return false
}

// intend is the safe point before a Graph write: it re-reads the stored
// request (a pause or an abort stops here) and records the intended write.
func (x *tenantWork) intend(ctx context.Context, ok func(*closure.Request) bool, action closure.EventAction, detail map[string]string) error {
	return x.intendMany(ctx, ok, action, []map[string]string{detail})
}

// intendMany records the intents of a batch of writes in one transaction
// (group commit), after the same safe point, before any of them is sent.
func (x *tenantWork) intendMany(ctx context.Context, ok func(*closure.Request) bool, action closure.EventAction, details []map[string]string) error {
	if err := x.safePoint(ctx, ok); err != nil {
		return err
	}
	evs := make([]closure.Event, len(details))
	for i, d := range details {
		evs[i] = closure.Event{Request: x.id, At: x.now(), Actor: closure.SystemActor, Action: action, Detail: d}
	}
	if _, err := x.r.store().AppendMany(ctx, evs); err != nil {
		return fmt.Errorf("record %s: %w", action, err)
	}
	return nil
}

// runningAt is the safe-point condition of an automated step.
func runningAt(step int) func(*closure.Request) bool {
	return func(r *closure.Request) bool { return r.State == closure.StateRunning && r.Step == step }
}

// gateAt is the safe-point condition of a re-check that retries a write.
func gateAt(step int) func(*closure.Request) bool {
	return func(r *closure.Request) bool {
		return (r.State == closure.StateGate || r.State == closure.StateStuck) && r.Step == step
	}
}

// keepOK re-checks the kept admin before a privileged deletion: still
// there, enabled, active permanent direct Global Administrator. It
// returns why not, or "".
func (x *tenantWork) keepOK(ctx context.Context, keepID string) (string, error) {
	// The user and the role reads are independent: read them together.
	type rolesAnswer struct {
		rv  closure.RoleView
		err error
	}
	roles := make(chan rolesAnswer, 1)
	go func() {
		rv, err := ReadRoles(ctx, x.dir)
		roles <- rolesAnswer{rv, err}
	}()
	u, err := x.dir.User(ctx, keepID)
	ra := <-roles
	if ae, ok := closure.AsAPIError(err); ok && ae.Status == 404 {
		return "the kept admin " + keepID + " no longer exists", nil
	}
	if err != nil {
		return "", fmt.Errorf("re-check the kept admin: %w", err)
	}
	if !u.Enabled {
		return "the kept admin " + u.UPN + " is disabled", nil
	}
	if ra.err != nil {
		return "", fmt.Errorf("re-check the kept admin's role: %w", ra.err)
	}
	for _, a := range ra.rv.Active {
		if closure.PermanentGlobalAdmin(a, keepID) {
			return "", nil
		}
	}
	return "the kept admin " + u.UPN + " no longer holds an active permanent Global Administrator assignment", nil
}

// verify reads the plan again and sends the request back to pending when
// it drifted (DESIGN §3, §8).
func (x *tenantWork) verify(ctx context.Context, req *closure.Request) (bool, error) {
	if _, ok := req.Gate("5.delete_tenant"); ok {
		// Only the kept admin's tenant deletion and the gone check remain;
		// the tenant may already be unreadable.
		return false, nil
	}
	gone, err := x.deletedUserIDs(ctx)
	if err != nil {
		return false, err
	}
	p, items, err := readPlan(ctx, x.dir, x.tenant, x.now(), gone)
	if err != nil {
		return false, fmt.Errorf("read the plan again: %w", err)
	}
	fresh := p.Facts()
	// Every preflight item is checked again on the fresh read (a hold
	// placed since, a kept admin renamed, disabled or without MFA): any
	// failure stops the request like drift does.
	d := (closure.System{Policy: x.r.Service.Policy, Now: x.now()}).Verify(req, fresh).WithPreflight(items)
	if !d.Drifted() {
		return false, nil
	}
	summary := p.Summary()
	_, err = x.commit(ctx, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
		return s.Repend(q, fresh, &summary, s.Verify(q, fresh).WithPreflight(items))
	})
	return true, err
}

// usersExceptKeep lists the directory's users other than the kept admin.
func (x *tenantWork) usersExceptKeep(ctx context.Context, keepID string) ([]closure.User, error) {
	var out []closure.User
	err := x.dir.Users(ctx, func(u closure.User) error {
		if !equalFold(u.ID, keepID) {
			out = append(out, u)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// roleHolders are the principals holding any directory role, active or eligible.
func (x *tenantWork) roleHolders(ctx context.Context) (map[string]bool, error) {
	rv, err := ReadRoles(ctx, x.dir)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, a := range append(rv.Active, rv.Eligible...) {
		out[lower(a.PrincipalID)] = true
	}
	return out, nil
}

func isNotFound(err error) bool {
	ae, ok := closure.AsAPIError(err)
	return ok && ae.Status == 404
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// note records a step's counters and result line when they changed.
func (x *tenantWork) note(ctx context.Context, req *closure.Request, step, total int, note string) error {
	if st := req.StepAt(step); st != nil && st.Total == total && st.Note == note {
		return nil
	}
	_, err := x.commitStep(ctx, step, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
		return s.StepNote(q, step, total, note)
	})
	return err
}
