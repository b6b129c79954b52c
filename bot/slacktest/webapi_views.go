package slacktest

import (
	"encoding/json"
	"fmt"
	"time"
)

// View is a stored modal.
type View struct {
	ID              string
	User            string
	CallbackID      string
	PrivateMetadata string
	ExternalID      string
	Hash            string
	RootViewID      string
	PreviousViewID  string
	Blocks          json.RawMessage
	Raw             json.RawMessage   // the view object as the bot last sent it
	Open            bool              // on screen; closed by submit, clear or Close
	Errors          map[string]string // last response_action:errors shown to the user
	ErrorsShown     int               // how many times errors were shown
	Submissions     int
	obj             map[string]any
}

// trigger is a generated trigger_id: 3 s of real time, single use (Slack docs).
type trigger struct {
	user    string
	created time.Time
	used    bool
	viewID  string // the modal the interaction came from, for views.push
}

// newTrigger registers a trigger_id in Slack's "<n>.<n>.<hex>" shape. Caller holds mu.
func (s *Server) newTrigger(user, viewID string) string {
	s.seq++
	id := fmt.Sprintf("%d.%d.%s", 1000000000+s.seq, 2000000000+s.seq, randHex(16))
	s.triggers[id] = &trigger{user: user, created: time.Now(), viewID: viewID}
	return id
}

// useTrigger checks and spends a trigger_id. Caller holds mu.
func (s *Server) useTrigger(id string) (*trigger, string) {
	t := s.triggers[id]
	switch {
	case t == nil:
		return nil, "invalid_trigger_id"
	case t.used:
		return nil, "exchanged_trigger_id"
	case time.Since(t.created) > s.opts.TriggerTTL:
		return nil, "expired_trigger_id"
	}
	t.used = true
	return t, ""
}

func (v *View) wire(s *Server) map[string]any {
	w := map[string]any{}
	for k, val := range v.obj {
		w[k] = val
	}
	w["id"], w["team_id"], w["hash"] = v.ID, s.opts.TeamID, v.Hash
	w["root_view_id"], w["previous_view_id"] = v.RootViewID, nilIfEmpty(v.PreviousViewID)
	w["app_id"], w["bot_id"], w["app_installed_team_id"] = s.opts.AppID, s.opts.BotID, s.opts.TeamID
	w["state"] = map[string]any{"values": map[string]any{}}
	for _, k := range []string{"private_metadata", "callback_id", "external_id"} {
		if _, has := w[k]; !has {
			w[k] = ""
		}
	}
	return w
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// setView stores obj into v with a fresh hash. Caller holds mu.
func (s *Server) setView(v *View, obj map[string]any) {
	raw, _ := json.Marshal(obj)
	v.obj, v.Raw = obj, raw
	v.CallbackID, _ = obj["callback_id"].(string)
	v.PrivateMetadata, _ = obj["private_metadata"].(string)
	v.ExternalID, _ = obj["external_id"].(string)
	v.Blocks, _ = json.Marshal(obj["blocks"])
	v.Hash = fmt.Sprintf("%d.%s", s.clock.Now().Unix(), randHex(4))
	v.Open = true
	v.Errors = nil
}

// newView stores a new modal. Caller holds mu.
func (s *Server) newView(user, previous string, obj map[string]any) *View {
	v := &View{ID: s.nextID("V"), User: user, PreviousViewID: previous}
	v.RootViewID = v.ID
	if p := s.views[previous]; p != nil {
		v.RootViewID = p.RootViewID
	}
	s.setView(v, obj)
	s.views[v.ID] = v
	s.viewOrder = append(s.viewOrder, v.ID)
	s.notify()
	return v
}

func (s *Server) viewsOpen(r *apiRequest) apiResult { return s.viewsOpenOrPush(r, false) }
func (s *Server) viewsPush(r *apiRequest) apiResult { return s.viewsOpenOrPush(r, true) }

func (s *Server) viewsOpenOrPush(r *apiRequest, push bool) apiResult {
	method := "views.open"
	if push {
		method = "views.push"
	}
	obj, le := s.checkView(r.json["view"], "/view")
	if le != nil {
		return refuse(method, "", le.err, le.detail)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, errName := s.useTrigger(r.str("trigger_id"))
	if errName != "" {
		return fail(errName)
	}
	previous := ""
	if push {
		// views.push needs a trigger from an interaction inside an open modal.
		if pv := s.views[t.viewID]; pv == nil || !pv.Open {
			return fail("invalid_trigger_id")
		}
		previous = t.viewID
	}
	v := s.newView(t.user, previous, obj)
	return ok(map[string]any{"view": v.wire(s)})
}

func (s *Server) viewsUpdate(r *apiRequest) apiResult {
	const method = "views.update"
	obj, le := s.checkView(r.json["view"], "/view")
	if le != nil {
		return refuse(method, "", le.err, le.detail)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var v *View
	if id := r.str("view_id"); id != "" {
		v = s.views[id]
	} else if ext := r.str("external_id"); ext != "" {
		for _, cand := range s.views {
			if cand.ExternalID == ext {
				v = cand
			}
		}
	}
	if v == nil {
		return fail("not_found")
	}
	if h := r.str("hash"); h != "" && h != v.Hash {
		return fail(s.as.ErrHashConflict)
	}
	s.setView(v, obj)
	s.notify()
	return ok(map[string]any{"view": v.wire(s)})
}

// viewSubmissionAck applies response_action from a view_submission ack. An empty ack
// closes the submitted view.
func (s *Server) viewSubmissionAck(e *Envelope, payload json.RawMessage) {
	var resp struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
		View           json.RawMessage   `json:"view"`
	}
	if len(payload) > 0 {
		_ = json.Unmarshal(payload, &resp)
	}
	var obj map[string]any
	if resp.ResponseAction == "update" || resp.ResponseAction == "push" {
		var le *limitError
		if obj, le = s.checkView(resp.View, "/view"); le != nil {
			s.addRefusal(Refusal{Method: "view_submission.ack", Status: 200, Error: le.err, Detail: le.detail})
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.views[e.viewID]
	if v == nil {
		return
	}
	switch resp.ResponseAction {
	case "errors":
		v.Errors, v.ErrorsShown = resp.Errors, v.ErrorsShown+1
		inputs := inputBlockIDs(v.obj)
		for k := range resp.Errors {
			if !inputs[k] {
				// Slack shows a generic "trouble connecting" error for such keys.
				s.refusals = append(s.refusals, Refusal{Method: "view_submission.ack", Status: 200,
					Error: "invalid_errors_key", Detail: "errors key " + k + " names no input block", Time: time.Now()})
			}
		}
	case "update":
		s.setView(v, obj)
	case "push":
		s.newView(v.User, v.ID, obj)
	case "clear":
		for _, o := range s.views {
			if o.RootViewID == v.RootViewID {
				o.Open = false
			}
		}
	default:
		v.Open = false
	}
	s.notify()
}

func (s *Server) addRefusal(r Refusal) {
	r.Time = time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusals = append(s.refusals, r)
	s.notify()
}

func inputBlockIDs(obj map[string]any) map[string]bool {
	ids := map[string]bool{}
	blocks, _ := obj["blocks"].([]any)
	for _, b := range blocks {
		if m, _ := b.(map[string]any); m["type"] == "input" {
			id, _ := m["block_id"].(string)
			ids[id] = true
		}
	}
	return ids
}

// CloseView simulates the user dismissing a modal (no view_closed envelope is sent).
func (s *Server) CloseView(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := s.views[id]; v != nil {
		v.Open = false
		s.notify()
	}
}
