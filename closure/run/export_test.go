package run

import (
	"context"

	"github.com/closebot/closebot/closure"
)

// Internals the run_test package checks directly.

// CommitErr is Runner.commitErr.
func (r *Runner) CommitErr() func(ctx context.Context, id string, f func(closure.System, *closure.Request) (*closure.Request, closure.Event, error)) error {
	return r.commitErr
}

// ErrStopped is errStopped.
var ErrStopped = errStopped
