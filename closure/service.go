package closure

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// maxAttempts bounds the compare-and-set retries of one decision; each
// retry follows a real change by someone else, so a few suffice.
const maxAttempts = 16

// Service offers the use cases of the people who close tenants (open a
// request, see one, the pre-check before a form, every decision) and
// applies decisions through the Store: read, decide, compare-and-set; on
// ErrConflict it reads again and decides again, so racing clicks resolve
// to one outcome and the loser gets the rule that now applies. The rules
// themselves (who may act, staleness, which approvals count) are the
// Decider's; the I/O it needs goes through ports (Store, Planner, Waker,
// Reporter). The Slack adapter (package bot) calls nothing else.
type Service struct {
	Store    Store
	Clock    Clock
	Policy   *Policy
	Reporter Reporter // optional: told about every committed change
	// Planner reads tenants for OpenTenant, PlanFor and PrepareApproval
	// (the executor, run.Runner, implements it); optional otherwise.
	Planner Planner
	// Waker wakes the executor after a person's decision (run.Runner
	// implements it); optional.
	Waker Waker
	Log   *slog.Logger
}

func (s *Service) wake(id string) {
	if s.Waker != nil {
		s.Waker.Wake(id)
	}
}

func (s *Service) poke(id string) {
	if s.Waker != nil {
		s.Waker.Poke(id)
	}
}

// poked is a decision's result, after which the executor is poked.
func (s *Service) poked(req *Request, ev Event, err error) (*Request, Event, error) {
	if err == nil {
		s.poke(req.ID)
	}
	return req, ev, err
}

// woken is a decision's result, after which the executor runs the request.
func (s *Service) woken(req *Request, ev Event, err error) (*Request, Event, error) {
	if err == nil {
		s.wake(req.ID)
	}
	return req, ev, err
}

// Decide is a decision on the request as read now.
type Decide func(req *Request, now time.Time) (*Request, Event, error)

// Apply runs decide against the stored request with compare-and-set and
// returns the committed request and event.
func (s *Service) Apply(ctx context.Context, id string, decide Decide) (*Request, Event, error) {
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, Event{}, err
		}
		cur, err := s.Store.Get(ctx, id)
		if err != nil {
			return nil, Event{}, fmt.Errorf("read %s: %w", id, err)
		}
		next, ev, err := decide(cur, s.Clock.Now())
		if err != nil {
			return nil, Event{}, err
		}
		if !CanTransition(cur.State, next.State) {
			// A decision broke the state machine: a bug, never committed.
			return nil, Event{}, fmt.Errorf("decision %q: illegal transition %s → %s", ev.Action, cur.State, next.State)
		}
		next.ID, ev.Request = cur.ID, cur.ID
		if next.State != cur.State {
			next.StateSince = cur.Version + 1
		}
		got, gev, err := s.Store.Update(ctx, cur.Expect(), next, ev)
		if errors.Is(err, ErrConflict) && attempt < maxAttempts {
			continue
		}
		if err != nil {
			return nil, Event{}, fmt.Errorf("update %s: %w", id, err)
		}
		s.report(ctx, got, gev)
		return got, gev, nil
	}
}

func (s *Service) report(ctx context.Context, req *Request, ev Event) {
	if s.Reporter == nil {
		return
	}
	if err := s.Reporter.RequestChanged(ctx, req, ev); err != nil {
		s.logger().WarnContext(ctx, "report request change", "request", req.ID, "seq", ev.Seq, "err", err)
	}
}

func (s *Service) logger() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func (s *Service) decider(a Actor, now time.Time) Decider {
	return Decider{Policy: s.Policy, Actor: a, Now: now}
}

func (s *Service) system(now time.Time) System { return System{Policy: s.Policy, Now: now} }

// Open decides and creates a request; ErrTenantLocked if the tenant
// already has an open one.
func (s *Service) Open(ctx context.Context, a Actor, in OpenInput) (*Request, Event, error) {
	req, ev, err := s.decider(a, s.Clock.Now()).Open(in)
	if err != nil {
		return nil, Event{}, err
	}
	got, gev, err := s.Store.Create(ctx, req, ev)
	if err != nil {
		return nil, Event{}, fmt.Errorf("create request: %w", err)
	}
	s.report(ctx, got, gev)
	return got, gev, nil
}

