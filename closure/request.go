// Package closure is closebot's domain: closure requests, their states and
// transitions, who may do what, plans and their digests, preflight, the five
// steps, gates and the runner. It defines the interfaces it needs (Directory,
// Reporter, Store) and imports none of the adapters that implement them.
package closure

import "time"

// State is where a closure request stands (DESIGN §2).
type State string

// The request states of DESIGN §2.
const (
	StatePending       State = "pending"
	StateApproved      State = "approved"
	StateProving       State = "proving"
	StateWaitingWindow State = "waiting_window"
	StateRunning       State = "running"
	StateGate          State = "gate"
	StatePaused        State = "paused"
	StateFailed        State = "failed"
	StateStuck         State = "stuck"
	StateClosed        State = "closed"
	StateRejected      State = "rejected"
	StateCancelled     State = "cancelled"
	StateExpired       State = "expired"
	StateAborted       State = "aborted"
)

// HoldsLock reports whether a request in this state keeps its tenant locked
// against a second request.
func (s State) HoldsLock() bool {
	switch s {
	case StateClosed, StateRejected, StateCancelled, StateExpired, StateAborted:
		return false
	}
	return true
}

// Terminal reports whether no further transition leaves this state
// (aborted is terminal for the lock but still allows Restore).
func (s State) Terminal() bool { return !s.HoldsLock() }

// Request is one closure request, the unit the store persists. Every change
// goes through a compare-and-set on (State, Version, PlanDigest).
type Request struct {
	ID           string    `json:"id"`            // "CT-12"
	TenantID     string    `json:"tenant_id"`     // Entra tenant id
	TenantDomain string    `json:"tenant_domain"` // initial *.onmicrosoft.com domain
	Requester    string    `json:"requester"`     // Slack user id of the owner
	Reason       string    `json:"reason"`        // user text, never rendered unescaped
	Channel      string    `json:"channel"`       // Slack channel the request lives in
	State        State     `json:"state"`
	Version      uint64    `json:"version"` // bumped by every committed change
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	ExpiresAt    time.Time `json:"expires_at"`

	// PlanDigest and ConfigDigest pin what approvers saw and under which
	// authorisation config; an approval counts only under both.
	PlanDigest   string `json:"plan_digest"`
	ConfigDigest string `json:"config_digest"`

	// The domain adds its own fields below (approvals, steps, gates,
	// attestations, pause origin...); the store keeps the whole struct as JSON.

	// Facts is the approved plan's digested part; PlanDigest == Facts.Digest().
	Facts PlanFacts `json:"facts"`
	// Plan is what the card shows of the plan the approvers are asked to
	// approve (nil for requests opened without one, e.g. in domain tests).
	// Set once at open and never changed, so clones share it.
	Plan *PlanSummary `json:"plan,omitempty"`
	// Done is what this request did (or its gates asked for) since Facts
	// were read; the drift rule subtracts it. Reset when Facts are replaced.
	Done Done `json:"done"`

	// Approvals is the set of approvals of the current pending round, keyed
	// by Slack user id, so a user can never count twice.
	Approvals map[string]Approval `json:"approvals,omitempty"`
	// PendingSince is the version the request had when it last went back
	// to pending (0 for the first round): a modal opened at or before it
	// belongs to an earlier round and is refused.
	PendingSince uint64 `json:"pending_since,omitempty"`
	// Interrupted is set when a drift check sent a running request back to
	// pending: the re-approval returns to that step, without proof, window
	// or expiry.
	Interrupted *Interruption `json:"interrupted,omitempty"`
	// DriftLines says, in words, why the request was last sent back to pending.
	DriftLines []string `json:"drift_lines,omitempty"`
	// RejectReason is the approver's text on reject (never rendered unescaped).
	RejectReason string `json:"reject_reason,omitempty"`
	// ProofError says why the last sign-in proof failed.
	ProofError string `json:"proof_error,omitempty"`

	// WindowEndsAt is when the abort window ends (set when the proof passes).
	WindowEndsAt time.Time `json:"window_ends_at,omitempty"`
	// ProvenKeep is the kept admin object id whose MFA sign-in the last
	// proof showed; cleared when a fresh read names another kept admin or
	// none, so the next approval needs a new proof before any write.
	ProvenKeep string `json:"proven_keep,omitempty"`
	// StateSince is the version at which the request entered its current
	// state: a button drawn before it belongs to an earlier state and is
	// refused (Retry, Resume, Restore, Purge).
	StateSince uint64 `json:"state_since,omitempty"`
	// PausedFrom is the state Resume returns to.
	PausedFrom State `json:"paused_from,omitempty"`

	// Step is the step being executed (1-5), 0 before the steps start.
	Step int `json:"step,omitempty"`
	// Steps holds the progress of steps 1-5 (index 0 is step 1).
	Steps []StepProgress `json:"steps,omitempty"`
	// Gates are the manual gates this request opened, in opening order.
	Gates []Gate `json:"gates,omitempty"`
	// Attestations records who attested which sentence of which gate.
	Attestations []Attestation `json:"attestations,omitempty"`
	// Confirmations are the step-5 point-of-no-return fresh approvals,
	// keyed by Slack user id; ConfirmSince pins their round like PendingSince.
	Confirmations map[string]Approval `json:"confirmations,omitempty"`
	ConfirmSince  uint64              `json:"confirm_since,omitempty"`

	// RestoreDeadline is 30 days after this request's first user deletion
	// (Entra keeps deleted users that long); zero if none was deleted.
	RestoreDeadline time.Time `json:"restore_deadline,omitempty"`
	// RestoreRequested and PurgeRequested record an approver's request
	// for the runner to act on.
	RestoreRequested *Click `json:"restore_requested,omitempty"`
	PurgeRequested   *Click `json:"purge_requested,omitempty"`
	// RestoredAt and PurgedAt are when the runner last carried out a
	// Restore or a Purge request.
	RestoredAt time.Time `json:"restored_at,omitempty"`
	PurgedAt   time.Time `json:"purged_at,omitempty"`
	// WriteGrantedAt is when closebot verified, from a token issued then and
	// the role assignments, that its app holds every write grant
	// (write_access just_in_time); zero in standing mode.
	WriteGrantedAt time.Time `json:"write_granted_at,omitempty"`
	// FailReason says why the current step failed.
	FailReason string `json:"fail_reason,omitempty"`
	// ClosedAt is when the gone check confirmed the tenant's deletion.
	ClosedAt time.Time `json:"closed_at,omitempty"`
}

