package run

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/closebot/closebot/closure"
)

// Step 1 deletes ordinary users at Graph's write quota: a pipeline of
//
//   - a checker that re-checks, before every batch of safetyBatch users,
//     what preflight refuses on (stillSafe; not before the first batch,
//     which the step checked) and only then hands the batch on; it starts
//     each check as late as it can without stalling the writes (when what
//     is left of the batch before lasts about as long as the last check);
//   - a dispatcher that takes the users handed on in groups of about the
//     writes in flight, records a group's intents in one transaction, then
//     starts each deletion when the pacer has a token and a place in
//     flight (Little's law), after the safe point: no new write starts
//     once a pause, an abort or the emergency stop is stored. Intents of
//     a group it stopped before sending are withdrawn (EvIntentUnsent);
//   - a committer that records the answered deletions in one transaction
//     per group (whatever answered since the last commit) and reports the
//     step's progress at most once per progressEvery.
//
// A throttled deletion is retried through the pacer (send). Deleting a
// user is idempotent (gone is done), and a crash between a group's intents
// and its completions is reconciled on resume (recover.go).

// groupLinger is how long the committer gathers answered deletions
// before it records them in one transaction (they are recorded after
// their answers, and a crash meanwhile is reconciled like any other).
const groupLinger = 100 * time.Millisecond

// progressEvery is how often, at most, step 1 reports its progress while
// deleting (Slack coalesces too; the last state always goes out).
const progressEvery = 2 * time.Second

// answered is one deletion's outcome.
type answered struct {
	u   closure.User
	err error
}

// deleteOrdinary deletes users (none holding a role) concurrently; it
// returns those Graph refused (400/403: a gate lists them) and the
// refusal, or the error that stopped it (errStopped when the request
// moved on) once every write in flight is answered and recorded.
func (x *tenantWork) deleteOrdinary(ctx context.Context, req *closure.Request, users []closure.User) ([]closure.User, error, error) {
	if len(users) == 0 {
		return nil, nil, nil
	}
	ok := runningAt(1)
	p := x.pacer()

	var (
		mu       sync.Mutex
		firstErr error
		stopOnce sync.Once
	)
	stop := make(chan struct{})
	// dctx ends the waits of the checker and the dispatcher on a stop;
	// the writes in flight keep ctx, so each one is answered and recorded.
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	halt := func() {
		stopOnce.Do(func() {
			close(stop)
			cancel()
		})
	}
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		halt()
	}

	ready := make(chan closure.User, safetyBatch)
	took := make(chan struct{}, 1) // the dispatcher took a user from ready
	checked := make(chan struct{})
	go func() {
		defer close(checked)
		defer close(ready)
		x.checkAhead(dctx, req, users, ready, took, stop, fail)
	}()

	answers := make(chan answered, 64)
	var refused []closure.User
	var refusedErr error
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		refused, refusedErr = x.commitDeletions(ctx, answers, fail)
	}()

	var inFlight sync.WaitGroup
	var unsent []closure.User
	for {
		group := takeGroup(ready, took, stop, p.Limit())
		if len(group) == 0 {
			break
		}
		details := make([]map[string]string, len(group))
		for j, u := range group {
			details[j] = deletedUser(u).Detail()
		}
		if err := x.intendMany(dctx, ok, closure.EvIntentDelUser, details); err != nil {
			fail(err)
			break
		}
		for i, u := range group {
			w, err := p.Acquire(dctx)
			if err == nil {
				if err = x.safePoint(dctx, ok); err != nil {
					w.Cancel()
				}
			}
			if err != nil {
				fail(err)
				unsent = group[i:]
				break
			}
			inFlight.Add(1)
			go func() {
				defer inFlight.Done()
				err := x.send(ctx, ok, w, func(ctx context.Context) error { return x.dir.DeleteUser(ctx, u.ID) })
				answers <- answered{u: u, err: err}
			}()
		}
		if unsent != nil {
			break
		}
	}
	halt() // the checker stops, if it has not
	inFlight.Wait()
	close(answers)
	<-committed
	<-checked
	x.withdraw(ctx, closure.EvIntentDelUser, unsent)
	mu.Lock()
	defer mu.Unlock()
	if firstErr != nil && ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	return refused, refusedErr, firstErr
}

// takeGroup waits for a first user (nil when ready is closed or on a
// stop) and adds those already waiting, up to n.
func takeGroup(ready <-chan closure.User, took chan<- struct{}, stop <-chan struct{}, n int) []closure.User {
	var group []closure.User
	select {
	case u, more := <-ready:
		if !more {
			return nil
		}
		group = append(group, u)
	case <-stop:
		return nil
	}
	for len(group) < max(n, 1) {
		select {
		case u, more := <-ready:
			if !more {
				return group
			}
			group = append(group, u)
		default:
			select {
			case took <- struct{}{}:
			default:
			}
			return group
		}
	}
	select {
	case took <- struct{}{}:
	default:
	}
	return group
}

