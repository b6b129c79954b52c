package slacktest

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// The client sends Origin https://api.slack.com; gorilla's default check refuses it.
var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

type conn struct {
	id      int
	ws      *websocket.Conn
	wmu     sync.Mutex // gorilla allows one writer at a time
	done    chan struct{}
	once    sync.Once
	ready   bool // hello written; guarded by Server.mu
	leaving bool // disconnect sent; no more envelopes; guarded by Server.mu
	retired bool // counted in Server.retired; guarded by Server.mu
}

func (c *conn) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// closed reports whether the server closed the socket (or saw it end).
func (c *conn) closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *conn) close() {
	c.once.Do(func() {
		close(c.done)
		_ = c.ws.Close()
	})
}

// handleConnectionsOpen answers apps.connections.open with a single-use ticket URL.
func (s *Server) handleConnectionsOpen(r *apiRequest) apiResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	ticket := randHex(8)
	s.tickets[ticket] = true
	s.opens++
	s.notify()
	u := "ws" + strings.TrimPrefix(s.hs.URL, "http") + "/link/?ticket=" + ticket + "&app_id=" + s.opts.AppID
	return ok(map[string]any{"url": u})
}

// handleLink is the Socket Mode websocket. Unknown query parameters (debug_reconnects)
// are ignored; the ticket must come from apps.connections.open and is single use.
func (s *Server) handleLink(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	valid := s.tickets[ticket]
	delete(s.tickets, ticket)
	s.mu.Unlock()
	call := Call{Method: "link", Path: r.URL.Path, HTTPMethod: r.Method, Time: time.Now(), Params: r.URL.Query(), Status: http.StatusSwitchingProtocols}
	if !valid {
		call.Status = http.StatusUnauthorized
		s.record(call)
		http.Error(w, "invalid ticket", http.StatusUnauthorized)
		return
	}
	s.record(call)
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.Close()
		return
	}
	s.connSeq++
	c := &conn{id: s.connSeq, ws: ws, done: make(chan struct{})}
	s.conns[c.id] = c
	n := s.helloCount()
	s.notify()
	s.mu.Unlock()
	ws.SetPongHandler(func(string) error {
		s.mu.Lock()
		s.pongs++
		s.notify()
		s.mu.Unlock()
		return nil
	})
	go s.readLoop(c)
	go s.pingLoop(c)

	hello := map[string]any{
		"type": "hello", "num_connections": n,
		"connection_info": map[string]any{"app_id": s.opts.AppID},
		"debug_info":      map[string]any{"host": "applink-emulator", "build_number": 1, "approximate_connection_time": 18060},
	}
	if err := c.write(hello); err != nil {
		c.close()
		return
	}
	s.mu.Lock()
	c.ready = true
	pending := s.pending
	s.pending = nil
	s.notify()
	s.mu.Unlock()
	for _, e := range pending {
		s.deliverTo(c, e)
	}
}

// helloCount is num_connections for a new socket's hello: the live sockets that were
// not told to leave, the new one included. A socket the client has closed or that was
// sent disconnect is not counted unless Assumptions.HelloCountsRetiredSocket, which
// counts each retired socket in the next hello only. Caller holds mu.
func (s *Server) helloCount() int {
	if s.forcedNum > 0 {
		return s.forcedNum
	}
	n := 0
	for _, c := range s.conns {
		if !c.leaving && !c.closed() {
			n++
		}
	}
	if s.as.HelloCountsRetiredSocket {
		n += s.retired
	}
	s.retired = 0
	return n
}

// retire notes that socket c is gone or going, once. Caller holds mu.
func (s *Server) retire(c *conn) {
	if !c.retired {
		c.retired = true
		s.retired++
	}
}

func (s *Server) pingLoop(c *conn) {
	t := time.NewTicker(s.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			if err := c.ws.WriteControl(websocket.PingMessage, []byte("emulator"), time.Now().Add(5*time.Second)); err != nil {
				c.close()
				return
			}
		}
	}
}

func (s *Server) readLoop(c *conn) {
	defer func() {
		c.close()
		s.mu.Lock()
		delete(s.conns, c.id)
		s.retire(c)
		s.notify()
		s.mu.Unlock()
	}()
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		s.recordAck(c.id, data)
	}
}

// ForceNumConnections makes every later hello report n connections (0: the real count).
func (s *Server) ForceNumConnections(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forcedNum = n
}

// Disconnect sends {"type":"disconnect","reason":reason} on every live socket. The
// slack-go client then closes the socket and calls apps.connections.open again.
func (s *Server) Disconnect(reason string) error {
	s.mu.Lock()
	var cs []*conn
	for _, c := range s.conns {
		if !c.leaving && !c.closed() {
			c.leaving = true
			s.retire(c)
			cs = append(cs, c)
		}
	}
	s.mu.Unlock()
	var firstErr error
	for _, c := range cs {
		err := c.write(map[string]any{"type": "disconnect", "reason": reason,
			"debug_info": map[string]any{"host": "applink-emulator"}})
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// DropConnections closes every socket without a disconnect frame (a network failure).
func (s *Server) DropConnections() {
	s.mu.Lock()
	var cs []*conn
	for _, c := range s.conns {
		s.retire(c)
		cs = append(cs, c)
	}
	s.mu.Unlock()
	for _, c := range cs {
		c.close()
	}
}

// deliver sends e to one ready socket (round robin by id), or queues it until a
// socket says hello.
func (s *Server) deliver(e *Envelope) {
	s.mu.Lock()
	s.envs[e.ID] = e
	var ids []int
	for id, c := range s.conns {
		if c.ready && !c.leaving && !c.closed() {
			ids = append(ids, id)
		}
	}
	sort.Ints(ids)
	var target *conn
	if len(ids) > 0 {
		// Round robin over ready sockets: Slack hands each payload to one of them.
		pick := ids[0]
		for _, id := range ids {
			if id > s.rrLast {
				pick = id
				break
			}
		}
		s.rrLast = pick
		target = s.conns[pick]
	}
	if target == nil {
		s.pending = append(s.pending, e)
		s.notify()
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.deliverTo(target, e)
}

func (s *Server) deliverTo(c *conn, e *Envelope) {
	frame := map[string]any{
		"envelope_id": e.ID, "type": e.Type, "payload": e.Payload,
		"accepts_response_payload": e.AcceptsResponsePayload,
		"retry_attempt":            e.RetryAttempt, "retry_reason": e.RetryReason,
	}
	s.mu.Lock()
	e.connID = c.id
	e.sentAt = time.Now()
	s.notify()
	s.mu.Unlock()
	if err := c.write(frame); err != nil {
		// The socket died under us; Slack would retry on another one.
		c.close()
		s.mu.Lock()
		delete(s.conns, c.id)
		s.retire(c)
		s.mu.Unlock()
		s.deliver(e)
		return
	}
	attempt := e.RetryAttempt
	s.afterFunc(s.opts.AckDeadline, func() { s.ackDeadline(e, attempt) })
}
