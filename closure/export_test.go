package closure

import "context"

// Internals the closure_test package checks directly.

// CommitErr is Runner.commitErr.
func (r *Runner) CommitErr() func(ctx context.Context, id string, f func(System, *Request) (*Request, Event, error)) error {
	return r.commitErr
}

// ErrStopped is errStopped.
var ErrStopped = errStopped
