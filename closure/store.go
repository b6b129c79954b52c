package closure

import (
	"context"
	"errors"
)

// Store persists requests, tenant locks and the audit chain. Every method that
// changes a request commits the change and its audit event in one transaction
// before it returns, so nothing is announced that is not on disk.
type Store interface {
	// Create assigns the next id (CT-n) to req, takes its tenant's lock and
	// stores req with its opening event. ErrTenantLocked if another open
	// request holds the tenant (the error names it).
	Create(ctx context.Context, req *Request, ev Event) (*Request, Event, error)
	// Get returns a request by id; ErrNotFound if there is none.
	Get(ctx context.Context, id string) (*Request, error)
	// List returns requests, newest first; open=true keeps only those holding a lock.
	List(ctx context.Context, open bool, limit int) ([]*Request, error)
	// Update replaces a request if the stored one still has the expected
	// state, version and plan digest (compare-and-set), bumps Version, appends
	// ev, and releases the tenant lock when next no longer holds it.
	// ErrConflict if the stored request moved on.
	Update(ctx context.Context, expect Expect, next *Request, ev Event) (*Request, Event, error)
	// Append adds an audit event that changes no state (a step's progress, an
	// attestation recorded by Update is preferred when state changes).
	Append(ctx context.Context, ev Event) (Event, error)
	// AppendMany is Append for several events of one request in one
	// transaction, in order (group commit: the intents of a batch of
	// writes, recorded before any of them is sent). None is stored if one
	// fails.
	AppendMany(ctx context.Context, evs []Event) ([]Event, error)
	// UpdateMany is Update with several events in one transaction (group
	// commit: the completions of a batch of answered writes). Version
	// moves by one and every event carries it; From/To are filled on each
	// as Update does.
	UpdateMany(ctx context.Context, expect Expect, next *Request, evs []Event) (*Request, []Event, error)
	// Events returns a request's audit chain in order.
	Events(ctx context.Context, id string) ([]Event, error)
	// VerifyChain checks a request's stored record and audit chain. DESIGN
	// §7: the runner verifies it before every resume and before an
	// irreversible purge, so it is part of the port: a store that cannot
	// verify would silently skip that check. It returns an error wrapping
	// ErrTampered, naming the first bad event, when the chain or the
	// record does not verify; ErrNotFound if there is no such request.
	VerifyChain(ctx context.Context, id string) error
}

// Expect is what a compare-and-set requires of the stored request.
type Expect struct {
	ID         string
	State      State
	Version    uint64
	PlanDigest string
}

// Store errors; adapters wrap them with %w.
var (
	ErrNotFound     = errors.New("no such request")
	ErrConflict     = errors.New("request changed meanwhile")
	ErrTenantLocked = errors.New("tenant already has an open request")
	// ErrTampered: stored audit data (a request record or its chain) does
	// not verify against the audit key. Work on that request stops.
	ErrTampered = errors.New("audit data does not verify")
)
