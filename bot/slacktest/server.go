// Package slacktest is an in-process emulator of the parts of Slack that closebot uses:
// the Socket Mode websocket, the Web API methods with Slack's encodings, response_url,
// Block Kit limits and rate limits. Tests drive it as named users (Slash, Click, Submit)
// and query what the bot did (Messages, Thread, Views, Acks, Refusals).
//
// FIDELITY.md lists each emulated behaviour and how sure we are of it.
package slacktest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Clock gives the emulator's notion of "now" for ts values and response_url expiry.
// The 3 s ack and trigger deadlines are protocol rules and always use real time.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// ScaledClock runs from Epoch at Scale times real speed, so another process that
// knows Epoch, Scale and the start instant derives the same time.
type ScaledClock struct {
	Epoch time.Time
	Scale float64
	Start time.Time // real instant that maps to Epoch
}

// NewScaledClock starts a scaled clock now.
func NewScaledClock(epoch time.Time, scale float64) *ScaledClock {
	return &ScaledClock{Epoch: epoch, Scale: scale, Start: time.Now()}
}

// Now implements Clock.
func (c *ScaledClock) Now() time.Time {
	return c.Epoch.Add(time.Duration(float64(time.Since(c.Start)) * c.Scale))
}

// Assumptions holds behaviours we could not verify against Slack; FIDELITY.md marks
// each of them "assumed". Zero values take the defaults from DefaultAssumptions.
type Assumptions struct {
	ErrTooManyBlocks      string // >50 message / >100 modal blocks; default "invalid_blocks"
	ErrViewInvalid        string // a modal field over its limit; default "invalid_arguments"
	ErrHashConflict       string // views.update with a stale hash; default "hash_conflict"
	ErrResponseURLExpired string // response_url older than 30 min; default "expired_url"
	ErrResponseURLUsedUp  string // 6th use of a response_url; default "expired_url"
	ErrThreadNotFound     string // thread_ts that names no message; default "thread_not_found"
	// ErrBotTokenOnAppMethod answers apps.connections.open called with the bot token;
	// default "invalid_auth" (fatal for slack-go). Slack may say not_allowed_token_type,
	// which slack-go retries forever.
	ErrBotTokenOnAppMethod string
	// RedeliverUnacked resends an envelope not acked within the deadline, up to
	// MaxRetries times, with retry_reason "timeout".
	RedeliverUnacked bool
	MaxRetries       int
	// RejectAckOnOtherSocket records an ack that arrives on a socket other than the one
	// the envelope went to as unknown. Default false (the ack is accepted).
	RejectAckOnOtherSocket bool
	// HelloCountsRetiredSocket makes the first hello after a socket was retired (sent
	// disconnect, dropped, or closed by the client) count that socket too, as if Slack
	// still held it. Default false: hello counts only live sockets not told to leave.
	HelloCountsRetiredSocket bool
	// ErrReplyThreadTS refuses a thread_ts naming a reply (not a parent) with this
	// error. Default "": Slack's docs only say "avoid" it; the reply goes under the parent.
	ErrReplyThreadTS string
	// TruncateLongText truncates message text over 40,000 characters (the docs say
	// Slack truncates) instead of refusing it with msg_too_long (the docs list that error).
	TruncateLongText bool
	// ErrRepliesInChannel refuses conversations.replies with the bot token in a
	// public or private channel with this error (e.g. "missing_scope"), as the
	// method page's sentence about bot tokens reads. Default "": allowed with
	// channels:history / groups:history (FIDELITY.md, conversations.replies).
	ErrRepliesInChannel string
}

// DefaultAssumptions returns the defaults documented in FIDELITY.md.
func DefaultAssumptions() Assumptions {
	return Assumptions{
		ErrTooManyBlocks:       "invalid_blocks",
		ErrViewInvalid:         "invalid_arguments",
		ErrHashConflict:        "hash_conflict",
		ErrResponseURLExpired:  "expired_url",
		ErrResponseURLUsedUp:   "expired_url",
		ErrThreadNotFound:      "thread_not_found",
		ErrBotTokenOnAppMethod: "invalid_auth",
		MaxRetries:             3,
	}
}

