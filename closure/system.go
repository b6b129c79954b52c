package closure

import (
	"slices"
	"strconv"
	"time"
)

// System makes the bot's own decisions (the runner's transitions): pure
// functions of the request, the policy and the time, like Decider's.
// Their events name SystemActor.
type System struct {
	Policy *Policy
	Now    time.Time
}

// FactConfig is the Change.Fact of a changed authorisation config.
const FactConfig = "config"

// Verify is the check before each point of no return and on every
// resume: the drift of a fresh read against the approved plan minus what
// the request did, plus a change of the authorisation config.
func (s System) Verify(req *Request, fresh PlanFacts) Drift {
	d := CheckDrift(req.Facts, fresh, req.Done, s.Policy.DriftPercent)
	if cfg := s.Policy.ConfigDigest(req.TenantID); cfg != req.ConfigDigest {
		d.Changes = append(d.Changes, Change{Fact: FactConfig, Was: short(req.ConfigDigest), Now: short(cfg)})
	}
	return d
}

func short(digest string) string {
	if len(digest) > 12 {
		return digest[:12]
	}
	return digest
}

// StartProof: approved → proving (the kept admin's sign-in proof is sent).
func (s System) StartProof(req *Request) (*Request, Event, error) {
	return s.move(req, EvProofStart, []State{StateApproved}, StateProving, nil)
}

// ProofPassed: proving → waiting_window; the abort window starts now.
func (s System) ProofPassed(req *Request) (*Request, Event, error) {
	next, ev, err := s.move(req, EvProofPassed, []State{StateProving}, StateWaitingWindow, nil)
	if err == nil {
		next.WindowEndsAt = s.Now.Add(s.Policy.AbortWindow)
		next.ProofError = ""
		next.ProvenKeep = req.Facts.KeepObjectID
		ev.Detail = map[string]string{"window_ends_at": next.WindowEndsAt.UTC().Format(time.RFC3339),
			"kept_admin": req.Facts.KeepObjectID}
	}
	return next, ev, err
}

// ProofFailed: proving → pending; the request needs approving again.
func (s System) ProofFailed(req *Request, why string) (*Request, Event, error) {
	next, ev, err := s.move(req, EvProofFailed, []State{StateProving}, StatePending, map[string]string{"why": why})
	if err == nil {
		s.repend(req, next)
		next.ProofError = why
	}
	return next, ev, err
}

// StartSteps: waiting_window → running at step 1, once the window is over;
// after a re-approval that needed a new proof (the kept admin changed), at
// the interrupted step, and paused if the request had been paused. The
// runner's drift check right before the next write follows.
func (s System) StartSteps(req *Request) (*Request, Event, error) {
	if req.State == StateWaitingWindow && s.Now.Before(req.WindowEndsAt) {
		return nil, Event{}, deny(RuleWindowOpen, "", req.State, "")
	}
	to, step := StateRunning, StepDeleteUsers
	if in := req.Interrupted; in != nil {
		step = max(in.Step, StepDeleteUsers)
		if in.State == StatePaused {
			to = StatePaused
		}
	}
	next, ev, err := s.move(req, EvStepsStart, []State{StateWaitingWindow}, to, map[string]string{"step": strconv.Itoa(step)})
	if err == nil {
		next.Step = step
		if st := next.StepAt(step); st.Status != StepDone {
			st.Status = StepRunning
			if st.StartedAt.IsZero() {
				st.StartedAt = s.Now
			}
		}
		if to == StatePaused {
			next.PausedFrom = orState(req.Interrupted.PausedFrom, StateRunning)
		}
		next.Interrupted = nil
	}
	return next, ev, err
}

func orState(s, def State) State {
	if s == "" {
		return def
	}
	return s
}

