package graphtest

import (
	"sync"
	"time"
)

// Clock tells the emulator's time. Everything time-dependent in the emulator
// (token expiry, throttling buckets, lifecycle dates) reads it, so a benchmark
// or the demo can run time-scaled and a test can step it by hand.
type Clock interface {
	Now() time.Time
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// ScaledClock runs Scale times faster than the wall clock from Epoch. Two
// processes given the same epoch, scale and start instant derive the same
// time, which is how `closebot emulate --epoch` shares its clock.
type ScaledClock struct {
	Epoch time.Time // emulated time at Start
	Start time.Time // wall time the emulated Epoch corresponds to
	Scale float64   // emulated seconds per wall second; 0 or 1 means real speed
}

// Now maps the wall clock onto emulated time.
func (c ScaledClock) Now() time.Time {
	scale := c.Scale
	if scale <= 0 {
		scale = 1
	}
	wall := time.Since(c.Start)
	return c.Epoch.Add(time.Duration(float64(wall) * scale))
}

// ManualClock moves only when told to; for deterministic tests.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock starts at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{now: t} }

// Now returns the current manual time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
