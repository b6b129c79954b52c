package slacktest

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"time"
)

// ErrWaitTimeout is returned by the wait helpers.
var ErrWaitTimeout = errors.New("slacktest: condition not met before timeout")

// Messages returns the channel's visible top-level messages and broadcast replies.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.msgs[channel] {
		if !m.Deleted && (m.ThreadTS == "" || m.ReplyBroadcast) {
			out = append(out, *m)
		}
	}
	return out
}

// Thread returns the parent message followed by its live replies.
func (s *Server) Thread(channel, ts string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.msgs[channel] {
		if !m.Deleted && (m.TS == ts || m.ThreadTS == ts) {
			out = append(out, *m)
		}
	}
	return out
}

// Message returns one message, deleted ones included (Deleted is set).
func (s *Server) Message(channel, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.msgs[channel] {
		if m.TS == ts {
			return *m, true
		}
	}
	return Message{}, false
}

// Ephemerals returns live ephemeral messages for a user id or in a channel id.
func (s *Server) Ephemerals(userOrChannel string) []Ephemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Ephemeral
	for _, e := range s.ephemerals {
		if !e.Deleted && (e.User == userOrChannel || e.Channel == userOrChannel) {
			out = append(out, *e)
		}
	}
	return out
}

// DMChannel returns the D… id of the user's App Home DM, if the bot opened it.
func (s *Server) DMChannel(user string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, found := s.dms[user]
	return d, found
}

// DMs returns the messages in the user's App Home DM, replies included.
func (s *Server) DMs(user string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.msgs[s.dms[user]] {
		if !m.Deleted {
			out = append(out, *m)
		}
	}
	return out
}

func copyView(v *View) View {
	c := *v
	c.Errors = maps.Clone(v.Errors)
	c.obj = nil
	return c
}

// Views returns every modal in the order they were opened.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]View, 0, len(s.viewOrder))
	for _, id := range s.viewOrder {
		out = append(out, copyView(s.views[id]))
	}
	return out
}

// View returns one modal.
func (s *Server) View(id string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.views[id]
	if v == nil {
		return View{}, false
	}
	return copyView(v), true
}

// Acks returns every recorded ack, including late, missing, unknown and duplicate ones.
func (s *Server) Acks() []Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Ack(nil), s.acks...)
}

// Calls returns the request log for method ("" for all).
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Refusals returns every limit, rate or injected refusal.
func (s *Server) Refusals() []Refusal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Refusal(nil), s.refusals...)
}

// Files returns uploaded files in upload order.
func (s *Server) Files() []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]File, 0, len(s.fileOrder))
	for _, id := range s.fileOrder {
		out = append(out, *s.files[id])
	}
	return out
}

// Stats are counters for `closebot emulate`'s /emulator/stats.
type Stats struct {
	Calls             map[string]int `json:"calls"`
	Refusals          int            `json:"refusals"`
	Acks              map[string]int `json:"acks"`
	Connections       int            `json:"connections"`
	ConnectionsOpened int            `json:"connections_opened"`
	PendingEnvelopes  int            `json:"pending_envelopes"`
	Pongs             int            `json:"pongs"`
}

// Stats returns current counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Calls: map[string]int{}, Acks: map[string]int{}, Refusals: len(s.refusals),
		Connections: len(s.conns), ConnectionsOpened: s.opens, PendingEnvelopes: len(s.pending), Pongs: s.pongs}
	for _, c := range s.calls {
		st.Calls[c.Method]++
	}
	for _, a := range s.acks {
		st.Acks[string(a.Kind)]++
	}
	return st
}

// WaitFor blocks until pred returns true or timeout passes. pred runs without the
// server lock held, so it may call the query methods.
func (s *Server) WaitFor(timeout time.Duration, pred func() bool) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if pred() {
			return nil
		}
		select {
		case <-ch:
		case <-deadline.C:
			if pred() {
				return nil
			}
			return ErrWaitTimeout
		}
	}
}

// WaitMessage waits for a live message in channel (threads included) matching pred.
func (s *Server) WaitMessage(channel string, timeout time.Duration, pred func(Message) bool) (Message, error) {
	var found Message
	err := s.WaitFor(timeout, func() bool {
		s.mu.Lock()
		msgs := make([]Message, 0, len(s.msgs[channel]))
		for _, m := range s.msgs[channel] {
			msgs = append(msgs, *m)
		}
		s.mu.Unlock()
		for _, m := range msgs {
			if !m.Deleted && (pred == nil || pred(m)) {
				found = m
				return true
			}
		}
		return false
	})
	if err != nil {
		return Message{}, fmt.Errorf("wait message in %s: %w", channel, err)
	}
	return found, nil
}

// WaitConnections waits until n sockets have said hello.
func (s *Server) WaitConnections(n int, timeout time.Duration) error {
	return s.WaitFor(timeout, func() bool { return s.Connections() >= n })
}

// Connections returns the number of live sockets that received hello.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.conns {
		if c.ready {
			n++
		}
	}
	return n
}

// ConnectionsOpened counts successful apps.connections.open calls.
func (s *Server) ConnectionsOpened() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opens
}

// Pongs counts PONG frames received for the server's PINGs.
func (s *Server) Pongs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pongs
}

// handleStats serves Stats and the request log as JSON at /emulator/stats,
// for `closebot emulate` and anything watching it from another process.
func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) {
	body := struct {
		Stats
		Calls []Call `json:"requests"`
	}{Stats: s.Stats(), Calls: s.Calls("")}
	for i := range body.Calls { // tokens stay out of the log others can read
		body.Calls[i].Token = ""
		if body.Calls[i].Params.Has("token") {
			p := maps.Clone(body.Calls[i].Params)
			p.Set("token", "[redacted]")
			body.Calls[i].Params = p
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}