// Repend: running | gate | stuck | paused → pending when Verify found drift
// or a preflight item fails on the fresh read. The fresh read becomes the
// plan to approve (summary is what the card and the modal show of it); the
// re-approval returns to the interrupted step without window or expiry,
// and without a new proof only while the kept admin is the one who proved.
func (s System) Repend(req *Request, fresh PlanFacts, summary *PlanSummary, d Drift) (*Request, Event, error) {
	lines := d.Lines()
	next, ev, err := s.move(req, EvDrift, []State{StateRunning, StateGate, StateStuck, StatePaused}, StatePending, nil)
	if err != nil {
		return nil, Event{}, err
	}
	in := &Interruption{State: req.State, Step: max(req.Step, StepDeleteUsers), At: s.Now}
	if req.State == StatePaused {
		in.PausedFrom = req.PausedFrom
	}
	next.Interrupted = in
	if summary != nil {
		next.Plan = summary
	}
	if fresh.KeepObjectID == "" || !equalFold(fresh.KeepObjectID, req.ProvenKeep) {
		// Another kept admin, or none: whoever it is must prove a sign-in
		// before closebot writes again.
		next.ProvenKeep = ""
	}
	next.Facts = fresh.Clone()
	next.PlanDigest = fresh.Digest()
	next.ConfigDigest = s.Policy.ConfigDigest(req.TenantID)
	next.Done = Done{}
	next.PausedFrom = ""
	if st := next.StepAt(StepDeleteDirectory); st != nil {
		// A confirmation given for the old plan never counts for the new one.
		st.AwaitingConfirmation, st.Confirmed = false, false
	}
	next.Confirmations = nil
	s.repend(req, next)
	next.DriftLines = lines
	ev.Detail = map[string]string{"old_plan_digest": req.PlanDigest, "new_plan_digest": next.PlanDigest}
	for i, l := range lines {
		ev.Detail["change."+strconv.Itoa(i+1)] = l
	}
	return next, ev, nil
}

// repend clears the approvals of the round that ended.
func (s System) repend(cur, next *Request) {
	next.Approvals = nil
	next.PendingSince = cur.Version
}

// Expire: pending → expired once expires_after has passed since creation;
// a request re-pended by drift does not expire.
func (s System) Expire(req *Request) (*Request, Event, error) {
	if req.State == StatePending && (req.Interrupted != nil || s.Now.Before(req.ExpiresAt)) {
		return nil, Event{}, deny(RuleNotDue, "", req.State, "not due to expire")
	}
	return s.move(req, EvExpire, []State{StatePending}, StateExpired, nil)
}

// ExpiryDue reports whether Expire would act now.
func (r *Request) ExpiryDue(now time.Time) bool {
	return r.State == StatePending && r.Interrupted == nil && !now.Before(r.ExpiresAt)
}

// SyncTurnedOff records that this request turned directory sync off;
// previous is the value it replaced (for the audit log).
func (s System) SyncTurnedOff(req *Request, previous string) (*Request, Event, error) {
	// Recorded in any state the write can have raced with (a pause or an
	// abort clicked while the call was in flight): what was done is recorded.
	next, ev, err := s.move(req, EvSyncOff, recordable, req.State, map[string]string{"previous": previous})
	if err == nil {
		next.Done.SyncOff = true
	}
	return next, ev, err
}

// OpenGate adds a manual gate. A gate of the current step makes a running
// request wait in state gate; gates of later steps (billing) just open.
func (s System) OpenGate(req *Request, g Gate) (*Request, Event, error) {
	if g.ID == "" || g.Step < 1 || g.Step > NumSteps {
		return nil, Event{}, deny(RuleBadInput, "", req.State, "a gate needs an id and a step")
	}
	if _, dup := req.Gate(g.ID); dup {
		return nil, Event{}, deny(RuleBadInput, "", req.State, "gate "+g.ID+" is already open")
	}
	to := req.State
	if req.State == StateRunning && g.Step == req.Step {
		to = StateGate
	}
	next, ev, err := s.move(req, EvGateOpen, []State{StateRunning, StateGate, StateStuck}, to,
		map[string]string{"gate": g.ID, "kind": string(g.Kind), "step": strconv.Itoa(g.Step)})
	if err != nil {
		return nil, Event{}, err
	}
	if g.OpenedAt.IsZero() {
		g.OpenedAt = s.Now
	}
	g.SatisfiedAt = time.Time{}
	g.Params = cloneMap(g.Params)
	g.Attest = slices.Clone(g.Attest)
	next.Gates = append(next.Gates, g)
	if g.Kind == GateSyncOff {
		// The gate asks a human to turn sync off: not drift when they do.
		next.Done.SyncOff = true
	}
	if to == StateGate {
		next.StepAt(next.Step).Status = StepWaiting
	}
	return next, ev, nil
}

