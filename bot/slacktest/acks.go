package slacktest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Envelope is one delivery of a Socket Mode envelope, returned by the drivers.
type Envelope struct {
	ID                     string
	Type                   string
	Payload                json.RawMessage
	AcceptsResponsePayload bool
	RetryAttempt           int
	RetryReason            string
	ResponseURL            string    // generated for slash commands and clicks
	TriggerID              string    // generated for slash commands, clicks and submissions
	connID                 int       // socket it went to; guarded by the server mutex
	sentAt                 time.Time // real time it was written; guarded by the server mutex

	srv     *Server
	kind    string // slash | block_actions | view_submission | raw
	user    string
	channel string
	viewID  string
	acked   chan struct{}
	ack     *Ack
	prev    *Envelope // the delivery this one redelivers (same envelope_id)
	missed  bool      // its deadline passed without an ack (recorded missing)
}

// earlierUnacked lists the deliveries before e of its envelope_id that no
// ack reached yet and whose deadline has not passed (those are recorded
// missing already). Caller holds the mutex.
func (e *Envelope) earlierUnacked() []*Envelope {
	var out []*Envelope
	for d := e.prev; d != nil; d = d.prev {
		if d.ack == nil && !d.missed {
			out = append(out, d)
		}
	}
	return out
}

// AckKind classifies an ack frame.
type AckKind string

// Ack kinds. Everything but AckOnTime is a protocol fault the test may assert on.
const (
	AckOnTime    AckKind = "on_time"
	AckLate      AckKind = "late"      // arrived after the deadline (3 s)
	AckMissing   AckKind = "missing"   // recorded at the deadline when nothing came
	AckUnknown   AckKind = "unknown"   // envelope_id never sent
	AckDuplicate AckKind = "duplicate" // a second ack for the same delivery
	AckMalformed AckKind = "malformed" // not {"envelope_id","payload"} JSON
)

// Ack is one recorded ack (or missing ack).
type Ack struct {
	EnvelopeID   string
	Kind         AckKind
	Payload      json.RawMessage
	ConnID       int
	RetryAttempt int
	SentAt       time.Time
	Received     time.Time
	Latency      time.Duration
}

// ErrAckTimeout is returned by WaitAck when no ack came within its timeout.
var ErrAckTimeout = errors.New("slacktest: no ack within timeout")

// ErrLateAck is returned by WaitAck when the ack came after Slack's deadline.
var ErrLateAck = errors.New("slacktest: ack after the deadline")

// WaitAck waits for this delivery's ack and returns its payload (nil when empty).
func (e *Envelope) WaitAck(timeout time.Duration) (json.RawMessage, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-e.acked:
	case <-t.C:
		return nil, fmt.Errorf("envelope %s (%s): %w", e.ID, e.kind, ErrAckTimeout)
	}
	e.srv.mu.Lock()
	a := *e.ack
	e.srv.mu.Unlock()
	if a.Kind == AckLate {
		return a.Payload, fmt.Errorf("envelope %s acked after %s: %w", e.ID, a.Latency, ErrLateAck)
	}
	return a.Payload, nil
}

// Ack returns this delivery's ack, if one arrived.
func (e *Envelope) Ack() (Ack, bool) {
	e.srv.mu.Lock()
	defer e.srv.mu.Unlock()
	if e.ack == nil {
		return Ack{}, false
	}
	return *e.ack, true
}

