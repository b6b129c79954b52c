package bot

import (
	"context"

	"github.com/closebot/closebot/bot/outbound"
	"github.com/closebot/closebot/closure"
)

// Domain is what the bot calls on the domain: the use cases behind every
// command, button and form (*closure.Service implements it). The bot
// checks the envelope, the actor and where a click came from, calls one
// of these, and turns what comes back into words; the rules (who may act,
// staleness, what counts) are the domain's.
type Domain interface {
	// Lookup reads a request to check an inbound click or form against it.
	Lookup(ctx context.Context, id string) (*closure.Request, error)
	Get(ctx context.Context, a closure.Actor, id string) (*closure.Request, error)
	List(ctx context.Context, a closure.Actor, open bool, limit int) ([]*closure.Request, error)
	// Check is the pre-check before a modal opens (act on req, drawn at seen).
	Check(a closure.Actor, act closure.Action, req *closure.Request, seen uint64) error

	OpenTenant(ctx context.Context, a closure.Actor, in closure.OpenCommand, reading func()) (*closure.Request, *closure.Plan, error)
	PlanFor(ctx context.Context, a closure.Actor, tenantID string) (*closure.Plan, error)
	PrepareApproval(ctx context.Context, id string) (*closure.Request, error)

	Approve(ctx context.Context, a closure.Actor, id string, in closure.ApproveInput) (*closure.Request, closure.Event, error)
	Reject(ctx context.Context, a closure.Actor, id string, in closure.RejectInput) (*closure.Request, closure.Event, error)
	Cancel(ctx context.Context, a closure.Actor, id string) (*closure.Request, closure.Event, error)
	Pause(ctx context.Context, a closure.Actor, id string) (*closure.Request, closure.Event, error)
	Abort(ctx context.Context, a closure.Actor, id string) (*closure.Request, closure.Event, error)
	Resume(ctx context.Context, a closure.Actor, id string, seen uint64) (*closure.Request, closure.Event, error)
	Retry(ctx context.Context, a closure.Actor, id string, seen uint64) (*closure.Request, closure.Event, error)
	Confirm(ctx context.Context, a closure.Actor, id string, version uint64) (*closure.Request, closure.Event, error)
	Purge(ctx context.Context, a closure.Actor, id string, seen uint64) (*closure.Request, closure.Event, error)
	Restore(ctx context.Context, a closure.Actor, id string, seen uint64) (*closure.Request, closure.Event, error)
	Attest(ctx context.Context, a closure.Actor, id, gateID, sentence string) (*closure.Request, closure.Event, error)
	Recheck(ctx context.Context, a closure.Actor, id, gateID string) (closure.Event, error)

	ExpireDue(ctx context.Context) ([]*closure.Request, error)
	MarkStuckDue(ctx context.Context) ([]*closure.Request, error)
}

// Executor runs requests (*run.Runner implements it): the bot resumes
// the open ones when it starts and waits for them when it stops; after a
// decision the Service wakes it (closure.Waker).
type Executor interface {
	ResumeAll(ctx context.Context) ([]string, error)
	WaitRuns()
}

// Outbound is the outbound side the bot starts and asks to post
// (*outbound.Reporter implements it).
type Outbound interface {
	Run(ctx context.Context) error
	PostPlan(ctx context.Context, req *closure.Request, plan *closure.Plan) error
	AnnounceAll(channels []string, text string)
	// NewReminders builds the daily gate reminders over meta.
	NewReminders(meta outbound.MetaStore) *outbound.Reminders
}

var (
	_ Domain   = (*closure.Service)(nil)
	_ Outbound = (*outbound.Reporter)(nil)
)
