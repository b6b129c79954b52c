package closure

import (
	"errors"
	"fmt"
	"strings"
)

// Rule is the stable code of the rule that refused a decision; the bot and
// the audit log use it, and Explain turns it into words.
type Rule string

// The rules. Keep codes stable: tests, logs and users rely on them.
const (
	// Refused before the table is consulted (DESIGN §3).
	RuleUnknownUser Rule = "unknown_user"
	RuleGuest       Rule = "guest"
	RuleBot         Rule = "bot"
	RuleDeletedUser Rule = "deleted_user"
	RuleOtherTeam   Rule = "other_team"

	// Who (the authorisation table).
	RuleNotRequester Rule = "not_requester" // needs the requester role
	RuleNotApprover  Rule = "not_approver"  // needs the approver role
	RuleSelfApproval Rule = "self_approval" // the owner cannot be the second person
	RuleNotOwner     Rule = "not_owner"     // needs to be the owner or an approver
	RuleNoRole       Rule = "no_role"       // needs the requester or approver role
	RuleNotAttester  Rule = "not_attester"  // needs keep_slack_user or an approver who is not the owner
	RuleDisjoint     Rule = "disjoint"      // approval.disjoint: approvers may hold no requester role

	// State and freshness.
	RuleWrongState       Rule = "wrong_state"
	RuleStaleVersion     Rule = "stale_version"
	RulePlanChanged      Rule = "plan_changed"
	RuleStaleCard        Rule = "stale_card" // a button or form drawn before the current round
	RuleConfigChanged    Rule = "config_changed"
	RuleAlreadyApproved  Rule = "already_approved"
	RuleExpired          Rule = "expired"
	RuleNotAwaiting      Rule = "not_awaiting_confirmation"
	RuleWrongStep        Rule = "wrong_step"
	RuleRestoreDeadline  Rule = "restore_deadline_passed"
	RuleNothingToRestore Rule = "nothing_to_restore"
	RuleNoSuchGate       Rule = "no_such_gate"
	RuleGateSatisfied    Rule = "gate_satisfied"
	RuleNotAttestable    Rule = "not_attestable"
	RuleAlreadyAttested  Rule = "already_attested"
	RuleWindowOpen       Rule = "window_open"
	RuleNoKeep           Rule = "no_kept_admin"
	// RuleWriteRemoved: closebot's write access was removed after step 5's
	// last write (write_access just_in_time); it can no longer write.
	RuleWriteRemoved Rule = "write_access_removed"
	// RuleNotDue: closebot's own decision found nothing to do on the
	// request as read now (not due to expire, nothing to settle, already
	// recorded): it moved on since the caller looked.
	RuleNotDue Rule = "not_due"

	// Input.
	RuleReasonRequired Rule = "reason_required"
	RuleUnknownTenant  Rule = "unknown_tenant"
	RuleBadInput       Rule = "bad_input"
)

// Denied is a decision's "not allowed, because …": the rule that refused
// it and what it was about. It is a requirement not met, not a fault.
type Denied struct {
	Rule   Rule
	Action Action
	State  State  // the request's state, if any
	Detail string // extra words, e.g. the drift or the field at fault
}

func (d *Denied) Error() string { return explainDenied(d) }

// Is makes errors.Is(err, &Denied{Rule: r}) match on the rule alone.
func (d *Denied) Is(target error) bool {
	t, ok := target.(*Denied)
	return ok && (t.Rule == "" || t.Rule == d.Rule)
}

func deny(rule Rule, a Action, s State, detail string) *Denied {
	return &Denied{Rule: rule, Action: a, State: s, Detail: detail}
}

// RuleOf returns the rule of a *Denied in err's chain, or "".
func RuleOf(err error) Rule {
	var d *Denied
	if errors.As(err, &d) {
		return d.Rule
	}
	return ""
}

// movedOn are the refusals that only say the stored request is no longer
// where a decision expected it (another state, a newer version, a gate
// already satisfied, a window still open): re-reading it resolves them.
var movedOn = map[Rule]bool{
	RuleWrongState: true, RuleStaleVersion: true, RuleStaleCard: true, RulePlanChanged: true, RuleConfigChanged: true,
	RuleAlreadyApproved: true, RuleExpired: true, RuleNotAwaiting: true, RuleWrongStep: true,
	RuleGateSatisfied: true, RuleAlreadyAttested: true, RuleWindowOpen: true, RuleNotDue: true,
}

// MovedOn reports whether r only means that the request moved on. The
// others (who may act, bad input, a missing gate...) are faults when
// closebot itself decides: they must surface, not read as "moved on".
func (r Rule) MovedOn() bool { return movedOn[r] }

