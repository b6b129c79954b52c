// Package run is the executor of closure requests: the Runner performs
// the Graph reads and writes of each step through closure.Directory and
// commits every outcome as a decision of the pure core (closure.System,
// closure.Service). The core never imports run; it reaches the executor
// through the bot, which holds both.
package run

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/pace"
)

// Runner executes closure requests from their stored state.
//
// The bot and the Service use these entry points:
//
//   - Run(ctx, id) executes one request until it needs a person to move it
//     (pending, paused, failed, aborted, or ended) and returns; it waits by
//     itself for the abort window, gates, confirmations and the tenant's
//     deletion. Call it in a goroutine whenever a request becomes runnable
//     (approved, resumed, retried, restore asked); a second Run of the same
//     request only wakes the first. Wake(id) does that for the Service
//     (closure.Waker) once ResumeAll has given it a context.
//   - Poke(id) wakes a waiting Run at once: call it after an attestation,
//     a Re-check click, a step-5 confirmation or a Purge.
//   - ResumeAll(ctx) at start-up starts Run for every open request, after
//     a crash too: every step resumes from the stored request, and every
//     Graph write is first recorded as intended in the audit log (or is
//     idempotent), so nothing is repeated or skipped.
//
// Plan(ctx, tenant) is the read-only `plan` command. Advance(ctx, id) does
// the work Run loops over (tests drive it directly with a fake clock).
//
// Safety: the stored request is re-read before each Graph write (a pause
// or an abort stops the next write); the plan is read again and compared
// (drift → back to pending) right before step 1, on every (re)start of
// Run, and before step 5's point of no return.
type Runner struct {
	Service *closure.Service // Store, Clock, Policy and Reporter come from here
	// Dirs returns the Directory of a configured tenant.
	Dirs  func(tenantID string) (closure.Directory, error)
	Gates closure.GateConfig
	Log   *slog.Logger
	// After returns a channel that fires after d (nil: time.After); tests
	// inject one that advances their clock.
	After func(d time.Duration) <-chan time.Time
	// Pacing configures the write pacer (closure/pace): quotas, scale, in
	// flight bounds. The zero value paces at Microsoft's documented
	// limits; Now and After default to the Service's clock and After.
	Pacing pace.Settings

	halted atomic.Bool // the emergency stop: no Graph call while set

	mu       sync.Mutex
	running  map[string]chan struct{} // request → poke channel of its Run
	verified map[string]bool          // request → drift checked since this Run (re)started
	checked  map[string]time.Time     // request → last gate re-check
	wg       sync.WaitGroup
	base     context.Context // ResumeAll's: the Runs Wake starts run under it
	pacer    *pace.Registry  // pacing.go: built from Pacing on first use
}

// Wait says why Advance stopped and when it wants to run again.
type Wait struct {
	// Stop: nothing to do until a person moves the request (or it ended).
	Stop bool
	// Until: run again at this time (zero with !Stop: when poked).
	Until  time.Time
	Reason string
}

// errStopped unwinds a step when the stored request moved on (paused,
// aborted, re-pended): the loop re-reads it.
var errStopped = errors.New("request moved on")

// failure is a step that cannot go on without a person (Retry).
type failure struct{ why string }

func (f *failure) Error() string { return f.why }

func (r *Runner) store() closure.Store       { return r.Service.Store }
func (r *Runner) now() time.Time             { return r.Service.Clock.Now() }
func (r *Runner) reporter() closure.Reporter { return r.Service.Reporter }

func (r *Runner) logger() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

func (r *Runner) recheckEvery() time.Duration {
	if r.Gates.RecheckEvery > 0 {
		return r.Gates.RecheckEvery
	}
	return 10 * time.Minute
}

