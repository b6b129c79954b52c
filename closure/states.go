package closure

// AllStates lists every state, in the order of DESIGN §2.
var AllStates = []State{
	StatePending, StateApproved, StateProving, StateWaitingWindow, StateRunning,
	StateGate, StatePaused, StateFailed, StateStuck, StateClosed,
	StateRejected, StateCancelled, StateExpired, StateAborted,
}

// transitions is the state machine of DESIGN §2: from → allowed targets.
// Self-transitions (progress, gates, attestations recorded without a state
// change) are allowed in every state that is not terminal, plus aborted
// (Restore is recorded on an aborted request).
var transitions = map[State][]State{
	// pending → running only when a drift check interrupted a running
	// request: the re-approval returns to the interrupted step.
	// pending → paused when it had been paused (a Pause survives a
	// re-approval); pending → aborted when Cancel ends a half-done closure
	// (its users stay restorable).
	StatePending:       {StateApproved, StateRunning, StatePaused, StateRejected, StateCancelled, StateExpired, StateAborted},
	StateApproved:      {StateProving, StatePaused, StateAborted},
	StateProving:       {StateWaitingWindow, StatePending, StatePaused, StateAborted},
	StateWaitingWindow: {StateRunning, StatePaused, StateAborted},
	// (waiting_window → paused also when a re-approval after a pause
	// needed a new proof: StartSteps returns it to paused.)
	StateRunning: {StateGate, StatePaused, StateFailed, StateClosed, StatePending, StateAborted},
	StateGate:    {StateRunning, StateStuck, StatePaused, StateClosed, StatePending, StateAborted},
	// paused → any state it can have been paused from (Resume), or pending
	// when the drift check on resume fails.
	StatePaused: {StateApproved, StateProving, StateWaitingWindow, StateRunning, StateGate, StateStuck, StatePending, StateAborted},
	StateFailed: {StateRunning, StateAborted},
	// stuck → gate when a re-check shows progress; a satisfied gate
	// returns it to running (DESIGN §2.8).
	StateStuck: {StateGate, StateRunning, StatePaused, StatePending, StateAborted},
}

// pausable are the states Pause accepts (DESIGN §2), stuck included: a
// stuck request's gate re-checks still write (retried deletions, purge),
// and the emergency stop must stop every writer.
var pausable = []State{StateApproved, StateProving, StateWaitingWindow, StateRunning, StateGate, StateStuck}

// abortable are the states Abort accepts (DESIGN §2).
var abortable = []State{StateApproved, StateProving, StateWaitingWindow, StateRunning, StateGate, StatePaused, StateFailed, StateStuck}

// CanTransition reports whether the state machine allows from → to.
func CanTransition(from, to State) bool {
	if from == to {
		return !from.Terminal() || from == StateAborted
	}
	return hasState(transitions[from], to)
}

// Pausable reports whether Pause accepts s.
func (s State) Pausable() bool { return hasState(pausable, s) }

// Abortable reports whether Abort accepts s.
func (s State) Abortable() bool { return hasState(abortable, s) }

// Valid reports whether s is one of the known states.
func (s State) Valid() bool { return hasState(AllStates, s) }

func hasState(list []State, s State) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