// messages is the one table of words for refusals.
var messages = map[Rule]string{
	RuleUnknownUser: "Slack did not say who you are, so closebot cannot decide.",
	RuleGuest:       "Guest accounts cannot act on closures.",
	RuleBot:         "Bots cannot act on closures.",
	RuleDeletedUser: "Deactivated accounts cannot act on closures.",
	RuleOtherTeam:   "Only members of the configured Slack workspace can act on closures.",

	RuleNotRequester: "You need the requester role (slack.requesters) to %s.",
	RuleNotApprover:  "You need the approver role (slack.approvers) to %s.",
	RuleSelfApproval: "You opened this request, so you cannot %s it: a second person must.",
	RuleNotOwner:     "Only the person who opened the request or an approver can %s it.",
	RuleNoRole:       "You need the requester or approver role to %s.",
	RuleNotAttester:  "Only the kept admin's Slack user or an approver who did not open the request can %s.",
	RuleDisjoint:     "approval.disjoint is on and you hold a requester role, so you cannot %s.",

	RuleWrongState:       "%s is not possible now: the request is %s.",
	RuleStaleVersion:     "The request changed after you opened this form; look at it again and retry.",
	RuleStaleCard:        "That message is out of date (the request changed since it was drawn); look at the current card and try again.",
	RulePlanChanged:      "The plan changed after you opened this form; review the new plan and approve again.",
	RuleConfigChanged:    "The approval configuration changed; the request must be approved again under it.",
	RuleAlreadyApproved:  "Your approval is already counted.",
	RuleExpired:          "The request expired before enough approvals came in; open a new one.",
	RuleNotAwaiting:      "Step 5 is not waiting for a confirmation.",
	RuleWrongStep:        "That is only possible at step 5's gate.",
	RuleRestoreDeadline:  "Entra no longer keeps the deleted users (30 days after the first deletion); they cannot be restored.",
	RuleNothingToRestore: "This request deleted no users, so there is nothing to restore.",
	RuleNoSuchGate:       "This request has no such gate.",
	RuleGateSatisfied:    "That gate is already satisfied.",
	RuleNotAttestable:    "That gate does not ask for this attestation.",
	RuleAlreadyAttested:  "That attestation is already recorded.",
	RuleWindowOpen:       "The abort window has not ended yet.",
	RuleWriteRemoved:     "closebot's write access to this tenant was removed after its last write (write_access: just_in_time), so it cannot %s; purge them in the Entra admin center → Identity → Users → Deleted users instead.",
	RuleNotDue:           "There is nothing to do on the request now.",
	RuleNoKeep:           "The tenant's current plan has no kept admin (tenants[].keep was not found), so nothing can be approved; fix the kept admin first.",

	RuleReasonRequired: "A reason is required to %s.",
	RuleUnknownTenant:  "That tenant is not configured.",
	RuleBadInput:       "The input is not valid.",
}

// actionWords says each action as a verb phrase.
var actionWords = map[Action]string{
	ActOpen: "open a request", ActPlan: "see a plan", ActStatus: "see requests", ActList: "list requests",
	ActApprove: "approve", ActReject: "reject", ActCancel: "cancel",
	ActPause: "pause", ActResume: "resume", ActAbort: "abort", ActRetry: "retry a failed step",
	ActConfirm: "confirm the point of no return", ActPurge: "purge deleted objects",
	ActRestore: "restore users", ActAttest: "attest", ActRecheck: "re-check a gate",
}

// gerunds say each action as the subject of a sentence.
var gerunds = map[Action]string{
	ActOpen: "Opening a request", ActPlan: "Reading a plan", ActStatus: "Reading a request", ActList: "Listing requests",
	ActApprove: "Approving", ActReject: "Rejecting", ActCancel: "Cancelling",
	ActPause: "Pausing", ActResume: "Resuming", ActAbort: "Aborting", ActRetry: "Retrying a failed step",
	ActConfirm: "Confirming the point of no return", ActPurge: "Purging deleted objects",
	ActRestore: "Restoring users", ActAttest: "Attesting", ActRecheck: "Re-checking a gate",
}

// stateWords says each state as the complement of "the request is".
var stateWords = map[State]string{
	StatePending: "waiting for approval", StateApproved: "approved and about to ask for the sign-in proof",
	StateProving: "waiting for the kept admin's sign-in proof", StateWaitingWindow: "in its abort window",
	StateRunning: "running", StateGate: "waiting at a manual gate", StatePaused: "paused",
	StateFailed: "failed (an approver may Retry)", StateStuck: "stuck at a manual gate", StateClosed: "closed",
	StateRejected: "rejected", StateCancelled: "cancelled", StateExpired: "expired", StateAborted: "aborted",
}

// StateWords says a state in words ("waiting for approval").
func StateWords(s State) string {
	if w, ok := stateWords[s]; ok {
		return w
	}
	return orNone(string(s))
}

func explainDenied(d *Denied) string {
	msg, ok := messages[d.Rule]
	if !ok {
		msg = "Not allowed (" + string(d.Rule) + ")."
	}
	verb := actionWords[d.Action]
	if verb == "" {
		verb = "act on"
	}
	switch {
	case d.Rule == RuleWrongState:
		g := gerunds[d.Action]
		if g == "" {
			g = "That"
		}
		msg = fmt.Sprintf(msg, g, StateWords(d.State))
	case strings.Count(msg, "%s") == 1:
		msg = fmt.Sprintf(msg, verb)
	}
	if d.Detail != "" {
		msg += " " + d.Detail
	}
	return msg
}

// Explain turns an error from the domain or the store into the words shown
// to a person. Requirement-not-met errors say which rule applies; anything
// else is an internal error, whose details belong in the log, not in Slack.
func Explain(err error) string {
	var d *Denied
	switch {
	case err == nil:
		return ""
	case errors.As(err, &d):
		return d.Error()
	case errors.Is(err, ErrTenantLocked):
		return "This tenant already has an open request" + lockHolder(err) + "; finish or cancel it first."
	case errors.Is(err, ErrNotFound):
		return "There is no such request."
	case errors.Is(err, ErrConflict):
		return "The request kept changing while closebot decided; try again."
	}
	return "closebot hit an internal error; the operators have the details in its log."
}

// lockHolder extracts "CT-n" from a wrapped ErrTenantLocked, if named.
func lockHolder(err error) string {
	for _, f := range strings.Fields(err.Error()) {
		f = strings.Trim(f, ":,.()")
		if strings.HasPrefix(f, "CT-") {
			return " (" + f + ")"
		}
	}
	return ""
}