// GateProgress records that a re-check showed progress (a new ETA, fewer
// items left); a stuck request returns to gate.
func (s System) GateProgress(req *Request, gateID string, eta time.Time, note string) (*Request, Event, error) {
	i := req.gateIndex(gateID)
	if i < 0 {
		return nil, Event{}, deny(RuleNoSuchGate, "", req.State, "")
	}
	to := req.State
	if req.State == StateStuck {
		to = StateGate
	}
	next, ev, err := s.move(req, EvGateProgress, []State{StateRunning, StateGate, StateStuck, StatePaused}, to,
		map[string]string{"gate": gateID, "note": note})
	if err == nil {
		next.Gates[i].ProgressAt = s.Now
		if !eta.IsZero() {
			next.Gates[i].ETA = eta
		}
	}
	return next, ev, err
}

// SatisfyGate closes a gate whose check passed (attestations included);
// when no gate of the current step remains open, a waiting request runs.
func (s System) SatisfyGate(req *Request, gateID string) (*Request, Event, error) {
	i := req.gateIndex(gateID)
	if i < 0 {
		return nil, Event{}, deny(RuleNoSuchGate, "", req.State, "")
	}
	if !req.Gates[i].IsOpen() {
		return nil, Event{}, deny(RuleGateSatisfied, "", req.State, "")
	}
	if missing := req.MissingAttestations(gateID); len(missing) > 0 {
		return nil, Event{}, deny(RuleNotAttestable, "", req.State, "missing attestation: "+Sentences[missing[0]])
	}
	probe := req.Clone()
	probe.Gates[i].SatisfiedAt = s.Now
	to := req.State
	switch {
	case (req.State == StateGate || req.State == StateStuck) && len(probe.BlockingGates()) == 0:
		to = StateRunning
	case req.State == StateStuck:
		// A satisfied gate is progress: stuck → gate (DESIGN §2.8).
		to = StateGate
	}
	next, ev, err := s.move(req, EvGateSatisfied, []State{StateRunning, StateGate, StateStuck, StatePaused}, to,
		map[string]string{"gate": gateID})
	if err == nil {
		next.Gates[i].SatisfiedAt = s.Now
		if to == StateRunning {
			next.StepAt(next.Step).Status = StepRunning
		}
	}
	return next, ev, err
}

// MarkStuck: gate → stuck when a blocking gate is stuck_after past its ETA
// (or its opening when Graph gives none).
func (s System) MarkStuck(req *Request) (*Request, Event, error) {
	if req.State == StateGate && !req.StuckDue(s.Now, s.Policy.StuckAfter) {
		return nil, Event{}, deny(RuleNotDue, "", req.State, "no gate is overdue")
	}
	return s.move(req, EvStuck, []State{StateGate}, StateStuck, nil)
}

// StepDone finishes the current step and starts the next; open gates of
// the next step make the request wait in state gate.
func (s System) StepDone(req *Request, note string) (*Request, Event, error) {
	if req.Step < 1 || req.Step >= NumSteps {
		return nil, Event{}, deny(RuleBadInput, "", req.State, "step 5 ends with Close")
	}
	probe := req.Clone()
	probe.Step++
	to := StateRunning
	if len(probe.BlockingGates()) > 0 {
		to = StateGate
	}
	next, ev, err := s.move(req, EvStepDone, []State{StateRunning}, to,
		map[string]string{"step": strconv.Itoa(req.Step), "note": note})
	if err != nil {
		return nil, Event{}, err
	}
	cur := next.StepAt(req.Step)
	cur.Status, cur.FinishedAt, cur.Note = StepDone, s.Now, note
	next.Step++
	nx := next.StepAt(next.Step)
	nx.StartedAt = s.Now
	nx.Status = StepRunning
	if to == StateGate {
		nx.Status = StepWaiting
	}
	return next, ev, nil
}

// Fail: running → failed; an approver's Retry runs the step again.
func (s System) Fail(req *Request, why string) (*Request, Event, error) {
	next, ev, err := s.move(req, EvStepFailed, []State{StateRunning}, StateFailed,
		map[string]string{"step": strconv.Itoa(req.Step), "why": why})
	if err == nil {
		next.FailReason = why
		if st := next.StepAt(next.Step); st != nil {
			st.Status, st.Note = StepFailed, why
		}
	}
	return next, ev, err
}

// AwaitConfirmation starts a round of step 5's point-of-no-return
// approvals; the runner calls it after a clean Verify.
func (s System) AwaitConfirmation(req *Request) (*Request, Event, error) {
	if req.Step != StepDeleteDirectory {
		return nil, Event{}, deny(RuleWrongStep, "", req.State, "")
	}
	next, ev, err := s.move(req, EvConfirmAwait, []State{StateRunning}, StateRunning, nil)
	if err == nil {
		st := next.StepAt(StepDeleteDirectory)
		st.AwaitingConfirmation, st.Confirmed = true, false
		next.Confirmations = nil
		next.ConfirmSince = req.Version
	}
	return next, ev, err
}