func (s *Server) recordAck(connID int, data []byte) {
	now := time.Now()
	var frame struct {
		EnvelopeID string          `json:"envelope_id"`
		Payload    json.RawMessage `json:"payload"`
	}
	s.mu.Lock()
	if err := json.Unmarshal(data, &frame); err != nil || frame.EnvelopeID == "" {
		s.acks = append(s.acks, Ack{Kind: AckMalformed, Payload: data, ConnID: connID, Received: now})
		s.notify()
		s.mu.Unlock()
		return
	}
	a := Ack{EnvelopeID: frame.EnvelopeID, Payload: frame.Payload, ConnID: connID, Received: now}
	e := s.envs[frame.EnvelopeID]
	var earlier []*Envelope
	switch {
	case e == nil, s.as.RejectAckOnOtherSocket && e.connID != connID:
		a.Kind = AckUnknown
	case e.ack != nil:
		a.Kind = AckDuplicate
		a.RetryAttempt, a.SentAt, a.Latency = e.RetryAttempt, e.sentAt, now.Sub(e.sentAt)
	default:
		a.RetryAttempt, a.SentAt, a.Latency = e.RetryAttempt, e.sentAt, now.Sub(e.sentAt)
		a.Kind = AckOnTime
		if a.Latency > s.opts.AckDeadline {
			a.Kind = AckLate
		}
		ack := a
		e.ack = &ack
		// Slack matches an ack by envelope_id only: it acknowledges the
		// envelope, so every earlier delivery still waiting is acked too.
		earlier = e.earlierUnacked()
		for _, d := range earlier {
			da := Ack{EnvelopeID: d.ID, Payload: frame.Payload, ConnID: connID, Received: now,
				RetryAttempt: d.RetryAttempt, SentAt: d.sentAt, Latency: now.Sub(d.sentAt), Kind: AckOnTime}
			if da.Latency > s.opts.AckDeadline {
				da.Kind = AckLate
			}
			d.ack = &da
			s.acks = append(s.acks, da)
		}
	}
	s.acks = append(s.acks, a)
	s.notify()
	s.mu.Unlock()
	if e != nil && (a.Kind == AckOnTime || a.Kind == AckLate) {
		// The ack's effect (a slash reply, a modal's errors) happens before
		// WaitAck returns, as it does before the person sees anything. A late
		// ack has none: Slack has already shown the person a timeout error.
		if a.Kind == AckOnTime {
			s.applyAck(e, frame.Payload)
		} else if len(frame.Payload) > 0 && string(frame.Payload) != "null" {
			method := e.Type + ".ack"
			if e.kind == "view_submission" {
				method = "view_submission.ack"
			}
			s.addRefusal(Refusal{Method: method, Channel: e.channel, Status: http.StatusOK,
				Error: "operation_timeout", Detail: "ack payload after the deadline is not shown"})
		}
		close(e.acked)
		for _, d := range earlier {
			close(d.acked)
		}
	}
}

// ackDeadline records a missing ack and, if configured, redelivers.
func (s *Server) ackDeadline(e *Envelope, attempt int) {
	s.mu.Lock()
	if s.closed || e.ack != nil || s.envs[e.ID] != e {
		s.mu.Unlock()
		return
	}
	e.missed = true
	s.acks = append(s.acks, Ack{EnvelopeID: e.ID, Kind: AckMissing, ConnID: e.connID,
		RetryAttempt: attempt, SentAt: e.sentAt, Received: time.Now()})
	s.notify()
	redeliver := s.as.RedeliverUnacked && attempt < s.as.MaxRetries
	s.mu.Unlock()
	if redeliver {
		_, _ = s.Redeliver(e, "timeout")
	}
}

// applyAck gives an ack payload the effect Slack gives it.
func (s *Server) applyAck(e *Envelope, payload json.RawMessage) {
	switch e.kind {
	case "slash":
		s.slashAckReply(e, payload)
	case "view_submission":
		s.viewSubmissionAck(e, payload)
	}
}

// slashAckReply posts a non-empty slash-command ack payload as the immediate reply:
// ephemeral by default, in the channel with response_type in_channel.
func (s *Server) slashAckReply(e *Envelope, payload json.RawMessage) {
	if len(payload) == 0 || string(payload) == "null" {
		return
	}
	var m msgBody
	if err := json.Unmarshal(payload, &m); err != nil || (m.Text == "" && len(m.Blocks) == 0) {
		return
	}
	if len(m.Blocks) > 0 {
		blocks, le := s.blocksParam(string(m.Blocks))
		if le != nil {
			s.addRefusal(Refusal{Method: "slash_commands.ack", Channel: e.channel, Status: 200, Error: le.err, Detail: le.detail})
			return
		}
		m.Blocks = blocks
	}
	s.postFromResponse(e.channel, e.user, "", "ack", m)
}

// Delivery returns the socket id and the real time this delivery was written
// (zero while it waits for a socket).
func (e *Envelope) Delivery() (connID int, sentAt time.Time) {
	e.srv.mu.Lock()
	defer e.srv.mu.Unlock()
	return e.connID, e.sentAt
}