// Options configures a Server. Zero values get sensible test defaults.
type Options struct {
	Addr        string // listen address; default 127.0.0.1:0
	AppToken    string // xapp-…, only token accepted by apps.connections.open
	BotToken    string // xoxb-…
	TeamID      string
	TeamDomain  string
	TeamName    string
	AppID       string
	BotUserID   string
	BotID       string
	BotName     string
	Command     string // slash command Slash sends; default "/close-tenant"
	Clock       Clock
	Logger      *slog.Logger
	Latency     time.Duration // added to every Web API answer
	Assumptions Assumptions

	PingInterval time.Duration // server WebSocket PINGs; default 500 ms
	AckDeadline  time.Duration // default 3 s (Slack's rule)
	TriggerTTL   time.Duration // default 3 s (Slack's rule)

	RateLimit RateLimitOptions

	// BotScopes are the bot token's granted scopes, sent in every bot-token
	// Web API answer's x-oauth-scopes header; nil means DefaultBotScopes.
	BotScopes []string
}

// User is a workspace member in the directory.
type User struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	RealName          string `json:"real_name"`
	TeamID            string `json:"team_id"`
	Deleted           bool   `json:"deleted"`
	IsBot             bool   `json:"is_bot"`
	IsAdmin           bool   `json:"is_admin"`
	IsOwner           bool   `json:"is_owner"`
	IsRestricted      bool   `json:"is_restricted"`
	IsUltraRestricted bool   `json:"is_ultra_restricted"`
}

// Channel is a conversation in the directory. D… channels are created on demand.
type Channel struct {
	ID          string
	Name        string
	IsPrivate   bool
	IsArchived  bool
	IsExtShared bool
	IsIM        bool
	User        string   // the other member of an IM
	Members     []string // nil: anyone may receive ephemerals here
	NotMember   bool     // the bot is not in the channel: chat.postMessage → not_in_channel
	Created     int64
}

// Server is the emulator. All state is behind mu; queries return copies.
type Server struct {
	observe atomic.Pointer[func(Call)] // SetObserver

	opts  Options
	as    Assumptions
	clock Clock
	log   *slog.Logger
	hs    *httptest.Server

	mu         sync.Mutex
	botScopes  []string      // set by SetBotScopes; nil: Options.BotScopes
	changed    chan struct{} // closed and replaced on every state change (WaitFor)
	closed     bool
	seq        int64
	lastMicro  int64
	users      map[string]*User
	groups     map[string][]string
	channels   map[string]*Channel
	dms        map[string]string // user id → D… channel id
	msgs       map[string][]*Message
	ephemerals []*Ephemeral
	views      map[string]*View
	viewOrder  []string
	triggers   map[string]*trigger
	responses  map[string]*responseURL
	files      map[string]*File
	fileOrder  []string
	tickets    map[string]bool
	conns      map[int]*conn
	connSeq    int
	rrLast     int
	forcedNum  int
	retired    int // sockets retired since the last hello (HelloCountsRetiredSocket)
	pending    []*Envelope
	envs       map[string]*Envelope
	acks       []Ack
	calls      []Call
	refusals   []Refusal
	opens      int // apps.connections.open successes
	pongs      int
	rate       *rateLimiter
	injections map[string][]injection
	rateFaults map[string]rateFault // SetRateLimitFaults
	faultRand  *faultRNG            // pseudo-random choice of faults, fixed seed
	// disconnectGen names the current DisconnectEvery loop; disconnects
	// counts what it sent.
	disconnectGen, disconnects int
	timers                     []*time.Timer
}

