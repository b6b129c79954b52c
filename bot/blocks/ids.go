package blocks

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/closebot/closebot/closure"
)

// Action ids: stable, so the bot routes clicks on them (slack-go's
// SocketmodeHandler.HandleInteractionBlockAction matches them exactly).
const (
	ActionApprove = "approve" // card: opens the approval modal
	ActionReject  = "reject"
	ActionCancel  = "cancel"
	ActionPause   = "pause"
	ActionResume  = "resume"
	ActionAbort   = "abort"
	ActionRetry   = "retry"
	ActionRestore = "restore"
	// ActionConfirmStep5 is step 5's point-of-no-return Approve button.
	ActionConfirmStep5 = "confirm_step5"
	ActionPurge        = "purge_deleted"
	ActionRecheck      = "recheck"
	ActionAttest       = "attest"
)

// actionOf maps each button's action id to the domain action it asks for.
var actionOf = map[string]closure.Action{
	ActionApprove: closure.ActApprove, ActionReject: closure.ActReject, ActionCancel: closure.ActCancel,
	ActionPause: closure.ActPause, ActionResume: closure.ActResume, ActionAbort: closure.ActAbort,
	ActionRetry: closure.ActRetry, ActionRestore: closure.ActRestore, ActionConfirmStep5: closure.ActConfirm,
	ActionPurge: closure.ActPurge, ActionRecheck: closure.ActRecheck, ActionAttest: closure.ActAttest,
}

// ActionOf returns the domain action a button's action id asks for.
func ActionOf(actionID string) (closure.Action, bool) {
	a, ok := actionOf[actionID]
	return a, ok
}

// Block ids: stable, so clicks always carry a known block_id and edits keep
// Slack's block state.
const (
	BlockCardHeader   = "card_header"
	BlockCardFacts    = "card_facts"
	BlockCardReason   = "card_reason"
	BlockCardState    = "card_state"
	BlockCardPlan     = "card_plan"
	BlockCardTop      = "card_top_" // + group index
	BlockCardWarnings = "card_warnings"
	BlockCardDrift    = "card_drift"
	BlockCardPeople   = "card_people"
	BlockCardActions  = "card_actions"
	BlockCardFooter   = "card_footer"

	BlockStepStatus  = "step_status"
	BlockStepConfirm = "step_confirm"
	BlockStepActions = "step_actions"
	BlockStepAudit   = "step_audit"

	BlockGateTitle   = "gate_title"
	BlockGateWho     = "gate_who"
	BlockGateSteps   = "gate_steps"
	BlockGateETA     = "gate_eta"
	BlockGateAttest  = "gate_attest" // attestations made so far
	BlockGateStuck   = "gate_stuck"
	BlockGateActions = "gate_actions"
	BlockGateAudit   = "gate_audit"

	// Approval modal inputs; ValidateApproval keys its errors by them.
	BlockModalIntro  = "approve_intro"
	BlockModalReason = "approve_reason"
	BlockModalDomain = "approve_domain"
	BlockModalUsers  = "approve_users"
	BlockModalItems  = "approve_items_" // + chunk index (10 checkboxes each)

	ActionModalDomain = "domain"
	ActionModalUsers  = "users"
	ActionModalItems  = "items"
)

// CallbackApproval is the approval modal's callback_id.
const CallbackApproval = "approve_closure"

// Value is what a button carries: the request and the version it was drawn
// at, and for gate buttons the gate and the attested sentence. The bot
// re-checks all of it against the stored request; it is never trusted.
type Value struct {
	Request  string
	Version  uint64
	Gate     string // gate buttons
	Sentence string // attestation buttons: a closure.Sentences id
}

// String encodes v as "request|version[|gate[|sentence]]"; gate and
// sentence are query-escaped so they can hold no separator.
func (v Value) String() string {
	s := v.Request + "|" + strconv.FormatUint(v.Version, 10)
	if v.Gate != "" || v.Sentence != "" {
		s += "|" + url.QueryEscape(v.Gate)
	}
	if v.Sentence != "" {
		s += "|" + url.QueryEscape(v.Sentence)
	}
	return s
}

// ErrBadValue is returned for a button value or modal metadata this
// package did not produce.
var ErrBadValue = errors.New("blocks: malformed value")

// ParseValue decodes a button value.
func ParseValue(s string) (Value, error) {
	parts := strings.Split(s, "|")
	if len(parts) < 2 || len(parts) > 4 || !requestPattern.MatchString(parts[0]) {
		return Value{}, fmt.Errorf("%w: %q", ErrBadValue, clip(s, 64))
	}
	ver, err := strconv.ParseUint(parts[1], 10, 64)
	if err != nil {
		return Value{}, fmt.Errorf("%w: version: %w", ErrBadValue, err)
	}
	v := Value{Request: parts[0], Version: ver}
	if len(parts) > 2 {
		if v.Gate, err = url.QueryUnescape(parts[2]); err != nil {
			return Value{}, fmt.Errorf("%w: gate: %w", ErrBadValue, err)
		}
	}
	if len(parts) > 3 {
		if v.Sentence, err = url.QueryUnescape(parts[3]); err != nil {
			return Value{}, fmt.Errorf("%w: sentence: %w", ErrBadValue, err)
		}
	}
	return v, nil
}

// Metadata is the approval modal's private_metadata: the request, the
// version and the plan digest the approver saw (DESIGN §3).
type Metadata struct {
	Request string
	Version uint64
	Digest  string
}

// String encodes m as "request|version|digest".
func (m Metadata) String() string {
	return m.Request + "|" + strconv.FormatUint(m.Version, 10) + "|" + m.Digest
}

// ParseMetadata decodes a modal's private_metadata.
func ParseMetadata(s string) (Metadata, error) {
	parts := strings.Split(s, "|")
	if len(parts) != 3 || !requestPattern.MatchString(parts[0]) || !hexPattern.MatchString(parts[2]) || len(parts[2]) > 128 {
		return Metadata{}, fmt.Errorf("%w: metadata %q", ErrBadValue, clip(s, 64))
	}
	ver, err := strconv.ParseUint(parts[1], 10, 64)
	if err != nil {
		return Metadata{}, fmt.Errorf("%w: version: %w", ErrBadValue, err)
	}
	return Metadata{Request: parts[0], Version: ver, Digest: parts[2]}, nil
}
