package closure

import (
	"context"
	"time"
)

// Waker wakes the executor after a decision: Wake starts (or wakes) the
// Run of a request that became runnable (approved, resumed, retried,
// restore asked); Poke wakes a waiting Run at once (a pause, an abort, a
// confirmation, a purge, an attestation, a Re-check).
type Waker interface {
	Wake(id string)
	Poke(id string)
}

// Planner is the executor's read side, the I/O the use cases need: a
// tenant's plan (preflight) and the re-read of a request sent back for
// approval before its approval modal opens.
type Planner interface {
	Plan(ctx context.Context, tenant string) (*Plan, error)
	PrepareApproval(ctx context.Context, id string) (*Request, error)
}

// Reporter is what the runner tells the people (the bot implements it in
// Slack). Every call happens after the change it reports is committed, so
// nothing is announced that is not on disk; a Reporter error is logged and
// retried by the adapter, never undoes the change.
type Reporter interface {
	// RequestChanged: the request moved (state, approvals, attestation...);
	// ev is the committed audit event (with Seq and MAC).
	RequestChanged(ctx context.Context, req *Request, ev Event) error
	// StepProgress: a step's counters or result line changed.
	StepProgress(ctx context.Context, req *Request, step StepProgress) error
	// GateOpened / GateUpdated: a manual gate opened, or its ETA, progress,
	// attestations or satisfaction changed.
	GateOpened(ctx context.Context, req *Request, g Gate) error
	GateUpdated(ctx context.Context, req *Request, g Gate) error
	// SignInCode: deliver the kept admin's device-code sign-in message to
	// their Slack user (DM).
	SignInCode(ctx context.Context, req *Request, userID, message string) error
	// Summary: the tenant is gone; post the summary and edit the card to "Closed".
	Summary(ctx context.Context, req *Request, s Summary) error
	// Announce posts a plain notice in a channel: the runner uses it to say
	// that a request's audit data does not verify and work on it stopped
	// (DESIGN §7), which people must hear, not only the log.
	Announce(ctx context.Context, channel, text string) error
}

// Summary is what is posted when a closure ends.
type Summary struct {
	Request       string                  `json:"request"`
	Tenant        string                  `json:"tenant"`
	Requester     string                  `json:"requester"`
	Approvers     []string                `json:"approvers"`
	Confirmers    []string                `json:"confirmers,omitempty"`
	Attestations  []Attestation           `json:"attestations,omitempty"`
	Opened        time.Time               `json:"opened"`
	Closed        time.Time               `json:"closed"`
	Duration      time.Duration           `json:"duration"`
	StepDurations [NumSteps]time.Duration `json:"step_durations"`
	StepCounts    [NumSteps]int           `json:"step_counts"`
	// ChainHead is the last audit event (its Seq and MAC are shown so the
	// Slack record pins the chain).
	ChainHead Event `json:"chain_head"`
}

// Summarise builds a closed request's summary; head is its last audit event.
func Summarise(req *Request, head Event) Summary {
	s := Summary{
		Request: req.ID, Tenant: req.TenantDomain, Requester: req.Requester,
		Approvers: sortedKeys(req.Approvals), Confirmers: sortedKeys(req.Confirmations),
		Attestations: req.Attestations, Opened: req.CreatedAt, Closed: req.ClosedAt, ChainHead: head,
	}
	if !req.ClosedAt.IsZero() {
		s.Duration = req.ClosedAt.Sub(req.CreatedAt)
	}
	for i, st := range req.Steps {
		if i >= NumSteps {
			break
		}
		s.StepCounts[i] = st.Done
		if !st.StartedAt.IsZero() && !st.FinishedAt.IsZero() {
			s.StepDurations[i] = st.FinishedAt.Sub(st.StartedAt)
		}
	}
	return s
}