// Approval is one approver's click (a request approval, or a step-5
// point-of-no-return confirmation), valid only under both digests it names.
type Approval struct {
	UserID       string    `json:"user_id"`
	Version      uint64    `json:"version"` // the request version the approver saw
	PlanDigest   string    `json:"plan_digest"`
	ConfigDigest string    `json:"config_digest"`
	At           time.Time `json:"at"`
	Groups       []string  `json:"groups,omitempty"` // groups that granted the approver role
}

// Interruption is where a drift check stopped a running request.
type Interruption struct {
	State State     `json:"state"` // running, gate, stuck or paused
	Step  int       `json:"step"`
	At    time.Time `json:"at"`
	// PausedFrom is what a paused request was paused from: a re-approval
	// returns it to paused, never past a person's Pause.
	PausedFrom State `json:"paused_from,omitempty"`
}

// NeedsProof reports whether the kept admin of the current plan has not
// proved a sign-in with MFA (never, or another kept admin did).
func (r *Request) NeedsProof() bool {
	return r.ProvenKeep == "" || !equalFold(r.ProvenKeep, r.Facts.KeepObjectID)
}

// Click records who asked for something and when.
type Click struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// Owner reports whether userID opened the request.
func (r *Request) Owner(userID string) bool { return userID != "" && r.Requester == userID }

// Expect returns the compare-and-set precondition matching r as read.
func (r *Request) Expect() Expect {
	return Expect{ID: r.ID, State: r.State, Version: r.Version, PlanDigest: r.PlanDigest}
}
