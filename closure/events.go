package closure

import "slices"

// EventAction names what an audit event records. Its string is the stored
// form (Event.Action in the chained, MAC'd JSON): never rename a value,
// only add new ones, or stored chains stop meaning what they meant.
//
// Every event is one of three kinds (EventKind): a decision, by a person
// or by closebot, that moves the request or records a choice; progress,
// which records work done or seen and changes no state; or an intent,
// recorded before a Graph write so a crash cannot hide the write.
type EventAction string

// EventKind sorts events for their readers: the card treats progress as a
// low-priority edit, the thread tells decisions, recovery reads intents.
type EventKind int

const (
	DecisionEvent EventKind = iota + 1
	ProgressEvent
	IntentEvent
)

func (k EventKind) String() string {
	switch k {
	case DecisionEvent:
		return "decision"
	case ProgressEvent:
		return "progress"
	case IntentEvent:
		return "intent"
	}
	return "unknown"
}

// A person's decisions (Decider): the event carries the person's Action.
const (
	EvOpen    = EventAction(ActOpen)    // decision: a request opened (pending)
	EvApprove = EventAction(ActApprove) // decision: an approval counted
	EvReject  = EventAction(ActReject)  // decision: pending → rejected
	EvCancel  = EventAction(ActCancel)  // decision: the owner cancelled
	EvPause   = EventAction(ActPause)   // decision: paused (by a person, or by closebot's stop)
	EvResume  = EventAction(ActResume)  // decision: paused → where it was
	EvAbort   = EventAction(ActAbort)   // decision: the closure aborted
	EvRetry   = EventAction(ActRetry)   // decision: failed → running again
	EvConfirm = EventAction(ActConfirm) // decision: a step-5 point-of-no-return approval
	EvPurge   = EventAction(ActPurge)   // decision: a person asked to purge deleted objects
	EvRestore = EventAction(ActRestore) // decision: a person asked to restore deleted users
	EvAttest  = EventAction(ActAttest)  // decision: a gate attestation recorded
	EvRecheck = EventAction(ActRecheck) // decision: a person asked for a gate re-check
)

// closebot's own decisions (System).
const (
	EvProofStart    EventAction = "proof.start"         // decision: approved → proving
	EvProofPassed   EventAction = "proof.passed"        // decision: proving → waiting_window
	EvProofFailed   EventAction = "proof.failed"        // decision: proving → pending
	EvStepsStart    EventAction = "steps.start"         // decision: the abort window ended, steps run
	EvDrift         EventAction = "drift"               // decision: the plan changed → pending again
	EvReplan        EventAction = "replan"              // decision: a re-pended request's plan changed again
	EvExpire        EventAction = "expire"              // decision: pending → expired
	EvGateOpen      EventAction = "gate.open"           // decision: a manual gate opened
	EvGateSatisfied EventAction = "gate.satisfied"      // decision: a gate's check passed
	EvGateWait      EventAction = "gate.wait"           // decision: running → gate (settle)
	EvGateClear     EventAction = "gate.clear"          // decision: gate | stuck → running (settle)
	EvStuck         EventAction = "stuck"               // decision: gate → stuck (past its ETA)
	EvStepDone      EventAction = "step.done"           // decision: a step finished, the next starts
	EvStepFailed    EventAction = "step.failed"         // decision: running → failed
	EvConfirmAwait  EventAction = "confirm.await"       // decision: step 5 asks for confirmations
	EvClosed        EventAction = "closed"              // decision: the tenant is gone
	EvRestoreDone   EventAction = "restore.done"        // decision: a Restore round ended
	EvPurgeDone     EventAction = "purge.done"          // decision: a Purge round ended
	EvWriteGranted  EventAction = "write.granted"       // decision: closebot verified its write grants (just in time)
	EvGateProgress  EventAction = "gate.progress"       // progress: a gate's ETA or note changed
	EvStepProgress  EventAction = "step.progress"       // progress: a step's counters and note
	EvGoneCheck     EventAction = "gone.check"          // progress: one answer of the tenant-gone check
	EvDeleteUser    EventAction = "step.delete_user"    // progress: this request deleted a user
	EvUserGone      EventAction = "step.user_gone"      // progress: a user a gate asked people to remove is gone
	EvDeleteApp     EventAction = "step.delete_app"     // progress: step 5 deleted an app registration
	EvDeleteSP      EventAction = "step.delete_sp"      // progress: step 5 deleted a service principal
	EvDisableSP     EventAction = "step.disable_sp"     // progress: step 5 disabled an undeletable service principal
	EvMFADisabled   EventAction = "step.mfa_disabled"   // progress: step 4 turned a user's per-user MFA off
	EvSyncOff       EventAction = "step.sync_off"       // progress: directory sync turned off
	EvUserRestored  EventAction = "restore.user"        // progress: Restore brought a user back
	EvIntentDelUser EventAction = "intent.delete_user"  // intent: about to delete a user
	EvIntentSyncOff EventAction = "intent.sync_off"     // intent: about to turn directory sync off
	EvIntentDelApp  EventAction = "intent.delete_app"   // intent: about to delete an app registration
	EvIntentDelSP   EventAction = "intent.delete_sp"    // intent: about to delete a service principal
	EvIntentDisSP   EventAction = "intent.disable_sp"   // intent: about to disable a service principal
	EvIntentMFA     EventAction = "intent.mfa_disable"  // intent: about to turn a user's per-user MFA off
	EvIntentRestore EventAction = "intent.restore_user" // intent: about to restore a deleted user
	EvIntentPurge   EventAction = "intent.purge"        // intent: about to purge a deleted object
	// EvIntentUnsent withdraws intents recorded for a group of writes that
	// the step stopped before sending (a pause, an abort): detail "action"
	// names their intent and "ids" their objects (comma-separated).
	EvIntentUnsent EventAction = "intent.unsent" // intent: intended writes never sent
)

