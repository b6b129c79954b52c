package closure

import (
	"strconv"
	"strings"
	"time"
)

// Decider makes a person's decisions. Each method is a pure function of
// the actor (and the roles the policy gives them), the request as read,
// what the person saw (version, digest) and the time: it returns the next
// request and its audit event, or a *Denied naming the rule. It never
// changes the request it is given.
type Decider struct {
	Policy *Policy
	Actor  Actor
	Now    time.Time
}

// OpenInput is what /close-tenant gives, plus preflight's facts.
type OpenInput struct {
	Tenant  string // configured tenant id or initial domain
	Reason  string
	Channel string
	Facts   PlanFacts
	Plan    *PlanSummary // what the card shows; optional
}

// ApproveInput is what the approval modal carried in private_metadata.
type ApproveInput struct {
	Version      uint64
	PlanDigest   string
	ConfigDigest string // optional; refused with config_changed when it no longer matches
}

// Can authorises a read-only action (status, list, plan) or checks an
// action before opening a modal; req may be nil for open, plan and list.
func (d Decider) Can(act Action, req *Request, tenantID string) (Roles, error) {
	return d.Policy.Authorize(d.Actor, act, req, tenantID)
}

// Open creates a pending request (the store assigns its id).
func (d Decider) Open(in OpenInput) (*Request, Event, error) {
	t, known := d.Policy.Tenant(in.Tenant)
	roles, err := d.Policy.Authorize(d.Actor, ActOpen, nil, t.ID)
	if err != nil {
		return nil, Event{}, err
	}
	if !known {
		return nil, Event{}, deny(RuleUnknownTenant, ActOpen, "", "")
	}
	reason := strings.TrimSpace(in.Reason)
	if reason == "" {
		return nil, Event{}, deny(RuleReasonRequired, ActOpen, "", "")
	}
	if !strings.EqualFold(in.Facts.TenantID, t.ID) {
		return nil, Event{}, deny(RuleBadInput, ActOpen, "", "the plan was read for another tenant")
	}
	req := &Request{
		TenantID:     t.ID,
		TenantDomain: t.Domain,
		Requester:    d.Actor.UserID,
		Reason:       reason,
		Channel:      in.Channel,
		State:        StatePending,
		CreatedAt:    d.Now,
		UpdatedAt:    d.Now,
		ExpiresAt:    d.Now.Add(d.Policy.ExpiresAfter),
		Facts:        in.Facts.Clone(),
		Plan:         in.Plan,
		PlanDigest:   in.Facts.Digest(),
		ConfigDigest: d.Policy.ConfigDigest(t.ID),
		Steps:        NewSteps(),
	}
	ev := Event{
		At: d.Now, Actor: d.Actor.UserID, Action: EvOpen, To: StatePending, Version: 1,
		Groups: roles.Groups,
		Detail: map[string]string{"tenant": t.ID, "plan_digest": req.PlanDigest, "config_digest": req.ConfigDigest},
	}
	return req, ev, nil
}

