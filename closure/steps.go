package closure

import "time"

// NumSteps is the number of closure steps (DESIGN §4).
const NumSteps = 5

// The steps, 1-based as shown to people.
const (
	StepDeleteUsers         = 1
	StepCancelSubscriptions = 2
	StepDeleteSubscriptions = 3
	StepDisableMFA          = 4
	StepDeleteDirectory     = 5
)

// StepNames are the steps' titles, index 0 is step 1.
var StepNames = [NumSteps]string{
	"Delete users",
	"Cancel active subscriptions",
	"Delete disabled subscriptions",
	"Disable multi-factor authentication",
	"Delete the directory",
}

// StepStatus is where one step stands.
type StepStatus string

// Step statuses.
const (
	StepPending StepStatus = "pending"
	StepRunning StepStatus = "running"
	StepWaiting StepStatus = "waiting" // an open gate of this step holds it
	StepDone    StepStatus = "done"
	StepFailed  StepStatus = "failed"
)

// StepProgress is one step's progress, kept so a restart resumes where the
// step stopped.
type StepProgress struct {
	Step   int        `json:"step"`
	Status StepStatus `json:"status"`
	// Counters: objects handled, to handle, and refused by the API.
	Done    int `json:"done"`
	Total   int `json:"total"`
	Refused int `json:"refused,omitempty"`
	// Cursor is the step's checkpoint (e.g. the last object id handled).
	Cursor string `json:"cursor,omitempty"`
	// AwaitingConfirmation: step 5 waits for its point-of-no-return
	// approvals; Confirmed once they are in.
	AwaitingConfirmation bool      `json:"awaiting_confirmation,omitempty"`
	Confirmed            bool      `json:"confirmed,omitempty"`
	StartedAt            time.Time `json:"started_at,omitempty"`
	FinishedAt           time.Time `json:"finished_at,omitempty"`
	Note                 string    `json:"note,omitempty"` // result line
	// GoneCount and GoneSince count step 5's consecutive "tenant not
	// found" answers and when the first of them came.
	GoneCount int       `json:"gone_count,omitempty"`
	GoneSince time.Time `json:"gone_since,omitempty"`
}

// NewSteps returns the five steps, all pending.
func NewSteps() []StepProgress {
	s := make([]StepProgress, NumSteps)
	for i := range s {
		s[i] = StepProgress{Step: i + 1, Status: StepPending}
	}
	return s
}

// StepAt returns a pointer to step n's progress (1-based), or nil.
func (r *Request) StepAt(n int) *StepProgress {
	if n < 1 || n > len(r.Steps) {
		return nil
	}
	return &r.Steps[n-1]
}

// AwaitingConfirmation reports whether step 5 waits for its point-of-no-return approvals.
func (r *Request) AwaitingConfirmation() bool {
	s := r.StepAt(StepDeleteDirectory)
	return r.Step == StepDeleteDirectory && s != nil && s.AwaitingConfirmation
}