// eventKinds is the one table of kinds; an action missing here is a bug
// (TestEventActionsStoredForm pins them all).
var eventKinds = map[EventAction]EventKind{
	EvOpen: DecisionEvent, EvApprove: DecisionEvent, EvReject: DecisionEvent, EvCancel: DecisionEvent,
	EvPause: DecisionEvent, EvResume: DecisionEvent, EvAbort: DecisionEvent, EvRetry: DecisionEvent,
	EvConfirm: DecisionEvent, EvPurge: DecisionEvent, EvRestore: DecisionEvent, EvAttest: DecisionEvent,
	EvRecheck: DecisionEvent,

	EvProofStart: DecisionEvent, EvProofPassed: DecisionEvent, EvProofFailed: DecisionEvent,
	EvStepsStart: DecisionEvent, EvDrift: DecisionEvent, EvReplan: DecisionEvent, EvExpire: DecisionEvent,
	EvGateOpen: DecisionEvent, EvGateSatisfied: DecisionEvent, EvGateWait: DecisionEvent, EvGateClear: DecisionEvent,
	EvStuck: DecisionEvent, EvStepDone: DecisionEvent, EvStepFailed: DecisionEvent, EvConfirmAwait: DecisionEvent,
	EvClosed: DecisionEvent, EvRestoreDone: DecisionEvent, EvPurgeDone: DecisionEvent, EvWriteGranted: DecisionEvent,

	EvGateProgress: ProgressEvent, EvStepProgress: ProgressEvent, EvGoneCheck: ProgressEvent,
	EvDeleteUser: ProgressEvent, EvUserGone: ProgressEvent, EvDeleteApp: ProgressEvent, EvDeleteSP: ProgressEvent,
	EvDisableSP: ProgressEvent, EvMFADisabled: ProgressEvent, EvSyncOff: ProgressEvent, EvUserRestored: ProgressEvent,

	EvIntentDelUser: IntentEvent, EvIntentSyncOff: IntentEvent, EvIntentDelApp: IntentEvent, EvIntentDelSP: IntentEvent,
	EvIntentDisSP: IntentEvent, EvIntentMFA: IntentEvent, EvIntentRestore: IntentEvent, EvIntentPurge: IntentEvent,
	EvIntentUnsent: IntentEvent,
}

// Kind is the action's kind; 0 for an action closebot does not know.
func (a EventAction) Kind() EventKind { return eventKinds[a] }

// IsDecision reports whether the event records a decision (a person's or
// closebot's), as opposed to progress or an intent.
func (a EventAction) IsDecision() bool { return a.Kind() == DecisionEvent }

// IsProgress reports whether the event only records work done or seen.
func (a EventAction) IsProgress() bool { return a.Kind() == ProgressEvent }

// EventActions lists every action closebot stores, sorted (for tests and
// tools that read the audit log).
func EventActions() []EventAction {
	out := make([]EventAction, 0, len(eventKinds))
	for a := range eventKinds {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}
