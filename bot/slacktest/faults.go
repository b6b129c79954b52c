package slacktest

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Faults a long closure meets in a real workspace: Slack recycling the
// socket, rate limits that strike without a bucket running dry, and people
// deleting messages closebot posted. Each is a knob for end-to-end tests.

// rateFault answers a fraction of one method's calls with a 429.
type rateFault struct {
	rate       float64
	retryAfter int
}

// SetRateLimitFaults makes a fraction rate (0–1) of the calls to method
// answer HTTP 429 ratelimited with Retry-After retryAfter seconds, on top of
// the buckets; rate 0 turns it off. The choice is pseudo-random with a fixed
// seed, so a run's sequence of answers depends only on the call order.
func (s *Server) SetRateLimitFaults(method string, rate float64, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rate <= 0 {
		delete(s.rateFaults, method)
		return
	}
	s.rateFaults[method] = rateFault{rate: rate, retryAfter: max(1, retryAfter)}
}

// rateFault reports whether this call to method is one SetRateLimitFaults
// refuses, and the Retry-After to send. Caller holds mu.
func (s *Server) rateFaultHit(method string) (int, bool) {
	f, on := s.rateFaults[method]
	if !on || s.faultRand.Float64() >= f.rate {
		return 0, false
	}
	return f.retryAfter, true
}

// DisconnectEvery sends every live socket a `disconnect` envelope (reason
// "refresh_requested") every d of real time, as Slack does when it recycles
// its servers, until the server closes or d is 0. slack-go closes the socket
// and opens a new one through apps.connections.open.
func (s *Server) DisconnectEvery(d time.Duration) {
	s.mu.Lock()
	s.disconnectGen++
	gen := s.disconnectGen
	s.mu.Unlock()
	if d <= 0 {
		return
	}
	var tick func()
	tick = func() {
		s.mu.Lock()
		current := s.disconnectGen == gen && !s.closed
		s.mu.Unlock()
		if !current {
			return
		}
		_ = s.Disconnect("refresh_requested")
		s.mu.Lock()
		s.disconnects++
		s.mu.Unlock()
		s.afterFunc(d, tick)
	}
	s.afterFunc(d, tick)
}

// Disconnects counts the ticks of DisconnectEvery (each one sent to the
// sockets live at the time; none while the client is reconnecting).
func (s *Server) Disconnects() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.disconnects
}

// DeleteMessage deletes a message as a person (or a workspace admin) would:
// it is gone from the channel, chat.update on it answers message_not_found
// and a reply naming it as thread_ts answers thread_not_found.
func (s *Server) DeleteMessage(channel, ts string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.findMsg(channel, ts)
	if m == nil {
		return fmt.Errorf("delete %s/%s: %w", channel, ts, ErrNotFound)
	}
	m.Deleted = true
	s.notify()
	return nil
}

// faultRNG chooses which calls a fault strikes.
type faultRNG = rand.Rand

func newFaultRand() *faultRNG { return rand.New(rand.NewPCG(14, 2)) }