// New builds a Server; call Start before use.
func New(opts Options) *Server {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&opts.AppToken, "xapp-1-A0EMUL-1-test")
	def(&opts.BotToken, "xoxb-1-emulator-test")
	def(&opts.TeamID, "T0EMUL")
	def(&opts.TeamDomain, "emulator")
	def(&opts.TeamName, "Emulator")
	def(&opts.AppID, "A0EMUL")
	def(&opts.BotUserID, "U0BOT")
	def(&opts.BotID, "B0BOT")
	def(&opts.BotName, "closebot")
	def(&opts.Command, "/close-tenant")
	def(&opts.Addr, "127.0.0.1:0")
	if opts.Clock == nil {
		opts.Clock = systemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = 500 * time.Millisecond
	}
	if opts.AckDeadline <= 0 {
		opts.AckDeadline = 3 * time.Second
	}
	if opts.TriggerTTL <= 0 {
		opts.TriggerTTL = 3 * time.Second
	}
	as, d := opts.Assumptions, DefaultAssumptions()
	def(&as.ErrTooManyBlocks, d.ErrTooManyBlocks)
	def(&as.ErrViewInvalid, d.ErrViewInvalid)
	def(&as.ErrHashConflict, d.ErrHashConflict)
	def(&as.ErrResponseURLExpired, d.ErrResponseURLExpired)
	def(&as.ErrResponseURLUsedUp, d.ErrResponseURLUsedUp)
	def(&as.ErrThreadNotFound, d.ErrThreadNotFound)
	def(&as.ErrBotTokenOnAppMethod, d.ErrBotTokenOnAppMethod)
	if as.MaxRetries <= 0 {
		as.MaxRetries = d.MaxRetries
	}
	s := &Server{
		opts: opts, as: as, clock: opts.Clock, log: opts.Logger,
		changed:    make(chan struct{}),
		users:      map[string]*User{},
		groups:     map[string][]string{},
		channels:   map[string]*Channel{},
		dms:        map[string]string{},
		msgs:       map[string][]*Message{},
		views:      map[string]*View{},
		triggers:   map[string]*trigger{},
		responses:  map[string]*responseURL{},
		files:      map[string]*File{},
		tickets:    map[string]bool{},
		conns:      map[int]*conn{},
		envs:       map[string]*Envelope{},
		injections: map[string][]injection{},
		rateFaults: map[string]rateFault{},
		faultRand:  newFaultRand(),
		rate:       newRateLimiter(opts.RateLimit),
	}
	s.users[opts.BotUserID] = &User{ID: opts.BotUserID, Name: opts.BotName, TeamID: opts.TeamID, IsBot: true}
	return s
}

// Start listens on loopback (or Options.Addr) and serves.
func (s *Server) Start() error {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.handleAPI)
	mux.HandleFunc("/link/", s.handleLink)
	mux.HandleFunc("/response/", s.handleResponseURL)
	mux.HandleFunc("/upload/", s.handleUpload)
	mux.HandleFunc("/emulator/stats", s.handleStats)
	s.hs = httptest.NewUnstartedServer(mux)
	if s.opts.Addr != "127.0.0.1:0" {
		l, err := net.Listen("tcp", s.opts.Addr)
		if err != nil {
			return fmt.Errorf("slacktest: listen %s: %w", s.opts.Addr, err)
		}
		s.hs.Listener.Close()
		s.hs.Listener = l
	}
	s.hs.Start()
	return nil
}

// Close drops every socket, stops timers and the HTTP server.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	conns := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	for _, t := range s.timers {
		t.Stop()
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	if s.hs != nil {
		s.hs.Close()
	}
}

// URL is the base URL, e.g. http://127.0.0.1:PORT.
func (s *Server) URL() string { return s.hs.URL }

// APIURL is the Web API base for slack.OptionAPIURL; it ends with "/api/".
func (s *Server) APIURL() string { return s.hs.URL + "/api/" }

// Options returns the effective options (defaults filled in).
func (s *Server) Options() Options { return s.opts }

// AddUser seeds or replaces a user. An empty TeamID means the server's team.
func (s *Server) AddUser(u User) {
	if u.TeamID == "" {
		u.TeamID = s.opts.TeamID
	}
	if u.Name == "" {
		u.Name = strings.ToLower(u.ID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = &u
	s.notify()
}

// AddUserGroup seeds or replaces a user group (S…) and its members.
func (s *Server) AddUserGroup(id string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[id] = append([]string(nil), members...)
	s.notify()
}

// AddChannel seeds or replaces a channel (C… or G…).
func (s *Server) AddChannel(c Channel) {
	if c.Name == "" {
		c.Name = strings.ToLower(c.ID)
	}
	if c.Created == 0 {
		c.Created = s.clock.Now().Unix()
	}
	c.Members = append([]string(nil), c.Members...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels[c.ID] = &c
	s.notify()
}

// notify wakes WaitFor callers. Caller holds mu.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// nextID returns prefix + a unique upper-case suffix. Caller holds mu.
func (s *Server) nextID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s%08X", prefix, s.seq)
}

// nextTS returns a "%d.%06d" ts from the clock, strictly increasing. Caller holds mu.
func (s *Server) nextTS() string {
	m := s.clock.Now().UnixMicro()
	if m <= s.lastMicro {
		m = s.lastMicro + 1
	}
	s.lastMicro = m
	return fmt.Sprintf("%d.%06d", m/1e6, m%1e6)
}

// afterFunc runs f after d unless the server closes first.
func (s *Server) afterFunc(d time.Duration, f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.timers = append(s.timers, time.AfterFunc(d, f))
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newUUID returns a random RFC 4122 version 4 UUID, the shape of Slack's envelope_id.
func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