// OpenCommand is /close-tenant's request to open: the tenant (configured
// id or initial domain), the reason and the channel it was typed in.
type OpenCommand struct {
	Tenant  string
	Reason  string
	Channel string
}

// OpenTenant is the "open a request" use case: authorise the actor for the
// tenant (before any Graph read), refuse a tenant an open request holds
// (ErrTenantLocked naming it), read the plan through the Planner, and open
// the request with its facts. reading, if set, is called once the checks
// pass, before the read (the adapter says a read is under way). It returns
// the request and the plan read.
func (s *Service) OpenTenant(ctx context.Context, a Actor, in OpenCommand, reading func()) (*Request, *Plan, error) {
	tenantID := in.Tenant
	if t, ok := s.Policy.Tenant(in.Tenant); ok {
		tenantID = t.ID
	}
	if _, err := s.decider(a, s.Clock.Now()).Can(ActOpen, nil, tenantID); err != nil {
		return nil, nil, err // no Graph reads for someone who may not open
	}
	if held, err := s.LockHolder(ctx, tenantID); err != nil {
		return nil, nil, err
	} else if held != "" {
		return nil, nil, fmt.Errorf("%w (%s)", ErrTenantLocked, held)
	}
	if reading != nil {
		reading()
	}
	plan, err := s.planner().Plan(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	summary := plan.Summary()
	req, _, err := s.Open(ctx, a, OpenInput{
		Tenant: tenantID, Reason: in.Reason, Channel: in.Channel, Facts: plan.Facts(), Plan: &summary,
	})
	if err != nil {
		return nil, nil, err
	}
	return req, plan, nil
}

// LockHolder names the open request holding a tenant, if any.
func (s *Service) LockHolder(ctx context.Context, tenantID string) (string, error) {
	open, err := s.Store.List(ctx, true, 0)
	if err != nil {
		return "", fmt.Errorf("list open requests: %w", err)
	}
	for _, r := range open {
		if strings.EqualFold(r.TenantID, tenantID) && r.State.HoldsLock() {
			return r.ID, nil
		}
	}
	return "", nil
}

// PlanFor shows a tenant's plan to a requester: authorised, read-only, no
// request.
func (s *Service) PlanFor(ctx context.Context, a Actor, tenantID string) (*Plan, error) {
	if _, err := s.decider(a, s.Clock.Now()).Can(ActPlan, nil, tenantID); err != nil {
		return nil, err
	}
	return s.planner().Plan(ctx, tenantID)
}

// PrepareApproval reads the tenant again for a request sent back for
// approval (see Planner) and returns the request to approve.
func (s *Service) PrepareApproval(ctx context.Context, id string) (*Request, error) {
	return s.planner().PrepareApproval(ctx, id)
}

func (s *Service) planner() Planner {
	if s.Planner == nil {
		return noPlanner{}
	}
	return s.Planner
}

type noPlanner struct{}

func (noPlanner) Plan(context.Context, string) (*Plan, error) {
	return nil, errors.New("closure: Service has no Planner")
}

func (noPlanner) PrepareApproval(context.Context, string) (*Request, error) {
	return nil, errors.New("closure: Service has no Planner")
}

// Lookup reads a request so the adapter can check an inbound click or form
// against it (its channel, its messages, the version drawn) before it
// knows the actor; it authorises nothing and shows nothing to anyone.
func (s *Service) Lookup(ctx context.Context, id string) (*Request, error) {
	req, err := s.Store.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", id, err)
	}
	return req, nil
}

// Check is the pre-check before a person's form opens for act on req (a
// button drawn at version seen): see Decider.Check.
func (s *Service) Check(a Actor, act Action, req *Request, seen uint64) error {
	return s.decider(a, s.Clock.Now()).Check(act, req, seen)
}

