package closuretest

import (
	"context"
	"sync"
	"time"

	"github.com/closebot/closebot/closure"
)

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock set to t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now implements closure.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set sets the clock.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Report is one call a Reporter received.
type Report struct {
	Kind    string // "request", "step", "gate.opened", "gate.updated", "signin", "summary", "announce"
	Request string
	State   closure.State
	Event   closure.Event
	Step    closure.StepProgress
	Gate    closure.Gate
	UserID  string
	Channel string // announce
	Message string // signin, announce
	Summary closure.Summary
}

// Reporter records every report, in order.
type Reporter struct {
	mu      sync.Mutex
	reports []Report
	// Err, if set, is returned by every call (the change stays committed).
	Err error
}

var _ closure.Reporter = (*Reporter)(nil)

func (r *Reporter) add(rep Report) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reports = append(r.reports, rep)
	return r.Err
}

// Reports returns a copy of what was reported.
func (r *Reporter) Reports() []Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Report(nil), r.reports...)
}

// RequestChanged implements closure.Reporter.
func (r *Reporter) RequestChanged(_ context.Context, req *closure.Request, ev closure.Event) error {
	return r.add(Report{Kind: "request", Request: req.ID, State: req.State, Event: ev})
}

// StepProgress implements closure.Reporter.
func (r *Reporter) StepProgress(_ context.Context, req *closure.Request, s closure.StepProgress) error {
	return r.add(Report{Kind: "step", Request: req.ID, State: req.State, Step: s})
}

// GateOpened implements closure.Reporter.
func (r *Reporter) GateOpened(_ context.Context, req *closure.Request, g closure.Gate) error {
	return r.add(Report{Kind: "gate.opened", Request: req.ID, State: req.State, Gate: g})
}

// GateUpdated implements closure.Reporter.
func (r *Reporter) GateUpdated(_ context.Context, req *closure.Request, g closure.Gate) error {
	return r.add(Report{Kind: "gate.updated", Request: req.ID, State: req.State, Gate: g})
}

// SignInCode implements closure.Reporter.
func (r *Reporter) SignInCode(_ context.Context, req *closure.Request, userID, msg string) error {
	return r.add(Report{Kind: "signin", Request: req.ID, State: req.State, UserID: userID, Message: msg})
}

// Summary implements closure.Reporter.
func (r *Reporter) Summary(_ context.Context, req *closure.Request, s closure.Summary) error {
	return r.add(Report{Kind: "summary", Request: req.ID, State: req.State, Summary: s})
}

// Announce implements closure.Reporter.
func (r *Reporter) Announce(_ context.Context, channel, text string) error {
	return r.add(Report{Kind: "announce", Channel: channel, Message: text})
}
