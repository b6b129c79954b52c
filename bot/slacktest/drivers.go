package slacktest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrNotFound is returned by drivers when the message, button or view does not exist.
var ErrNotFound = errors.New("slacktest: not found")

// Outbound is an arbitrary envelope for Send.
type Outbound struct {
	Type                   string // slash_commands, interactive, events_api, or anything else
	Payload                any    // marshalled to JSON; json.RawMessage passes through
	AcceptsResponsePayload bool
	EnvelopeID             string // default: a new UUID
	RetryAttempt           int
	RetryReason            string
}

// Send delivers an arbitrary envelope as is.
func (s *Server) Send(o Outbound) (*Envelope, error) {
	raw, err := json.Marshal(o.Payload)
	if err != nil {
		return nil, fmt.Errorf("slacktest: marshal payload: %w", err)
	}
	e := s.envelope(o.Type, "raw", raw, o.AcceptsResponsePayload)
	if o.EnvelopeID != "" {
		e.ID = o.EnvelopeID
	}
	e.RetryAttempt, e.RetryReason = o.RetryAttempt, o.RetryReason
	s.deliver(e)
	return e, nil
}

func (s *Server) envelope(typ, kind string, payload json.RawMessage, accepts bool) *Envelope {
	return &Envelope{ID: newUUID(), Type: typ, kind: kind, Payload: payload, AcceptsResponsePayload: accepts,
		srv: s, acked: make(chan struct{})}
}

// Redeliver sends e again with the same envelope_id and retry_attempt+1, as Slack does
// when an envelope was not acknowledged. reason defaults to "timeout".
func (s *Server) Redeliver(e *Envelope, reason string) (*Envelope, error) {
	if reason == "" {
		reason = "timeout"
	}
	s.mu.Lock()
	n := &Envelope{ID: e.ID, Type: e.Type, Payload: e.Payload, AcceptsResponsePayload: e.AcceptsResponsePayload,
		RetryAttempt: e.RetryAttempt + 1, RetryReason: reason, ResponseURL: e.ResponseURL, TriggerID: e.TriggerID,
		srv: s, kind: e.kind, user: e.user, channel: e.channel, viewID: e.viewID, acked: make(chan struct{}), prev: e}
	s.mu.Unlock()
	s.deliver(n)
	return n, nil
}

// userObj and channelName describe directory entries in payloads. Caller holds mu.
func (s *Server) userObj(id string) map[string]any {
	name, team := strings.ToLower(id), s.opts.TeamID
	if u := s.users[id]; u != nil {
		name, team = u.Name, u.TeamID
	}
	return map[string]any{"id": id, "username": name, "name": name, "team_id": team}
}

func (s *Server) channelName(id string) string {
	if c := s.channels[id]; c != nil {
		if c.IsIM {
			return "directmessage"
		}
		return c.Name
	}
	return strings.ToLower(id)
}

func (s *Server) team() map[string]any {
	return map[string]any{"id": s.opts.TeamID, "domain": s.opts.TeamDomain}
}

// Slash sends Options.Command with text as user in channel.
func (s *Server) Slash(user, channel, text string) (*Envelope, error) {
	return s.SlashCommand(user, channel, s.opts.Command, text)
}

// SlashCommand sends any slash command, with a fresh response_url and trigger_id.
func (s *Server) SlashCommand(user, channel, command, text string) (*Envelope, error) {
	s.mu.Lock()
	name := s.userObj(user)["name"]
	respURL := s.newResponseURL(channel, user, "", false)
	trig := s.newTrigger(user, "")
	payload := map[string]any{
		"token": "emulator-verification-token", "team_id": s.opts.TeamID, "team_domain": s.opts.TeamDomain,
		"channel_id": channel, "channel_name": s.channelName(channel), "user_id": user, "user_name": name,
		"command": command, "text": text, "api_app_id": s.opts.AppID, "is_enterprise_install": "false",
		"response_url": respURL, "trigger_id": trig,
	}
	s.mu.Unlock()
	raw, _ := json.Marshal(payload)
	e := s.envelope("slash_commands", "slash", raw, true)
	e.user, e.channel, e.ResponseURL, e.TriggerID = user, channel, respURL, trig
	s.deliver(e)
	return e, nil
}