// Approve counts the actor's approval (modal submit). With enough valid
// approvals the request moves to approved, or back to its interrupted step
// after a drift re-pend.
func (d Decider) Approve(req *Request, in ApproveInput) (*Request, Event, error) {
	roles, err := d.Policy.Authorize(d.Actor, ActApprove, req, "")
	if err != nil {
		return nil, Event{}, err
	}
	if req.Interrupted == nil && !d.Now.Before(req.ExpiresAt) {
		return nil, Event{}, deny(RuleExpired, ActApprove, req.State, "")
	}
	if in.PlanDigest != req.PlanDigest {
		return nil, Event{}, deny(RulePlanChanged, ActApprove, req.State, "")
	}
	if req.Facts.KeepObjectID == "" {
		return nil, Event{}, deny(RuleNoKeep, ActApprove, req.State, "")
	}
	cfg := d.Policy.ConfigDigest(req.TenantID)
	if rule := staleRound(req, in, cfg); rule != "" {
		return nil, Event{}, deny(rule, ActApprove, req.State, "")
	}
	valid, dropped := validApprovals(req.Approvals, req.PlanDigest, cfg)
	if _, ok := valid[d.Actor.UserID]; ok {
		return nil, Event{}, deny(RuleAlreadyApproved, ActApprove, req.State, "")
	}
	next := d.next(req)
	valid[d.Actor.UserID] = Approval{
		UserID: d.Actor.UserID, Version: in.Version, PlanDigest: req.PlanDigest,
		ConfigDigest: cfg, At: d.Now, Groups: roles.Groups,
	}
	next.Approvals = valid
	next.ConfigDigest = cfg
	detail := map[string]string{
		"approvals":     strconv.Itoa(len(valid)) + "/" + strconv.Itoa(d.Policy.Required),
		"plan_digest":   req.PlanDigest,
		"config_digest": cfg,
		"seen_version":  strconv.FormatUint(in.Version, 10),
	}
	if len(dropped) > 0 {
		// Approvals given under another config no longer count.
		detail["dropped"] = strings.Join(dropped, ",")
	}
	if len(valid) >= d.Policy.Required {
		switch in := req.Interrupted; {
		case in == nil:
			next.State = StateApproved
		case req.NeedsProof():
			// The kept admin changed (or vanished and came back): a new
			// proof of life and abort window before the interrupted step.
			next.State = StateApproved
			detail["proof"] = "needed: the kept admin is not the one who proved"
		case in.State == StatePaused:
			// A person's Pause survives the re-approval.
			next.State = StatePaused
			next.PausedFrom = orState(in.PausedFrom, StateRunning)
			next.Step = in.Step
			detail["resumed_step"] = strconv.Itoa(next.Step)
			next.Interrupted = nil
		default:
			next.State = StateRunning
			next.Step = in.Step
			if s := next.StepAt(next.Step); s != nil && s.Status != StepDone {
				s.Status = StepRunning
			}
			detail["resumed_step"] = strconv.Itoa(next.Step)
			next.Interrupted = nil
		}
		next.DriftLines = nil
	}
	return next, d.event(req, next, ActApprove, roles, detail), nil
}

// validApprovals keeps the approvals given under both current digests and
// names the others.
func validApprovals(all map[string]Approval, plan, cfg string) (map[string]Approval, []string) {
	valid := map[string]Approval{}
	var dropped []string
	for _, id := range sortedKeys(all) {
		a := all[id]
		if a.PlanDigest == plan && a.ConfigDigest == cfg {
			valid[id] = a
		} else {
			dropped = append(dropped, id)
		}
	}
	return valid, dropped
}

// staleRound is the one staleness rule for a decision on a pending round
// made from a form (the approval or reject modal): the form must show the
// request's current plan digest, have been drawn at a version the request
// had since its current round began, and (when it carries one) under the
// current config digest. It returns the rule that refuses it, or "".
func staleRound(req *Request, in ApproveInput, cfg string) Rule {
	switch {
	case in.PlanDigest != req.PlanDigest:
		return RulePlanChanged
	case in.Version == 0 || in.Version > req.Version || (req.PendingSince != 0 && in.Version <= req.PendingSince):
		return RuleStaleVersion
	case in.ConfigDigest != "" && in.ConfigDigest != cfg:
		return RuleConfigChanged
	}
	return ""
}

// StaleForm returns the rule refusing a decision from a form drawn at
// version showing planDigest (the approval or reject modal), or "" when it
// is current: the adapter asks it before validating the typed values of a
// form the decision will refuse anyway.
func (r *Request) StaleForm(version uint64, planDigest string) Rule {
	return staleRound(r, ApproveInput{Version: version, PlanDigest: planDigest}, "")
}

// staleCard is the staleness rule for a button drawn on a card or message:
// one drawn before the request's current pending round began is out of
// date (RuleStaleCard).
func staleCard(req *Request, act Action, seen uint64) error {
	if seen <= req.PendingSince {
		return deny(RuleStaleCard, act, req.State, "")
	}
	return nil
}

// CountedApprovers are the ids (sorted) of the approvals that count: given
// under the request's plan digest and configDigest. It is the one rule for
// "does this approval count?", used by decisions (with the policy's current
// config digest) and by displays (with the request's).
func (r *Request) CountedApprovers(configDigest string) []string {
	v, _ := validApprovals(r.Approvals, r.PlanDigest, configDigest)
	if len(v) == 0 {
		return nil
	}
	return sortedKeys(v)
}

