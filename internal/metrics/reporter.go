package metrics

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/closebot/closebot/closure"
)

// Reporter decorates the closure.Reporter the executor reports through:
// when an event ends a step (step.done, step.failed, closed), the step that
// just finished is observed once, with its duration on closebot's clock.
type Reporter struct {
	closure.Reporter
	m     *Metrics
	since time.Time // steps that finished before are a previous process's
	mu    sync.Mutex
	seen  map[string]bool // request/step already observed by this process
}

// WrapReporter returns r with step metrics; since is the process's start
// on closebot's clock (a step that finished before it was observed then).
func (m *Metrics) WrapReporter(r closure.Reporter, since time.Time) *Reporter {
	return &Reporter{Reporter: r, m: m, since: since, seen: map[string]bool{}}
}

// RequestChanged observes the finished step, then reports as before.
func (r *Reporter) RequestChanged(ctx context.Context, req *closure.Request, ev closure.Event) error {
	switch ev.Action {
	case closure.EvStepDone, closure.EvStepFailed, closure.EvClosed:
		r.observe(req)
	}
	return r.Reporter.RequestChanged(ctx, req, ev)
}

// observe records every finished step of req not yet observed since this
// process started: the event names no step.
func (r *Reporter) observe(req *closure.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range req.Steps {
		if s.FinishedAt.Before(r.since) || s.FinishedAt.IsZero() || (s.Status != closure.StepDone && s.Status != closure.StepFailed) {
			continue
		}
		key := req.ID + "/" + strconv.Itoa(s.Step) + "/" + string(s.Status)
		if r.seen[key] {
			continue
		}
		r.seen[key] = true
		d := s.FinishedAt.Sub(s.StartedAt)
		if s.StartedAt.IsZero() || d < 0 {
			d = 0
		}
		r.m.ObserveStep(s.Step, string(s.Status), d)
	}
}
