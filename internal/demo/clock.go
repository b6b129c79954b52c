package demo

import (
	"sync"
	"time"
)

// Clock is emulated time for `closebot demo` and the end-to-end tests:
// it runs Scale times faster than the wall clock, and FastForward skips the
// long waits (an abort window, 72 hours of deprovisioning) in an instant.
// The emulators, the domain and the runner all read it, so a wait the
// runner schedules ends when emulated time gets there, however it got there.
type Clock struct {
	mu      sync.Mutex
	epoch   time.Time // emulated time at start
	start   time.Time // wall time at start
	scale   float64
	skipped time.Duration
	waiters []clockWaiter
	wake    chan struct{}
	stop    chan struct{}
}

type clockWaiter struct {
	at time.Time
	ch chan time.Time
}

// NewClock starts a clock at emulated time epoch, running scale emulated
// seconds per wall second; Close stops it.
func NewClock(epoch time.Time, scale float64) *Clock {
	c := &Clock{epoch: epoch, start: time.Now(), scale: scale, wake: make(chan struct{}, 1), stop: make(chan struct{})}
	go c.loop()
	return c
}

// NewSharedClock is the clock `closebot emulate --epoch E --time-scale S`
// and `closebot run --emulated-clock E,S` derive, emulated = E + (wall − E)·S,
// plus whatever FastForward skipped: two processes that skip the same total
// share the time (the SIGKILL tests skip a child closebot's clock through
// a file, see cmd/closebot's --emulated-clock).
func NewSharedClock(epoch time.Time, scale float64) *Clock {
	c := &Clock{epoch: epoch, start: epoch, scale: scale, wake: make(chan struct{}, 1), stop: make(chan struct{})}
	go c.loop()
	return c
}

// Skipped is the total FastForward has skipped.
func (c *Clock) Skipped() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.skipped
}

// Now is the emulated time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *Clock) nowLocked() time.Time {
	return c.epoch.Add(time.Duration(float64(time.Since(c.start))*c.scale) + c.skipped)
}

// FastForward moves emulated time on by d at once.
func (c *Clock) FastForward(d time.Duration) {
	c.mu.Lock()
	c.skipped += d
	c.mu.Unlock()
	c.poke()
}

// After fires when emulated time has moved on by d (run.Runner.After).
func (c *Clock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	c.waiters = append(c.waiters, clockWaiter{at: c.nowLocked().Add(d), ch: ch})
	c.mu.Unlock()
	c.poke()
	return ch
}

// Close stops the clock's timer goroutine.
func (c *Clock) Close() { close(c.stop) }

func (c *Clock) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// loop fires due waiters, sleeping until the next one is due in wall time.
func (c *Clock) loop() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		c.mu.Lock()
		now := c.nowLocked()
		next := time.Duration(-1)
		kept := c.waiters[:0]
		for _, w := range c.waiters {
			if !w.at.After(now) {
				w.ch <- now
				continue
			}
			kept = append(kept, w)
			if wall := time.Duration(float64(w.at.Sub(now)) / c.scale); next < 0 || wall < next {
				next = wall
			}
		}
		c.waiters = kept
		c.mu.Unlock()
		if next < 0 {
			next = time.Hour
		}
		timer.Reset(next + time.Millisecond)
		select {
		case <-c.stop:
			return
		case <-c.wake:
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}