// Get returns a request for `status` (requester role).
func (s *Service) Get(ctx context.Context, a Actor, id string) (*Request, error) {
	req, err := s.Store.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", id, err)
	}
	if _, err := s.decider(a, s.Clock.Now()).Can(ActStatus, req, ""); err != nil {
		return nil, err
	}
	return req, nil
}

// List returns requests for `list` (requester role).
func (s *Service) List(ctx context.Context, a Actor, open bool, limit int) ([]*Request, error) {
	if _, err := s.decider(a, s.Clock.Now()).Can(ActList, nil, ""); err != nil {
		return nil, err
	}
	return s.Store.List(ctx, open, limit)
}

// Approve counts an approval submitted through the modal.
func (s *Service) Approve(ctx context.Context, a Actor, id string, in ApproveInput) (*Request, Event, error) {
	got, ev, err := s.Apply(ctx, id, func(r *Request, now time.Time) (*Request, Event, error) {
		return s.decider(a, now).Approve(r, in)
	})
	if err == nil && (got.State == StateApproved || got.State == StateRunning) {
		s.wake(got.ID)
	}
	return got, ev, err
}

// Reject ends a pending request with the approver's reason, if the reject
// modal was drawn at the current round and plan.
func (s *Service) Reject(ctx context.Context, a Actor, id string, in RejectInput) (*Request, Event, error) {
	return s.Apply(ctx, id, func(r *Request, now time.Time) (*Request, Event, error) {
		return s.decider(a, now).Reject(r, in)
	})
}

// Cancel ends a pending request.
func (s *Service) Cancel(ctx context.Context, a Actor, id string) (*Request, Event, error) {
	return s.Apply(ctx, id, func(r *Request, now time.Time) (*Request, Event, error) {
		return s.decider(a, now).Cancel(r)
	})
}

// Pause pauses a request at the next safe point.
func (s *Service) Pause(ctx context.Context, a Actor, id string) (*Request, Event, error) {
	return s.poked(s.Apply(ctx, id, func(r *Request, now time.Time) (*Request, Event, error) {
		return s.decider(a, now).Pause(r)
	}))
}

// Resume returns a paused request to where it was.
func (s *Service) Resume(ctx context.Context, a Actor, id string, seen uint64) (*Request, Event, error) {
	return s.woken(s.Apply(ctx, id, func(r *Request, now time.Time) (*Request, Event, error) {
		return s.decider(a, now).Resume(r, seen)
	}))
}

// Abort aborts a request.
func (s *Service) Abort(ctx context.Context, a Actor, id string) (*Request, Event, error) {
	return s.poked(s.Apply(ctx, id, func(r *Request, now time.Time) (*Request, Event, error) {
		return s.decider(a, now).Abort(r)
	}))
}

// Retry runs a failed step again.
func (s *Service) Retry(ctx context.Context, a Actor, id string, seen uint64) (*Request, Event, error) {
	return s.woken(s.Apply(ctx, id, func(r *Request, now time.Time) (*Request, Event, error) {
		return s.decider(a, now).Retry(r, seen)
	}))
}

// Confirm counts a step-5 point-of-no-return approval.
func (s *Service) Confirm(ctx context.Context, a Actor, id string, version uint64) (*Request, Event, error) {
	return s.poked(s.Apply(ctx, id, func(r *Request, now time.Time) (*Request, Event, error) {
		return s.decider(a, now).Confirm(r, version)
	}))
}

// Purge asks for the deleted objects to be purged at step 5's gate.
func (s *Service) Purge(ctx context.Context, a Actor, id string, seen uint64) (*Request, Event, error) {
	return s.poked(s.Apply(ctx, id, func(r *Request, now time.Time) (*Request, Event, error) {
		return s.decider(a, now).Purge(r, seen)
	}))
}

// Restore asks for this aborted request's deleted users to be restored.
func (s *Service) Restore(ctx context.Context, a Actor, id string, seen uint64) (*Request, Event, error) {
	return s.woken(s.Apply(ctx, id, func(r *Request, now time.Time) (*Request, Event, error) {
		return s.decider(a, now).Restore(r, seen)
	}))
}