// findAction returns the block_id and element with actionID in blocks.
func findAction(blocks json.RawMessage, actionID string) (string, map[string]any, bool) {
	var bs []map[string]any
	if json.Unmarshal(blocks, &bs) != nil {
		return "", nil, false
	}
	for _, b := range bs {
		bid, _ := b["block_id"].(string)
		var els []any
		switch b["type"] {
		case "actions":
			els, _ = b["elements"].([]any)
		case "section":
			els = []any{b["accessory"]}
		case "input":
			els = []any{b["element"]}
		}
		for _, el := range els {
			if m, isMap := el.(map[string]any); isMap && m["action_id"] == actionID {
				return bid, m, true
			}
		}
	}
	return "", nil, false
}

// Click presses the element with actionID in a stored message (channel, thread, DM, or
// the user's ephemeral), sending its real block_id and value.
func (s *Server) Click(user string, msg MessageRef, actionID string) (*Envelope, error) {
	s.mu.Lock()
	var blocks json.RawMessage
	var m *Message
	ephemeral := false
	if m = s.findMsg(msg.Channel, msg.TS); m != nil {
		blocks = m.Blocks
	} else {
		for _, e := range s.ephemerals {
			if e.Channel == msg.Channel && e.TS == msg.TS && e.User == user && !e.Deleted {
				blocks, ephemeral = e.Blocks, true
			}
		}
	}
	if blocks == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("click %s on %s/%s: message: %w", actionID, msg.Channel, msg.TS, ErrNotFound)
	}
	blockID, el, found := findAction(blocks, actionID)
	if !found {
		s.mu.Unlock()
		return nil, fmt.Errorf("click %s on %s/%s: element: %w", actionID, msg.Channel, msg.TS, ErrNotFound)
	}
	value, _ := el["value"].(string)
	action := map[string]any{"action_id": actionID, "block_id": blockID, "type": el["type"], "value": value,
		"action_ts": s.nextTS()}
	for _, k := range []string{"text", "style", "confirm"} {
		if el[k] != nil {
			action[k] = el[k]
		}
	}
	e := s.blockActions(user, msg.Channel, msg.TS, m, ephemeral, action)
	s.mu.Unlock()
	s.deliver(e)
	return e, nil
}

// ClickRaw sends a block_actions click exactly as given, for stale or forged clicks.
// The message need not exist.
func (s *Server) ClickRaw(user, channel, messageTS, blockID, actionID, value string) (*Envelope, error) {
	s.mu.Lock()
	action := map[string]any{"action_id": actionID, "block_id": blockID, "type": "button", "value": value,
		"text": map[string]any{"type": "plain_text", "text": actionID}, "action_ts": s.nextTS()}
	e := s.blockActions(user, channel, messageTS, s.findMsg(channel, messageTS), false, action)
	s.mu.Unlock()
	s.deliver(e)
	return e, nil
}

// blockActions builds a block_actions envelope. Caller holds mu.
func (s *Server) blockActions(user, channel, ts string, m *Message, ephemeral bool, action map[string]any) *Envelope {
	respURL := s.newResponseURL(channel, user, ts, ephemeral)
	trig := s.newTrigger(user, "")
	container := map[string]any{"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": ephemeral}
	payload := map[string]any{
		"type": "block_actions", "api_app_id": s.opts.AppID, "token": "emulator-verification-token",
		"trigger_id": trig, "team": s.team(), "user": s.userObj(user), "container": container,
		"channel":      map[string]any{"id": channel, "name": s.channelName(channel)},
		"response_url": respURL, "actions": []any{action}, "state": map[string]any{"values": map[string]any{}},
		"is_enterprise_install": false, "enterprise": nil,
	}
	if m != nil {
		payload["message"] = m.wire(s.opts.TeamID)
		if m.ThreadTS != "" {
			container["thread_ts"] = m.ThreadTS
		}
	} else if !ephemeral {
		payload["message"] = map[string]any{"type": "message", "ts": ts}
	}
	raw, _ := json.Marshal(payload)
	e := s.envelope("interactive", "block_actions", raw, false)
	e.user, e.channel, e.ResponseURL, e.TriggerID = user, channel, respURL, trig
	return e
}