// Plan runs preflight for a configured tenant (id or initial domain) and
// returns its plan: read-only, no request.
func (r *Runner) Plan(ctx context.Context, tenant string) (*closure.Plan, error) {
	t, ok := r.Service.Policy.Tenant(tenant)
	if !ok {
		return nil, deny(closure.RuleUnknownTenant, closure.ActPlan, "", "")
	}
	dir, err := r.Dirs(t.ID)
	if err != nil {
		return nil, fmt.Errorf("directory for %s: %w", t.ID, err)
	}
	return Preflight(ctx, dir, t, r.now())
}

// ResumeAll starts Run for every open request (at start-up). Wait waits
// for the Runs it started.
func (r *Runner) ResumeAll(ctx context.Context) ([]string, error) {
	r.mu.Lock()
	r.base = ctx
	r.mu.Unlock()
	open, err := r.store().List(ctx, true, 0)
	if err != nil {
		return nil, fmt.Errorf("list open requests: %w", err)
	}
	var started []string
	for _, req := range open {
		switch req.State {
		case closure.StatePending, closure.StatePaused, closure.StateFailed:
			continue // a person moves these
		}
		id := req.ID
		started = append(started, id)
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			if err := r.Run(ctx, id); err != nil && ctx.Err() == nil {
				r.logger().ErrorContext(ctx, "run request", "request", id, "err", err)
			}
		}()
	}
	return started, nil
}

// Wake starts Run for a request that became runnable (approved, resumed,
// retried, restore asked), under ResumeAll's context; a Run already there
// is woken instead. Before ResumeAll, or once its context ended, it does
// nothing. It is closure.Waker's Wake: the Service calls it after such a
// decision.
func (r *Runner) Wake(id string) {
	r.mu.Lock()
	ctx := r.base
	r.mu.Unlock()
	if ctx == nil || ctx.Err() != nil {
		return
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := r.Run(ctx, id); err != nil && ctx.Err() == nil {
			r.logger().ErrorContext(ctx, "run request", "request", id, "err", err)
		}
	}()
}

// WaitRuns waits for the Runs ResumeAll and Wake started (a method, unlike
// the Wait type, which says why a Run paused).
func (r *Runner) WaitRuns() { r.wg.Wait() }

// Halt sets or lifts the emergency stop (the stop file, DESIGN §3): while
// set, no request makes any Graph call or write, whatever its state
// (restores and gate re-checks included); the Runs wait and go on when it
// is lifted.
func (r *Runner) Halt(on bool) {
	if r.halted.Swap(on) && !on {
		r.mu.Lock()
		for _, ch := range r.running {
			pokeLocked(ch)
		}
		r.mu.Unlock()
	}
}

// Halted reports whether the emergency stop is set.
func (r *Runner) Halted() bool { return r.halted.Load() }

// Poke wakes the Run of a request, if one waits.
func (r *Runner) Poke(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.checked, id)
	if ch := r.running[id]; ch != nil {
		pokeLocked(ch)
	}
}

// Run executes a request until a person must move it; see Runner.
func (r *Runner) Run(ctx context.Context, id string) error {
	// Wake calls Run after a Resume or re-approval: when a Run is
	// already there, claim wakes it and has it check the plan again.
	poke, ok := r.claim(id)
	if !ok {
		return nil
	}
	released := false
	defer func() {
		if !released {
			r.release(id)
		}
	}()
	for {
		w, err := r.Advance(ctx, id)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, closure.ErrNotFound) {
			return err
		}
		if errors.Is(err, closure.ErrTampered) {
			// DESIGN §7: a chain that does not verify stops all work on
			// the request, and says so; no retry.
			r.chainBroken(ctx, id, err)
			return err
		}
		if err != nil {
			// Graph or the store failed for a reason a retry may cure.
			r.logger().WarnContext(ctx, "advance request", "request", id, "err", err)
			w = Wait{Until: r.now().Add(r.recheckEvery()), Reason: "retry after an error"}
		}
		if w.Stop {
			// A Run call that came while this one was stopping (a Resume
			// right after the pause was seen) left a poke: go round again
			// instead of leaving the request with no Run.
			if released = r.releaseUnlessPoked(id, poke); released {
				return nil
			}
			continue
		}
		var timer <-chan time.Time
		if !w.Until.IsZero() {
			timer = r.after(w.Until.Sub(r.now()))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-poke:
		case <-timer:
		}
	}
}