// CountApprovals returns how many approvals count under the current digests.
func (r *Request) CountApprovals(configDigest string) int {
	v, _ := validApprovals(r.Approvals, r.PlanDigest, configDigest)
	return len(v)
}

// HasApproved reports whether user's approval counts under configDigest.
func (r *Request) HasApproved(user, configDigest string) bool {
	v, _ := validApprovals(r.Approvals, r.PlanDigest, configDigest)
	_, ok := v[user]
	return ok
}

// Check is the pre-check before a person's form opens for act (the
// approval or reject modal, from a button drawn at version seen): the
// authorisation table, a button drawn before the current round, and for
// an approval the expiry and an approval already counted. The decision
// at the form's submission checks everything again.
func (d Decider) Check(act Action, req *Request, seen uint64) error {
	if _, err := d.Policy.Authorize(d.Actor, act, req, ""); err != nil {
		return err
	}
	if err := staleCard(req, act, seen); err != nil {
		return err
	}
	if act != ActApprove {
		return nil
	}
	if req.ExpiryDue(d.Now) {
		return deny(RuleExpired, act, req.State, "")
	}
	if req.HasApproved(d.Actor.UserID, d.Policy.ConfigDigest(req.TenantID)) {
		return deny(RuleAlreadyApproved, act, req.State, "")
	}
	return nil
}

// RejectInput is what the reject modal carried: the version and plan
// digest it was drawn at, and the typed reason.
type RejectInput struct {
	Version    uint64
	PlanDigest string
	Reason     string
}

// Reject ends a pending request; an approver other than the owner must say
// why. A form drawn before the current round or plan is refused like an
// approval's (the same staleness rule), in the card's words (RuleStaleCard).
func (d Decider) Reject(req *Request, in RejectInput) (*Request, Event, error) {
	roles, err := d.Policy.Authorize(d.Actor, ActReject, req, "")
	if err != nil {
		return nil, Event{}, err
	}
	if req.StaleForm(in.Version, in.PlanDigest) != "" {
		return nil, Event{}, deny(RuleStaleCard, ActReject, req.State, "")
	}
	reason := strings.TrimSpace(in.Reason)
	if reason == "" {
		return nil, Event{}, deny(RuleReasonRequired, ActReject, req.State, "")
	}
	next := d.next(req)
	next.State = StateRejected
	next.RejectReason = reason
	return next, d.event(req, next, ActReject, roles, map[string]string{"reason": reason}), nil
}

// Cancel ends a pending request (its owner or an approver). A request back
// for approval after it started deleting is aborted instead, so the users
// it deleted stay restorable.
func (d Decider) Cancel(req *Request) (*Request, Event, error) {
	if req.State == StatePending && (req.Interrupted != nil || !req.RestoreDeadline.IsZero()) {
		next, ev, err := d.simple(req, ActCancel, StateAborted)
		if err == nil {
			next.Interrupted = nil
			ev.Detail = map[string]string{"aborted": "the closure had started; its deleted users stay restorable"}
		}
		return next, ev, err
	}
	return d.simple(req, ActCancel, StateCancelled)
}

// Pause stops a request at the next safe point; Resume returns to where it was.
func (d Decider) Pause(req *Request) (*Request, Event, error) {
	next, ev, err := d.simple(req, ActPause, StatePaused)
	if err == nil {
		next.PausedFrom = req.State
		ev.Detail = map[string]string{"paused_from": string(req.State)}
	}
	return next, ev, err
}

// Typed is the version a typed command (not a button) acts on: the
// request as it is now. A button always carries the version it was drawn
// at, never 0.
const Typed uint64 = 0

// current refuses a click drawn before the request entered its current
// state (a Retry button of an earlier failure, a Resume of an earlier
// pause): it must be drawn again.
func current(req *Request, act Action, seen uint64) error {
	if seen != Typed && (seen < req.StateSince || seen > req.Version) {
		return deny(RuleStaleVersion, act, req.State, "")
	}
	return nil
}

