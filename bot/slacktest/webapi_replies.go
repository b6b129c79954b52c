package slacktest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// conversations.replies: a thread, parent first, then its replies oldest
// first, cursor-paginated (FIDELITY.md, "conversations.replies"). closebot
// reads its own thread messages back at start-up to compare the audit heads
// it posted with its database.

const (
	repliesDefaultLimit = 1000 // docs.slack.dev: limit default 1000 (api.slack.com said 10)
	repliesMaxLimit     = 1000 // "specify a limit value under 1000"
)

func (s *Server) conversationsReplies(r *apiRequest) apiResult {
	chID, ts := r.str("channel"), r.str("ts")
	if chID == "" {
		return fail("channel_not_found")
	}
	if ts == "" {
		return fail(s.as.ErrThreadNotFound)
	}
	limit := repliesDefaultLimit
	if raw := r.str("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil {
			return fail("invalid_limit")
		}
		if n > 0 {
			limit = min(n, repliesMaxLimit)
		}
	}
	oldest, latest := r.str("oldest"), r.str("latest")
	inclusive := r.bool("inclusive")

	s.mu.Lock()
	defer s.mu.Unlock()
	ch, found := s.resolveChannel(chID, false)
	switch {
	case !found:
		return fail("channel_not_found")
	case !ch.IsIM && s.as.ErrRepliesInChannel != "":
		return fail(s.as.ErrRepliesInChannel)
	case ch.NotMember && !ch.IsPrivate:
		return fail("not_in_channel")
	case ch.NotMember:
		return fail("channel_not_found") // a private channel the bot is not in does not exist for it
	}
	m := s.findMsg(ch.ID, ts)
	if m == nil {
		return fail(s.as.ErrThreadNotFound)
	}
	parentTS := m.TS
	if m.ThreadTS != "" {
		parentTS = m.ThreadTS // ts may name a reply: the whole thread comes back
	}
	parent := s.findMsg(ch.ID, parentTS)
	if parent == nil {
		return fail(s.as.ErrThreadNotFound)
	}
	var replies []*Message
	for _, x := range s.msgs[ch.ID] {
		if !x.Deleted && x.ThreadTS == parentTS && inRange(x.TS, oldest, latest, inclusive) {
			replies = append(replies, x)
		}
	}
	all := append([]*Message{parent}, replies...)

	start := 0
	if cur := r.str("cursor"); cur != "" {
		i, ok := cursorIndex(cur, all)
		if !ok {
			return fail("invalid_cursor")
		}
		start = i
	}
	end := min(start+limit, len(all))
	page := make([]map[string]any, 0, end-start)
	for _, x := range all[start:end] {
		page = append(page, s.threadWire(x, parent, replies))
	}
	out := map[string]any{"messages": page, "has_more": end < len(all)}
	if end < len(all) {
		out["response_metadata"] = map[string]any{"next_cursor": repliesCursor(all[end].TS)}
	}
	return ok(out)
}

// threadWire is a message as conversations.replies shows it: the parent
// carries the thread's counters, a reply its parent's author.
func (s *Server) threadWire(m, parent *Message, replies []*Message) map[string]any {
	w := m.wire(s.opts.TeamID)
	if m.BotID != "" {
		w["app_id"] = s.opts.AppID
	}
	if m.Edited {
		w["edited"] = map[string]any{"user": m.User}
	}
	if m != parent {
		w["thread_ts"] = parent.TS
		w["parent_user_id"] = parent.User
		return w
	}
	if len(replies) == 0 {
		return w
	}
	var users []string
	for _, r := range replies {
		if !slices.Contains(users, r.User) {
			users = append(users, r.User)
		}
	}
	w["thread_ts"] = m.TS
	w["reply_count"] = len(replies)
	w["reply_users"] = users
	w["reply_users_count"] = len(users)
	w["latest_reply"] = replies[len(replies)-1].TS
	return w
}

// repliesCursor is Slack's documented cursor shape: base64 of
// "next_ts:<ts without its dot>" (the example next_cursor
// bmV4dF90czoxNDg0Njc4MjkwNTE3MDkx decodes to next_ts:1484678290517091).
func repliesCursor(ts string) string {
	return base64.StdEncoding.EncodeToString([]byte("next_ts:" + strings.Replace(ts, ".", "", 1)))
}

// cursorIndex finds the message a cursor names.
func cursorIndex(cursor string, all []*Message) (int, bool) {
	raw, err := base64.StdEncoding.DecodeString(cursor)
	if err != nil {
		return 0, false
	}
	digits, ok := strings.CutPrefix(string(raw), "next_ts:")
	if !ok {
		return 0, false
	}
	for i, m := range all {
		if strings.Replace(m.TS, ".", "", 1) == digits {
			return i, true
		}
	}
	return 0, false
}

// inRange applies oldest and latest (Slack ts strings; "" means open) to a
// reply's ts.
func inRange(ts, oldest, latest string, inclusive bool) bool {
	t, err := strconv.ParseFloat(ts, 64)
	if err != nil {
		return false
	}
	if oldest != "" {
		if o, err := strconv.ParseFloat(oldest, 64); err == nil && (t < o || (t == o && !inclusive)) {
			return false
		}
	}
	if latest != "" {
		if l, err := strconv.ParseFloat(latest, 64); err == nil && (t > l || (t == l && !inclusive)) {
			return false
		}
	}
	return true
}

// PostAs is a person writing a message (in a thread when threadTS is set),
// as the Slack client would post it: not through the bot's token. blocks
// may be nil. Tests use it for people writing into a request's thread.
func (s *Server) PostAs(user, channel, threadTS, text string, blocks json.RawMessage) (MessageRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[user]; !ok {
		return MessageRef{}, fmt.Errorf("slacktest: no user %s", user)
	}
	ch, ok := s.channels[channel]
	if !ok {
		return MessageRef{}, fmt.Errorf("slacktest: no channel %s", channel)
	}
	m := &Message{Channel: ch.ID, User: user, Text: text, Blocks: blocks, Via: "client"}
	if threadTS != "" {
		parent := s.findMsg(ch.ID, threadTS)
		if parent == nil {
			return MessageRef{}, fmt.Errorf("slacktest: no message %s in %s", threadTS, channel)
		}
		m.ThreadTS = parent.TS
		if parent.ThreadTS != "" {
			m.ThreadTS = parent.ThreadTS
		}
	}
	m.TS = s.nextTS()
	s.msgs[ch.ID] = append(s.msgs[ch.ID], m)
	s.notify()
	return m.Ref(), nil
}
