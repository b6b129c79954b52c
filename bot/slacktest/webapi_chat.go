package slacktest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Message is a stored channel, thread or DM message.
type Message struct {
	Channel        string
	TS             string
	ThreadTS       string // parent ts for replies; "" for top-level messages
	User           string
	BotID          string
	Text           string
	Blocks         json.RawMessage
	ReplyBroadcast bool
	LinkNames      bool // link_names: automatic parsing of the top-level text
	Edited         bool
	Deleted        bool
	Via            string // chat.postMessage, response_url, ack, files.completeUploadExternal
	Files          []string
}

// MessageRef names a message.
type MessageRef struct{ Channel, TS string }

// Ref returns the message's reference, for Click.
func (m Message) Ref() MessageRef { return MessageRef{m.Channel, m.TS} }

// Ephemeral is a message only one user sees.
type Ephemeral struct {
	Channel  string
	User     string
	TS       string
	ThreadTS string
	Text     string
	Blocks   json.RawMessage
	Via      string // chat.postEphemeral, response_url, ack
	Deleted  bool
	Replaced bool
}

// msgBody is a response_url body or a slash-command ack payload.
type msgBody struct {
	Text            string          `json:"text"`
	Blocks          json.RawMessage `json:"blocks"`
	ResponseType    string          `json:"response_type"`
	ReplaceOriginal bool            `json:"replace_original"`
	DeleteOriginal  bool            `json:"delete_original"`
	ThreadTS        string          `json:"thread_ts"`
}

func (m *Message) wire(teamID string) map[string]any {
	w := map[string]any{"type": "message", "text": m.Text, "ts": m.TS, "user": m.User, "team": teamID}
	if m.BotID != "" {
		w["bot_id"] = m.BotID
	}
	if m.ThreadTS != "" {
		w["thread_ts"] = m.ThreadTS
	}
	if len(m.Blocks) > 0 {
		w["blocks"] = m.Blocks
	}
	return w
}

// resolveChannel maps a channel id, or (withUsers) a user id to the user's App Home
// DM, which it opens on first use. Caller holds mu.
func (s *Server) resolveChannel(id string, withUsers bool) (*Channel, bool) {
	if c, found := s.channels[id]; found {
		return c, true
	}
	if !withUsers {
		return nil, false
	}
	u, found := s.users[id]
	if !found || u.IsBot {
		return nil, false
	}
	if d, open := s.dms[id]; open {
		return s.channels[d], true
	}
	c := &Channel{ID: s.nextID("D"), Name: id, IsIM: true, User: id, Created: s.clock.Now().Unix()}
	s.channels[c.ID] = c
	s.dms[id] = c.ID
	return c, true
}

// findMsg returns a live message. Caller holds mu.
func (s *Server) findMsg(channel, ts string) *Message {
	for _, m := range s.msgs[channel] {
		if m.TS == ts && !m.Deleted {
			return m
		}
	}
	return nil
}

// blocksParam parses and checks an optional blocks parameter against message limits.
func (s *Server) blocksParam(raw string) (json.RawMessage, *limitError) {
	blocks, le := parseBlocks(raw)
	if le != nil {
		return nil, le
	}
	if le := s.checkBlocks(blocks, maxMessageBlocks, "/blocks"); le != nil {
		return nil, le
	}
	assignBlockIDs(blocks)
	b, _ := json.Marshal(blocks)
	return b, nil
}