// Resume returns a paused request to the state it was paused from. The
// runner re-reads the plan on every resume before its next write. seen is
// the version the button was drawn at (Typed for the command).
func (d Decider) Resume(req *Request, seen uint64) (*Request, Event, error) {
	roles, err := d.Policy.Authorize(d.Actor, ActResume, req, "")
	if err != nil {
		return nil, Event{}, err
	}
	if err := current(req, ActResume, seen); err != nil {
		return nil, Event{}, err
	}
	if !req.PausedFrom.Pausable() {
		return nil, Event{}, deny(RuleBadInput, ActResume, req.State, "the state it was paused from is unknown")
	}
	next := d.next(req)
	next.State = req.PausedFrom
	next.PausedFrom = ""
	return next, d.event(req, next, ActResume, roles, nil), nil
}

// Abort ends a request; the runner stops before its next write.
func (d Decider) Abort(req *Request) (*Request, Event, error) {
	next, ev, err := d.simple(req, ActAbort, StateAborted)
	if err == nil {
		next.PausedFrom = ""
		if s := next.StepAt(next.Step); s != nil && (s.Status == StepRunning || s.Status == StepWaiting) {
			s.Status = StepFailed
			s.Note = "aborted"
		}
	}
	return next, ev, err
}

// Retry runs a failed step again.
func (d Decider) Retry(req *Request, seen uint64) (*Request, Event, error) {
	next, ev, err := d.simple(req, ActRetry, StateRunning)
	if err == nil {
		err = current(req, ActRetry, seen)
	}
	if err == nil {
		if s := next.StepAt(next.Step); s != nil {
			s.Status = StepRunning
			s.Note = ""
		}
		ev.Detail = map[string]string{"step": strconv.Itoa(req.Step), "failure": req.FailReason}
		next.FailReason = ""
	}
	return next, ev, err
}

// Confirm counts a fresh approval of step 5's point of no return (deleting
// tenant-owned apps and service principals). version is the request version
// the button was rendered at.
func (d Decider) Confirm(req *Request, version uint64) (*Request, Event, error) {
	roles, err := d.Policy.Authorize(d.Actor, ActConfirm, req, "")
	if err != nil {
		return nil, Event{}, err
	}
	if !req.AwaitingConfirmation() {
		return nil, Event{}, deny(RuleNotAwaiting, ActConfirm, req.State, "")
	}
	if version == 0 || version > req.Version || version <= req.ConfirmSince {
		return nil, Event{}, deny(RuleStaleVersion, ActConfirm, req.State, "")
	}
	cfg := d.Policy.ConfigDigest(req.TenantID)
	if cfg != req.ConfigDigest {
		return nil, Event{}, deny(RuleConfigChanged, ActConfirm, req.State, "")
	}
	valid, _ := validApprovals(req.Confirmations, req.PlanDigest, cfg)
	if _, ok := valid[d.Actor.UserID]; ok {
		return nil, Event{}, deny(RuleAlreadyApproved, ActConfirm, req.State, "")
	}
	next := d.next(req)
	valid[d.Actor.UserID] = Approval{
		UserID: d.Actor.UserID, Version: version, PlanDigest: req.PlanDigest,
		ConfigDigest: cfg, At: d.Now, Groups: roles.Groups,
	}
	next.Confirmations = valid
	detail := map[string]string{"confirmations": strconv.Itoa(len(valid)) + "/" + strconv.Itoa(d.Policy.Required)}
	if len(valid) >= d.Policy.Required {
		s := next.StepAt(StepDeleteDirectory)
		s.AwaitingConfirmation = false
		s.Confirmed = true
		detail["confirmed"] = "true"
	}
	return next, d.event(req, next, ActConfirm, roles, detail), nil
}

// Purge asks the runner to purge deleted objects at step 5's gate (irreversible).
func (d Decider) Purge(req *Request, seen uint64) (*Request, Event, error) {
	roles, err := d.Policy.Authorize(d.Actor, ActPurge, req, "")
	if err != nil {
		return nil, Event{}, err
	}
	if err := current(req, ActPurge, seen); err != nil {
		return nil, Event{}, err
	}
	if req.Step != StepDeleteDirectory {
		return nil, Event{}, deny(RuleWrongStep, ActPurge, req.State, "")
	}
	if req.WriteAccessRemoved() {
		return nil, Event{}, deny(RuleWriteRemoved, ActPurge, req.State, "")
	}
	next := d.next(req)
	next.PurgeRequested = &Click{By: d.Actor.UserID, At: d.Now}
	return next, d.event(req, next, ActPurge, roles, nil), nil
}