// chainBroken says that a request's audit data does not verify: in the
// log, and in the request's channel.
func (r *Runner) chainBroken(ctx context.Context, id string, err error) {
	r.logger().ErrorContext(ctx, "audit chain does not verify: work on this request stops", "request", id, "err", err)
	a := r.reporter()
	if a == nil {
		return // no reporter configured (Service.Reporter is optional)
	}
	req, gerr := r.store().Get(ctx, id)
	if gerr != nil {
		return // the record itself is bad: the start-up verification names it
	}
	text := fmt.Sprintf("The audit data of %s does not verify (%v). closebot stops all work on %s; run `closebot audit verify` and investigate.", id, err, id)
	if aerr := a.Announce(ctx, req.Channel, text); aerr != nil {
		r.logger().WarnContext(ctx, "announce broken audit chain", "request", id, "err", aerr)
	}
}

// checkChain verifies the request's audit chain (DESIGN §7: before every
// resume, and before an irreversible purge).
func (r *Runner) checkChain(ctx context.Context, id string) error {
	if err := r.store().VerifyChain(ctx, id); err != nil {
		return fmt.Errorf("verify the audit chain of %s: %w", id, err)
	}
	return nil
}

func (r *Runner) after(d time.Duration) <-chan time.Time {
	if d < 0 {
		d = 0
	}
	if r.After != nil {
		return r.After(d)
	}
	return time.After(d)
}

func (r *Runner) claim(id string) (chan struct{}, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running == nil {
		r.running = map[string]chan struct{}{}
	}
	// Every Run is a resume: check the chain and the plan again before
	// the next write.
	r.setVerifiedLocked(id, false)
	if ch, busy := r.running[id]; busy {
		pokeLocked(ch)
		return nil, false
	}
	ch := make(chan struct{}, 1)
	r.running[id] = ch
	return ch, true
}

// releaseUnlessPoked ends a Run's claim, unless a poke came meanwhile.
// Pokes are sent under r.mu, so none can fall between the check and the
// release.
func (r *Runner) releaseUnlessPoked(id string, poke chan struct{}) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-poke:
		return false
	default:
	}
	delete(r.running, id)
	return true
}

func (r *Runner) release(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.running, id)
}