// Close: the gone check confirmed the tenant's deletion.
func (s System) Close(req *Request, detail map[string]string) (*Request, Event, error) {
	if req.Step != StepDeleteDirectory {
		return nil, Event{}, deny(RuleWrongStep, "", req.State, "")
	}
	next, ev, err := s.move(req, EvClosed, []State{StateRunning, StateGate}, StateClosed, detail)
	if err == nil {
		next.ClosedAt = s.Now
		st := next.StepAt(StepDeleteDirectory)
		st.Status, st.FinishedAt = StepDone, s.Now
	}
	return next, ev, err
}

// move checks the source state and the state machine, and builds the next
// request and its event.
func (s System) move(req *Request, action EventAction, from []State, to State, detail map[string]string) (*Request, Event, error) {
	if !hasState(from, req.State) || !CanTransition(req.State, to) {
		return nil, Event{}, deny(RuleWrongState, Action(action), req.State, "")
	}
	next := req.Clone()
	next.State = to
	next.UpdatedAt = s.Now
	ev := Event{
		Request: req.ID, At: s.Now, Actor: SystemActor, Action: action,
		From: req.State, To: to, Version: req.Version + 1, Detail: detail,
	}
	return next, ev, nil
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Settle aligns running and gate with the gates after a resume or a
// re-approval: running → gate while a gate of the current step is open,
// gate | stuck → running when none is.
func (s System) Settle(req *Request) (*Request, Event, error) {
	blocked := len(req.BlockingGates()) > 0
	switch {
	case req.State == StateRunning && blocked:
		next, ev, err := s.move(req, EvGateWait, []State{StateRunning}, StateGate, nil)
		if err == nil {
			next.StepAt(next.Step).Status = StepWaiting
		}
		return next, ev, err
	case (req.State == StateGate || req.State == StateStuck) && !blocked:
		next, ev, err := s.move(req, EvGateClear, []State{StateGate, StateStuck}, StateRunning, nil)
		if err == nil {
			next.StepAt(next.Step).Status = StepRunning
		}
		return next, ev, err
	case req.State == StateRunning || req.State == StateGate || req.State == StateStuck:
		return nil, Event{}, deny(RuleNotDue, "", req.State, "nothing to settle")
	}
	return nil, Event{}, deny(RuleWrongState, "gate.settle", req.State, "")
}

// Replan starts a new approval round of a re-pended request on a fresh
// read, when the plan changed again while it waited: the approvers confirm
// what the tenant looks like now, not what it looked like at the re-pend.
func (s System) Replan(req *Request, fresh PlanFacts, summary *PlanSummary) (*Request, Event, error) {
	if req.State != StatePending || req.Interrupted == nil {
		return nil, Event{}, deny(RuleWrongState, Action(EvReplan), req.State, "")
	}
	if fresh.Digest() == req.PlanDigest && (summary == nil || summary.SameApproval(req.Plan)) {
		return nil, Event{}, deny(RuleNotDue, "", req.State, "nothing to replan")
	}
	next, ev, err := s.move(req, EvReplan, []State{StatePending}, StatePending,
		map[string]string{"old_plan_digest": req.PlanDigest, "new_plan_digest": fresh.Digest()})
	if err != nil {
		return nil, Event{}, err
	}
	if !equalFold(fresh.KeepObjectID, req.ProvenKeep) {
		next.ProvenKeep = ""
	}
	next.Facts = fresh.Clone()
	next.PlanDigest = fresh.Digest()
	next.ConfigDigest = s.Policy.ConfigDigest(req.TenantID)
	if summary != nil {
		next.Plan = summary
	}
	s.repend(req, next)
	return next, ev, nil
}

// Pause pauses a request for the bot itself (stop file or SIGUSR1, for
// when Slack is unavailable); Resume is a person's.
func (s System) Pause(req *Request, why string) (*Request, Event, error) {
	next, ev, err := s.move(req, EvPause, pausable, StatePaused, map[string]string{"why": why, "paused_from": string(req.State)})
	if err == nil {
		next.PausedFrom = req.State
	}
	return next, ev, err
}