// Restore asks the runner to restore the users this aborted request
// deleted, while Entra still keeps them.
func (d Decider) Restore(req *Request, seen uint64) (*Request, Event, error) {
	roles, err := d.Policy.Authorize(d.Actor, ActRestore, req, "")
	if err != nil {
		return nil, Event{}, err
	}
	if err := current(req, ActRestore, seen); err != nil {
		return nil, Event{}, err
	}
	if req.RestoreDeadline.IsZero() {
		return nil, Event{}, deny(RuleNothingToRestore, ActRestore, req.State, "")
	}
	if !d.Now.Before(req.RestoreDeadline) {
		return nil, Event{}, deny(RuleRestoreDeadline, ActRestore, req.State, "")
	}
	next := d.next(req)
	next.RestoreRequested = &Click{By: d.Actor.UserID, At: d.Now}
	return next, d.event(req, next, ActRestore, roles,
		map[string]string{"deadline": req.RestoreDeadline.UTC().Format(time.RFC3339)}), nil
}

// Attest records the actor's attestation of one sentence of an open gate.
// It does not satisfy the gate: the runner's re-check does, once the
// gate's conditions and attestations are all met.
func (d Decider) Attest(req *Request, gateID, sentence string) (*Request, Event, error) {
	roles, err := d.Policy.Authorize(d.Actor, ActAttest, req, "")
	if err != nil {
		return nil, Event{}, err
	}
	g, err := openGate(req, ActAttest, gateID)
	if err != nil {
		return nil, Event{}, err
	}
	if !contains(g.Attest, sentence) {
		return nil, Event{}, deny(RuleNotAttestable, ActAttest, req.State, "")
	}
	if req.Attested(gateID, sentence) {
		return nil, Event{}, deny(RuleAlreadyAttested, ActAttest, req.State, "")
	}
	next := d.next(req)
	next.Attestations = append(next.Attestations, Attestation{
		Gate: gateID, Sentence: sentence, By: d.Actor.UserID, At: d.Now, Groups: roles.Groups,
	})
	return next, d.event(req, next, ActAttest, roles,
		map[string]string{"gate": gateID, "sentence": sentence, "text": Sentences[sentence]}), nil
}

// Recheck authorises a person's Re-check of an open gate and returns the
// audit event to append; the request itself does not change.
func (d Decider) Recheck(req *Request, gateID string) (Event, error) {
	roles, err := d.Policy.Authorize(d.Actor, ActRecheck, req, "")
	if err != nil {
		return Event{}, err
	}
	if _, err := openGate(req, ActRecheck, gateID); err != nil {
		return Event{}, err
	}
	ev := d.event(req, req, ActRecheck, roles, map[string]string{"gate": gateID})
	ev.From, ev.To, ev.Version = "", "", req.Version
	return ev, nil
}

func openGate(req *Request, act Action, id string) (Gate, error) {
	g, ok := req.Gate(id)
	if !ok {
		return Gate{}, deny(RuleNoSuchGate, act, req.State, "")
	}
	if !g.IsOpen() {
		return Gate{}, deny(RuleGateSatisfied, act, req.State, "")
	}
	return g, nil
}

// simple is a decision that only authorises and moves to one state.
func (d Decider) simple(req *Request, act Action, to State) (*Request, Event, error) {
	roles, err := d.Policy.Authorize(d.Actor, act, req, "")
	if err != nil {
		return nil, Event{}, err
	}
	next := d.next(req)
	next.State = to
	return next, d.event(req, next, act, roles, nil), nil
}

func (d Decider) next(req *Request) *Request {
	n := req.Clone()
	n.UpdatedAt = d.Now
	return n
}

func (d Decider) event(cur, next *Request, act Action, roles Roles, detail map[string]string) Event {
	return Event{
		Request: cur.ID, At: d.Now, Actor: d.Actor.UserID, Action: EventAction(act),
		From: cur.State, To: next.State, Version: cur.Version + 1,
		Groups: roles.Groups, Detail: detail,
	}
}