func pokeLocked(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (r *Runner) isVerified(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.verified[id]
}

func (r *Runner) setVerified(id string, v bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.setVerifiedLocked(id, v)
}

func (r *Runner) setVerifiedLocked(id string, v bool) {
	if r.verified == nil {
		r.verified = map[string]bool{}
	}
	r.verified[id] = v
}

// recheckDue reports whether a running request's open gates are due for
// a re-check, and notes that one happens now.
func (r *Runner) recheckDue(id string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.checked == nil {
		r.checked = map[string]time.Time{}
	}
	last, ok := r.checked[id]
	if ok && now.Before(last.Add(r.recheckEvery())) {
		return false
	}
	r.checked[id] = now
	return true
}

// maxRounds bounds one Advance: each round commits something or stops.
const maxRounds = 64

// Advance does all the work a request allows now and says what it waits
// for. It is safe to call at any time; Run loops over it.
func (r *Runner) Advance(ctx context.Context, id string) (w Wait, err error) {
	defer func() {
		if err != nil {
			// A write whose record failed (the store, a cancelled
			// context) is reconciled, and the plan checked again, before
			// the next write.
			r.setVerified(id, false)
		}
	}()
	rechecked, chainChecked := false, false
	for range maxRounds {
		if err := ctx.Err(); err != nil {
			return Wait{}, err
		}
		if r.Halted() {
			return Wait{Until: r.now().Add(r.recheckEvery()), Reason: "emergency stop"}, nil
		}
		if !chainChecked && !r.isVerified(id) {
			// A resume (or the first round after one): DESIGN §7.
			if err := r.checkChain(ctx, id); err != nil {
				return Wait{}, err
			}
			// A stable message: the SIGKILL tests check every restart
			// verified the chain before resuming.
			r.logger().InfoContext(ctx, "resume: audit chain verified", "request", id)
			chainChecked = true
		}
		req, err := r.store().Get(ctx, id)
		if err != nil {
			return Wait{}, fmt.Errorf("read %s: %w", id, err)
		}
		switch req.State {
		case closure.StateApproved:
			err = r.commitErr(ctx, id, closure.System.StartProof)
		case closure.StateProving:
			err = r.prove(ctx, req)
		case closure.StateWaitingWindow:
			if r.now().Before(req.WindowEndsAt) {
				return Wait{Until: req.WindowEndsAt, Reason: "abort window"}, nil
			}
			err = r.commitErr(ctx, id, closure.System.StartSteps)
			// The approval's drift check is repeated right before step 1.
			r.setVerified(id, false)
		case closure.StateRunning, closure.StateGate, closure.StateStuck:
			var w *Wait
			w, err = r.advanceSteps(ctx, req, &rechecked)
			if err == nil && w != nil {
				return *w, nil
			}
		case closure.StateAborted:
			if req.RestoreRequested == nil {
				return Wait{Stop: true, Reason: "aborted"}, nil
			}
			err = r.restore(ctx, req)
		default: // pending, paused, failed, and the ends
			r.setVerified(id, false)
			return Wait{Stop: true, Reason: string(req.State)}, nil
		}
		if err = r.settleError(ctx, id, err); err != nil {
			return Wait{}, err
		}
	}
	return Wait{Until: r.now().Add(r.recheckEvery()), Reason: "busy"}, nil
}

// settleError turns a step's error into the request's next state: the
// request moved on → nil (re-read); a failure → failed; anything else is
// returned for a retry.
func (r *Runner) settleError(ctx context.Context, id string, err error) error {
	var f *failure
	switch {
	case err == nil, errors.Is(err, errStopped):
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.As(err, &f):
	default:
		ae, ok := closure.AsAPIError(err)
		if !ok || ae.Status >= 500 || ae.Status == 429 || ae.Status == 401 {
			return err
		}
		f = &failure{why: err.Error()}
	}
	_, _, cerr := r.Service.ApplySystem(ctx, id, func(s closure.System, req *closure.Request) (*closure.Request, closure.Event, error) {
		return s.Fail(req, f.why)
	})
	if closure.RuleOf(cerr) != "" {
		// Not running any more (gate, paused...): the re-check retries.
		r.logger().WarnContext(ctx, "step failure while not running", "request", id, "why", f.why)
		return err
	}
	return cerr
}

// advanceSteps runs, re-checks or waits a request in running, gate or stuck.
func (r *Runner) advanceSteps(ctx context.Context, req *closure.Request, rechecked *bool) (*Wait, error) {
	x, err := r.workOn(req)
	if err != nil {
		return nil, err
	}
	if !r.isVerified(req.ID) {
		if err := x.reconcile(ctx); err != nil {
			return nil, err
		}
		// What reconcile recorded counts as done in the drift check.
		id := req.ID
		if req, err = r.store().Get(ctx, id); err != nil {
			return nil, fmt.Errorf("read %s: %w", id, err)
		}
		// A stuck request's gate re-checks still write (retried
		// deletions, purge): it is verified like the others.
		if drifted, err := x.verify(ctx, req); err != nil || drifted {
			return nil, err
		}
		r.logger().InfoContext(ctx, "resume: plan read again, no drift", "request", req.ID, "step", req.Step)
		r.setVerified(req.ID, true)
		return nil, nil
	}
	if req.State == closure.StateRunning && req.Step <= closure.StepDeleteSubscriptions {
		if opened, err := x.ensureBillingGates(ctx, req); err != nil || opened {
			return nil, err
		}
	}
	now := r.now()
	if !*rechecked && (req.State != closure.StateRunning || r.recheckDue(req.ID, now)) {
		*rechecked = true
		changed, err := x.recheckGates(ctx, req)
		if err != nil || changed {
			return nil, err
		}
		req, err = r.store().Get(ctx, req.ID)
		if err != nil {
			return nil, err
		}
	}
	if req.State == closure.StateRunning && len(req.BlockingGates()) > 0 {
		// Back at a step whose gate is still open (a re-approval, a
		// resume): the request waits at that gate instead of running the
		// step's writes again.
		_, err := x.commit(ctx, closure.System.Settle)
		return nil, err
	}
	switch req.State {
	case closure.StateGate:
		if req.StuckDue(r.now(), r.Service.Policy.StuckAfter) {
			_, err := x.commit(ctx, closure.System.MarkStuck)
			return nil, err
		}
		return &Wait{Until: r.now().Add(r.recheckEvery()), Reason: "gate"}, nil
	case closure.StateStuck:
		return &Wait{Until: r.now().Add(r.recheckEvery()), Reason: "stuck"}, nil
	}
	// write_access just_in_time: no write before closebot's app holds its
	// write grants (closure/run/grants.go).
	if committed, err := x.ensureWriteAccess(ctx, req); err != nil || committed {
		return nil, err
	}
	switch req.Step {
	case closure.StepDeleteUsers:
		return x.stepUsers(ctx, req)
	case closure.StepCancelSubscriptions:
		return x.stepCancel(ctx, req)
	case closure.StepDeleteSubscriptions:
		return x.stepDeleteSubscriptions(ctx, req)
	case closure.StepDisableMFA:
		return x.stepMFA(ctx, req)
	case closure.StepDeleteDirectory:
		return x.stepDirectory(ctx, req)
	}
	return nil, &failure{why: fmt.Sprintf("unknown step %d", req.Step)}
}

// commitErr applies a system decision; a refusal because the request
// moved on becomes errStopped (the loop re-reads it). Any other refusal
// is a bug in closebot's own decision and stays an error: it is logged
// and retried, never taken for progress.
func (r *Runner) commitErr(ctx context.Context, id string, f func(closure.System, *closure.Request) (*closure.Request, closure.Event, error)) error {
	_, _, err := r.Service.ApplySystem(ctx, id, f)
	if closure.RuleOf(err).MovedOn() {
		return fmt.Errorf("%w: %v", errStopped, err)
	}
	return err
}

// prove runs the kept admin's sign-in proof (DESIGN §2.4).
func (r *Runner) prove(ctx context.Context, req *closure.Request) error {
	x, err := r.workOn(req)
	if err != nil {
		return err
	}
	rep := r.reporter()
	if rep == nil {
		return errors.New("no reporter to deliver the sign-in code")
	}
	proof, err := x.dir.ProveSignIn(ctx, func(dc closure.DeviceCode) error {
		return rep.SignInCode(ctx, req, x.tenant.KeepSlackUser, dc.Message)
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	why := ""
	switch {
	case err != nil:
		why = "the sign-in did not complete: " + err.Error()
	case !equalFold(proof.ObjectID, req.Facts.KeepObjectID):
		why = fmt.Sprintf("the sign-in was by object id %s, not the kept admin %s", proof.ObjectID, req.Facts.KeepObjectID)
	case proof.TenantID != "" && !equalFold(proof.TenantID, req.TenantID):
		why = "the sign-in was in another tenant (" + proof.TenantID + ")"
	case !proof.HasMFA():
		why = "the sign-in did not use multi-factor authentication (amr has no mfa)"
	}
	if why != "" {
		return r.commitErr(ctx, req.ID, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
			return s.ProofFailed(q, why)
		})
	}
	return r.commitErr(ctx, req.ID, closure.System.ProofPassed)
}