// Attest records an attestation of a gate's sentence.
func (s *Service) Attest(ctx context.Context, a Actor, id, gateID, sentence string) (*Request, Event, error) {
	return s.poked(s.Apply(ctx, id, func(r *Request, now time.Time) (*Request, Event, error) {
		return s.decider(a, now).Attest(r, gateID, sentence)
	}))
}

// Recheck authorises and records a person's Re-check of a gate; the
// runner performs the check.
func (s *Service) Recheck(ctx context.Context, a Actor, id, gateID string) (Event, error) {
	req, err := s.Store.Get(ctx, id)
	if err != nil {
		return Event{}, fmt.Errorf("read %s: %w", id, err)
	}
	ev, err := s.decider(a, s.Clock.Now()).Recheck(req, gateID)
	if err != nil {
		return Event{}, err
	}
	got, err := s.Store.Append(ctx, ev)
	if err != nil {
		return Event{}, fmt.Errorf("append %s: %w", id, err)
	}
	s.poke(id) // the runner performs the check
	return got, nil
}

// ApplySystem applies one of closebot's own decisions (a System method) with
// compare-and-set; the name keeps it apart from the System type it applies.
func (s *Service) ApplySystem(ctx context.Context, id string, f func(sys System, req *Request) (*Request, Event, error)) (*Request, Event, error) {
	return s.Apply(ctx, id, func(r *Request, now time.Time) (*Request, Event, error) {
		return f(s.system(now), r)
	})
}

// ExpireDue moves every pending request past its expiry to expired and
// returns those it moved.
func (s *Service) ExpireDue(ctx context.Context) ([]*Request, error) {
	open, err := s.Store.List(ctx, true, 0)
	if err != nil {
		return nil, fmt.Errorf("list open requests: %w", err)
	}
	var out []*Request
	var errs []error
	for _, r := range open {
		if !r.ExpiryDue(s.Clock.Now()) {
			continue
		}
		got, _, err := s.ApplySystem(ctx, r.ID, System.Expire)
		if RuleOf(err).MovedOn() {
			continue // moved on meanwhile (approved, cancelled...)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, got)
	}
	return out, errors.Join(errs...)
}

// MarkStuckDue moves every request whose gate is overdue to stuck.
func (s *Service) MarkStuckDue(ctx context.Context) ([]*Request, error) {
	open, err := s.Store.List(ctx, true, 0)
	if err != nil {
		return nil, fmt.Errorf("list open requests: %w", err)
	}
	var out []*Request
	var errs []error
	for _, r := range open {
		if !r.StuckDue(s.Clock.Now(), s.Policy.StuckAfter) {
			continue
		}
		got, _, err := s.ApplySystem(ctx, r.ID, System.MarkStuck)
		if RuleOf(err).MovedOn() {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, got)
	}
	return out, errors.Join(errs...)
}

// PauseAll pauses every open request that can be paused, for the stop file
// or SIGUSR1 (DESIGN §3: when Slack itself is unavailable). The runner stops
// at its next safe point, since it re-reads the request before each write.
// It returns the requests it paused.
func (s *Service) PauseAll(ctx context.Context, why string) ([]string, error) {
	open, err := s.Store.List(ctx, true, 0)
	if err != nil {
		return nil, fmt.Errorf("list open requests: %w", err)
	}
	var paused []string
	var errs []error
	for _, r := range open {
		if !r.State.Pausable() {
			continue
		}
		_, _, err := s.ApplySystem(ctx, r.ID, func(sys System, req *Request) (*Request, Event, error) {
			return sys.Pause(req, why)
		})
		var d *Denied
		switch {
		case err == nil:
			paused = append(paused, r.ID)
		case errors.As(err, &d):
			// It moved on meanwhile (paused, aborted, closed): nothing to stop.
		default:
			errs = append(errs, fmt.Errorf("pause %s: %w", r.ID, err))
		}
	}
	return paused, errors.Join(errs...)
}