// checkAhead hands users on to ready, batch by batch, each batch after
// the safety re-check passed (the first one was checked by the step).
// It starts a check once what is left of the previous batch in ready
// would take the pacer about as long as the last check took.
func (x *tenantWork) checkAhead(ctx context.Context, req *closure.Request, users []closure.User, ready chan<- closure.User, took <-chan struct{}, stop <-chan struct{}, fail func(error)) {
	p := x.pacer()
	lastCheck := 4 * p.Latency() // a guess until the first check is timed
	for i := 0; i < len(users); i += safetyBatch {
		if i > 0 {
			lead := min(safetyBatch, 1+int(p.Rate()*lastCheck.Seconds()*1.5))
			for len(ready) > lead {
				select {
				case <-took:
				case <-stop:
					return
				}
			}
			start := x.now()
			if err := x.stillSafe(ctx, req); err != nil {
				fail(err)
				return
			}
			lastCheck = x.now().Sub(start)
		}
		for _, u := range users[i:min(i+safetyBatch, len(users))] {
			select {
			case ready <- u:
			case <-stop:
				return
			}
		}
	}
}

// withdraw records that the intents of these users' writes were never
// sent (the step stopped first), so neither recovery nor a Restore takes
// them for writes this request may have made. Best effort: without it,
// recovery reads each user and finds it still there.
func (x *tenantWork) withdraw(ctx context.Context, action closure.EventAction, users []closure.User) {
	if len(users) == 0 {
		return
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	_, err := x.r.store().Append(context.WithoutCancel(ctx), closure.Event{Request: x.id, At: x.now(), Actor: closure.SystemActor,
		Action: closure.EvIntentUnsent, Detail: map[string]string{"action": string(action), "ids": strings.Join(ids, ",")}})
	x.warn(ctx, "record unsent intents", err)
}

// commitDeletions records answered deletions as they come, one
// transaction per group, until answers closes; a failed answer other than
// a refusal stops the dispatch (fail).
func (x *tenantWork) commitDeletions(ctx context.Context, answers <-chan answered, fail func(error)) ([]closure.User, error) {
	var refused []closure.User
	var refusedErr error
	var done []closure.DeletedObject
	take := func(a answered) {
		switch {
		case a.err == nil:
			done = append(done, deletedUser(a.u))
		case closure.IsRefused(a.err):
			refused, refusedErr = append(refused, a.u), a.err
		default:
			fail(a.err)
		}
	}
	var last *closure.Request
	lastReport := time.Time{}
	var lastCommit time.Time // wall clock: this paces disk transactions, not the closure
	for a := range answers {
		take(a)
		// Linger until groupLinger after the last commit, taking what
		// answers meanwhile: at most one transaction per groupLinger
		// (plus one per intent group), whatever the write rate.
		timer := time.NewTimer(time.Until(lastCommit.Add(groupLinger)))
	linger:
		for {
			select {
			case b, more := <-answers:
				if !more {
					break linger
				}
				take(b)
			case <-timer.C:
				break linger
			}
		}
		timer.Stop()
		if len(done) == 0 {
			continue
		}
		lastCommit = time.Now()
		batch := done
		done = nil
		req, _, err := x.r.Service.ApplySystemMany(ctx, x.id, func(s closure.System, q *closure.Request) (*closure.Request, []closure.Event, error) {
			return s.UsersRemoved(q, batch)
		})
		if err != nil {
			// The deletions happened; their intents stay without a
			// completion and are reconciled before the next write.
			x.r.logger().WarnContext(ctx, "record deleted users", "request", x.id, "users", len(batch), "err", err)
			if closure.RuleOf(err).MovedOn() {
				err = errStopped
			}
			fail(err)
			continue
		}
		last = req
		if now := x.now(); now.Sub(lastReport) >= progressEvery {
			lastReport = now
			x.reportStep(ctx, req, closure.StepDeleteUsers)
			last = nil
		}
	}
	if last != nil {
		x.reportStep(ctx, last, closure.StepDeleteUsers)
	}
	return refused, refusedErr
}

// deletedUser is how an ordinary user's deletion is recorded.
func deletedUser(u closure.User) closure.DeletedObject {
	return closure.DeletedObject{ID: u.ID, Name: u.UPN, Kind: string(closure.KindOf(u, false))}
}

// reportStep tells the Reporter a step's progress.
func (x *tenantWork) reportStep(ctx context.Context, req *closure.Request, step int) {
	if rep := x.r.reporter(); rep != nil {
		if st := req.StepAt(step); st != nil {
			x.warn(ctx, "report step", rep.StepProgress(ctx, req, *st))
		}
	}
}