func (s *Server) chatPostMessage(r *apiRequest) apiResult {
	const method = "chat.postMessage"
	text, chID := r.str("text"), r.str("channel")
	var blocks json.RawMessage
	if r.has("blocks") {
		var le *limitError
		if blocks, le = s.blocksParam(r.str("blocks")); le != nil {
			return refuse(method, chID, le.err, le.detail)
		}
	}
	if runes(text) > maxMessageText {
		if !s.as.TruncateLongText {
			return refuse(method, chID, "msg_too_long", tooLong("msg_too_long", maxMessageText, "/text").detail)
		}
		text = string([]rune(text)[:maxMessageText])
	}
	if text == "" && len(blocks) == 0 && !r.has("attachments") {
		return fail("no_text")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, found := s.resolveChannel(chID, true)
	switch {
	case !found:
		return fail("channel_not_found")
	case ch.IsArchived:
		return fail("is_archived")
	case ch.NotMember:
		return fail("not_in_channel")
	}
	m := &Message{Channel: ch.ID, User: s.opts.BotUserID, BotID: s.opts.BotID, Text: text, Blocks: blocks,
		Via: method, ReplyBroadcast: r.bool("reply_broadcast"), LinkNames: r.bool("link_names")}
	if tts := r.str("thread_ts"); tts != "" {
		parent := s.findMsg(ch.ID, tts)
		if parent == nil {
			return fail(s.as.ErrThreadNotFound)
		}
		m.ThreadTS = parent.TS
		if parent.ThreadTS != "" {
			if s.as.ErrReplyThreadTS != "" {
				return fail(s.as.ErrReplyThreadTS)
			}
			m.ThreadTS = parent.ThreadTS // assumed: a reply's ts threads under its parent
		}
	}
	m.TS = s.nextTS()
	s.msgs[ch.ID] = append(s.msgs[ch.ID], m)
	s.notify()
	return ok(map[string]any{"channel": ch.ID, "ts": m.TS, "message": m.wire(s.opts.TeamID)})
}

func (s *Server) chatUpdate(r *apiRequest) apiResult {
	const method = "chat.update"
	text, chID := r.str("text"), r.str("channel")
	var blocks json.RawMessage
	if r.has("blocks") {
		var le *limitError
		if blocks, le = s.blocksParam(r.str("blocks")); le != nil {
			return refuse(method, chID, le.err, le.detail)
		}
	}
	if runes(text) > maxUpdateText {
		return refuse(method, chID, "msg_too_long", tooLong("msg_too_long", maxUpdateText, "/text").detail)
	}
	if !r.has("text") && !r.has("blocks") && !r.has("attachments") {
		return fail("no_text")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// A user id is not a channel here: only chat.postMessage opens the App Home DM.
	ch, found := s.resolveChannel(chID, false)
	if !found {
		return fail("channel_not_found")
	}
	m := s.findMsg(ch.ID, r.str("ts"))
	switch {
	case m == nil:
		return fail("message_not_found")
	case m.User != s.opts.BotUserID:
		return fail("cant_update_message")
	case ch.IsArchived:
		return fail("is_archived")
	}
	if r.has("text") {
		m.Text = text
	}
	m.LinkNames = r.bool("link_names") // chat.update resets it to the default (none)
	switch {
	case r.has("blocks"):
		m.Blocks = blocks
		if string(blocks) == "[]" {
			m.Blocks = nil // blocks=[] clears them
		}
	}
	// Without blocks the previous blocks are kept ("If you don't include this field,
	// the message's previous blocks will be retained", chat.update docs).
	m.Edited = true
	s.notify()
	return ok(map[string]any{"channel": ch.ID, "ts": m.TS, "text": m.Text, "message": m.wire(s.opts.TeamID)})
}

func (s *Server) chatPostEphemeral(r *apiRequest) apiResult {
	const method = "chat.postEphemeral"
	text, chID, user := r.str("text"), r.str("channel"), r.str("user")
	var blocks json.RawMessage
	if r.has("blocks") {
		var le *limitError
		if blocks, le = s.blocksParam(r.str("blocks")); le != nil {
			return refuse(method, chID, le.err, le.detail)
		}
	}
	if runes(text) > maxMessageText {
		if !s.as.TruncateLongText {
			return refuse(method, chID, "msg_too_long", tooLong("msg_too_long", maxMessageText, "/text").detail)
		}
		text = string([]rune(text)[:maxMessageText])
	}
	if text == "" && len(blocks) == 0 && !r.has("attachments") {
		return fail("no_text")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, found := s.resolveChannel(chID, true)
	u := s.users[user]
	switch {
	case !found:
		return fail("channel_not_found")
	case u == nil:
		return fail("user_not_found")
	case ch.IsArchived:
		return fail("is_archived")
	case ch.Members != nil && !slices.Contains(ch.Members, user):
		return fail("user_not_in_channel")
	}
	e := &Ephemeral{Channel: ch.ID, User: user, TS: s.nextTS(), ThreadTS: r.str("thread_ts"), Text: text, Blocks: blocks, Via: method}
	s.ephemerals = append(s.ephemerals, e)
	s.notify()
	return ok(map[string]any{"message_ts": e.TS})
}

func (s *Server) chatGetPermalink(r *apiRequest) apiResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, found := s.resolveChannel(r.str("channel"), false)
	if !found {
		return fail("channel_not_found")
	}
	m := s.findMsg(ch.ID, r.str("message_ts"))
	if m == nil {
		return fail("message_not_found")
	}
	link := "https://" + s.opts.TeamDomain + ".slack.com/archives/" + ch.ID + "/p" + strings.ReplaceAll(m.TS, ".", "")
	if m.ThreadTS != "" {
		link += "?thread_ts=" + m.ThreadTS + "&cid=" + ch.ID
	}
	return ok(map[string]any{"channel": ch.ID, "permalink": link})
}

// responseURL is a generated response_url: 5 uses within 30 minutes (Slack docs).
type responseURL struct {
	channel, user string
	messageTS     string // the message whose button was clicked; "" for slash commands
	ephemeral     bool   // that message is ephemeral
	created       time.Time
	uses          int
}

// newResponseURL registers a response_url. Caller holds mu.
func (s *Server) newResponseURL(channel, user, messageTS string, ephemeral bool) string {
	id := randHex(12)
	s.responses[id] = &responseURL{channel: channel, user: user, messageTS: messageTS, ephemeral: ephemeral, created: s.clock.Now()}
	return s.hs.URL + "/response/" + id
}

func (s *Server) handleResponseURL(w http.ResponseWriter, r *http.Request) {
	const method = "response_url"
	id := strings.TrimPrefix(r.URL.Path, "/response/")
	call := Call{Method: method, Path: r.URL.Path, HTTPMethod: r.Method, ContentType: r.Header.Get("Content-Type"), Time: time.Now()}
	var body msgBody
	raw := make([]byte, 0)
	if r.Body != nil {
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		var rm json.RawMessage
		if err := dec.Decode(&rm); err == nil {
			raw = rm
			_ = json.Unmarshal(rm, &body)
		}
	}
	call.JSON = raw
	s.mu.Lock()
	ru := s.responses[id]
	s.mu.Unlock()
	if ru == nil || r.Method != http.MethodPost {
		call.Status = http.StatusNotFound
		s.record(call)
		http.Error(w, "no_such_url", http.StatusNotFound)
		return
	}
	s.answer(w, &call, s.respond(ru, body))
}

// respond applies one response_url use.
func (s *Server) respond(ru *responseURL, body msgBody) apiResult {
	const method = "response_url"
	var blocks json.RawMessage
	if len(body.Blocks) > 0 && string(body.Blocks) != "null" {
		var le *limitError
		if blocks, le = s.blocksParam(string(body.Blocks)); le != nil {
			return refuse(method, ru.channel, le.err, le.detail)
		}
	}
	s.mu.Lock()
	switch {
	case s.clock.Now().Sub(ru.created) > 30*time.Minute:
		s.mu.Unlock()
		return refuse(method, ru.channel, s.as.ErrResponseURLExpired, "response_url older than 30 minutes")
	case ru.uses >= 5:
		s.mu.Unlock()
		return refuse(method, ru.channel, s.as.ErrResponseURLUsedUp, "response_url used 5 times")
	}
	ru.uses++
	if body.DeleteOriginal || body.ReplaceOriginal {
		defer s.mu.Unlock()
		if ru.ephemeral {
			for _, e := range s.ephemerals {
				if e.Channel == ru.channel && e.User == ru.user && e.TS == ru.messageTS {
					e.Deleted = body.DeleteOriginal
					if body.ReplaceOriginal {
						e.Text, e.Blocks, e.Replaced = body.Text, blocks, true
					}
				}
			}
		} else if m := s.findMsg(ru.channel, ru.messageTS); m != nil {
			if body.DeleteOriginal {
				m.Deleted = true
			} else {
				m.Text, m.Blocks, m.Edited = body.Text, blocks, true
			}
		}
		s.notify()
		return ok(nil)
	}
	s.mu.Unlock()
	body.Blocks = blocks
	s.postFromResponse(ru.channel, ru.user, body.ThreadTS, method, body)
	return ok(nil)
}

// postFromResponse posts a response_url or ack reply: ephemeral unless in_channel.
func (s *Server) postFromResponse(channel, user, threadTS, via string, body msgBody) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if body.ThreadTS != "" {
		threadTS = body.ThreadTS
	}
	if body.ResponseType == "in_channel" {
		m := &Message{Channel: channel, User: s.opts.BotUserID, BotID: s.opts.BotID, Text: body.Text,
			Blocks: body.Blocks, Via: via, ThreadTS: threadTS, TS: s.nextTS()}
		s.msgs[channel] = append(s.msgs[channel], m)
	} else {
		s.ephemerals = append(s.ephemerals, &Ephemeral{Channel: channel, User: user, TS: s.nextTS(),
			ThreadTS: threadTS, Text: body.Text, Blocks: body.Blocks, Via: via})
	}
	s.notify()
}