// Submit submits an open modal as user. values[blockID][actionID] is a string (the
// input's value, or a select's option value), a []string (selected option values of
// checkboxes or multi-selects) or a map used as the raw state entry. Input blocks not
// in values are sent empty, as Slack does.
func (s *Server) Submit(user, viewID string, values map[string]map[string]any) (*Envelope, error) {
	s.mu.Lock()
	v := s.views[viewID]
	if v == nil || !v.Open {
		s.mu.Unlock()
		return nil, fmt.Errorf("submit view %s: %w", viewID, ErrNotFound)
	}
	state := map[string]any{}
	blocks, _ := v.obj["blocks"].([]any)
	for _, b := range blocks {
		bm, _ := b.(map[string]any)
		if bm["type"] != "input" {
			continue
		}
		el, _ := bm["element"].(map[string]any)
		bid, _ := bm["block_id"].(string)
		aid, _ := el["action_id"].(string)
		state[bid] = map[string]any{aid: stateEntry(el, values[bid][aid])}
	}
	for bid, acts := range values { // values for blocks the view lacks go as given
		if _, known := state[bid]; !known {
			entry := map[string]any{}
			for aid, val := range acts {
				entry[aid] = stateEntry(map[string]any{"type": "plain_text_input"}, val)
			}
			state[bid] = entry
		}
	}
	view := v.wire(s)
	view["state"] = map[string]any{"values": state}
	v.Submissions++
	trig := s.newTrigger(user, v.ID)
	payload := map[string]any{
		"type": "view_submission", "team": s.team(), "user": s.userObj(user), "api_app_id": s.opts.AppID,
		"token": "emulator-verification-token", "trigger_id": trig, "view": view, "response_urls": []any{},
		"is_enterprise_install": false, "enterprise": nil,
	}
	s.mu.Unlock()
	raw, _ := json.Marshal(payload)
	e := s.envelope("interactive", "view_submission", raw, true)
	e.user, e.viewID, e.TriggerID = user, viewID, trig
	s.deliver(e)
	return e, nil
}

// stateEntry builds view.state.values[block][action] for element el and value val.
func stateEntry(el map[string]any, val any) any {
	typ, _ := el["type"].(string)
	entry := map[string]any{"type": typ}
	option := func(v string) any {
		opts, _ := el["options"].([]any)
		for _, o := range opts {
			if om, _ := o.(map[string]any); om["value"] == v {
				return om
			}
		}
		return map[string]any{"value": v, "text": map[string]any{"type": "plain_text", "text": v}}
	}
	switch v := val.(type) {
	case map[string]any:
		return v
	case []string:
		sel := make([]any, 0, len(v))
		for _, x := range v {
			sel = append(sel, option(x))
		}
		entry["selected_options"] = sel
	case string:
		switch typ {
		case "static_select", "radio_buttons", "external_select":
			entry["selected_option"] = option(v)
		case "users_select":
			entry["selected_user"] = v
		case "conversations_select":
			entry["selected_conversation"] = v
		case "channels_select":
			entry["selected_channel"] = v
		default:
			entry["value"] = v
		}
	case nil:
		switch typ {
		case "checkboxes", "multi_static_select":
			entry["selected_options"] = []any{}
		case "static_select", "radio_buttons":
			entry["selected_option"] = nil
		default:
			entry["value"] = nil
		}
	}
	return entry
}
