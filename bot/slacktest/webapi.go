package slacktest

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Call is one recorded HTTP request to the emulator.
type Call struct {
	Method      string // Web API method, "response_url", "upload" or "link"
	Path        string
	HTTPMethod  string
	ContentType string
	AuthScheme  string // "bearer", "form", "query" or ""
	Token       string
	Params      url.Values      // form or query fields
	JSON        json.RawMessage // JSON body, if any
	Time        time.Time
	Status      int
	Error       string    // the error string answered, if ok:false
	RetryAfter  int       // seconds, with a 429
	Answered    time.Time // real time the answer was written
}

// Refusal is a request refused by a Block Kit limit, a rate limit or an injected fault.
type Refusal struct {
	Method  string
	Channel string
	Status  int    // 200 (ok:false) or 429
	Error   string // e.g. invalid_blocks, msg_too_long, ratelimited
	Detail  string // e.g. "no more than 50 items allowed [json-pointer:/blocks]"
	Time    time.Time
}

type apiRequest struct {
	method string
	token  string
	form   url.Values
	json   map[string]json.RawMessage
}

// str returns a parameter from the form or the JSON body; JSON non-strings come back raw.
func (r *apiRequest) str(name string) string {
	if v, ok := r.form[name]; ok && len(v) > 0 {
		return v[0]
	}
	raw, ok := r.json[name]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

func (r *apiRequest) has(name string) bool {
	if _, ok := r.form[name]; ok {
		return true
	}
	_, ok := r.json[name]
	return ok
}

func (r *apiRequest) bool(name string) bool {
	v, _ := strconv.ParseBool(r.str(name))
	return v
}

type apiResult struct {
	status     int
	body       map[string]any
	retryAfter int
	refusal    *Refusal
}

func ok(fields map[string]any) apiResult {
	b := map[string]any{"ok": true}
	for k, v := range fields {
		b[k] = v
	}
	return apiResult{status: http.StatusOK, body: b}
}

// fail answers Slack's way: HTTP 200, ok:false and always an error string.
func fail(errName string) apiResult {
	if errName == "" {
		// slack-go takes ok:false with an empty error as success (misc.go:226-239).
		errName = "internal_error"
	}
	return apiResult{status: http.StatusOK, body: map[string]any{"ok": false, "error": errName}}
}

// refuse is fail plus a recorded Refusal and Slack's "errors"/"response_metadata" detail.
func refuse(method, channel, errName, detail string) apiResult {
	res := fail(errName)
	if detail != "" {
		res.body["errors"] = []string{detail}
		res.body["response_metadata"] = map[string]any{"messages": []string{"[ERROR] " + detail}}
	}
	res.refusal = &Refusal{Method: method, Channel: channel, Status: http.StatusOK, Error: errName, Detail: detail}
	return res
}

type apiHandler struct {
	fn       func(*apiRequest) apiResult
	appToken bool // apps.connections.open: the xapp token only
}

func (s *Server) apiHandlers() map[string]apiHandler {
	return map[string]apiHandler{
		"apps.connections.open":        {fn: s.handleConnectionsOpen, appToken: true},
		"auth.test":                    {fn: s.authTest},
		"chat.postMessage":             {fn: s.chatPostMessage},
		"chat.update":                  {fn: s.chatUpdate},
		"chat.postEphemeral":           {fn: s.chatPostEphemeral},
		"chat.getPermalink":            {fn: s.chatGetPermalink},
		"users.info":                   {fn: s.usersInfo},
		"usergroups.users.list":        {fn: s.usergroupsUsersList},
		"conversations.info":           {fn: s.conversationsInfo},
		"conversations.replies":        {fn: s.conversationsReplies},
		"views.open":                   {fn: s.viewsOpen},
		"views.push":                   {fn: s.viewsPush},
		"views.update":                 {fn: s.viewsUpdate},
		"files.getUploadURLExternal":   {fn: s.filesGetUploadURL},
		"files.completeUploadExternal": {fn: s.filesCompleteUpload},
	}
}

func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	call := Call{Method: method, Path: r.URL.Path, HTTPMethod: r.Method, ContentType: r.Header.Get("Content-Type"), Time: time.Now()}
	req := &apiRequest{method: method, form: url.Values{}}

	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	ct, _, _ := mime.ParseMediaType(call.ContentType)
	switch {
	case ct == "application/json":
		call.JSON = body
		if len(body) > 0 {
			if err := json.Unmarshal(body, &req.json); err != nil {
				s.answer(w, &call, fail("invalid_json"))
				return
			}
		}
	case ct == "application/x-www-form-urlencoded":
		req.form, _ = url.ParseQuery(string(body))
	}
	for k, v := range r.URL.Query() {
		if _, dup := req.form[k]; !dup {
			req.form[k] = v
		}
	}
	call.Params = req.form

	// Token: Authorization: Bearer, or the token field. JSON bodies need the header.
	if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") {
		req.token, call.AuthScheme = strings.TrimPrefix(a, "Bearer "), "bearer"
	} else if t := req.form.Get("token"); t != "" && ct != "application/json" {
		req.token, call.AuthScheme = t, "form"
		if r.URL.Query().Get("token") != "" {
			call.AuthScheme = "query"
		}
	}
	call.Token = req.token
	if s.opts.Latency > 0 {
		time.Sleep(s.opts.Latency)
	}

	h, known := s.apiHandlers()[method]
	switch {
	case !known:
		s.answer(w, &call, fail("unknown_method"))
	case req.token == "":
		s.answer(w, &call, fail("not_authed"))
	case h.appToken && req.token == s.opts.BotToken:
		s.answer(w, &call, fail(s.as.ErrBotTokenOnAppMethod))
	case h.appToken && req.token != s.opts.AppToken:
		s.answer(w, &call, fail("invalid_auth"))
	case !h.appToken && req.token == s.opts.AppToken:
		s.answer(w, &call, fail("not_allowed_token_type"))
	case !h.appToken && req.token != s.opts.BotToken:
		s.answer(w, &call, fail("invalid_auth"))
	default:
		if !h.appToken {
			w.Header().Set("X-OAuth-Scopes", s.scopesHeader())
		}
		if res, limited := s.checkRate(method, req); limited {
			s.answer(w, &call, res)
			return
		}
		s.answer(w, &call, h.fn(req))
	}
}

// answer writes res, records the call and any refusal.
func (s *Server) answer(w http.ResponseWriter, call *Call, res apiResult) {
	call.Status = res.status
	call.Answered = time.Now()
	if res.status == http.StatusTooManyRequests {
		call.RetryAfter = res.retryAfter
	}
	if e, _ := res.body["error"].(string); e != "" {
		call.Error = e
	}
	s.record(*call)
	if f := s.observe.Load(); f != nil {
		(*f)(*call)
	}
	if res.refusal != nil {
		rf := *res.refusal
		rf.Time = time.Now()
		s.mu.Lock()
		s.refusals = append(s.refusals, rf)
		s.notify()
		s.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if res.status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", strconv.Itoa(res.retryAfter))
	}
	w.WriteHeader(res.status)
	_ = json.NewEncoder(w).Encode(res.body)
}

// SetObserver calls f with each Web API call once the emulator has acted
// on it and before the answer is written, on the request's goroutine; nil
// removes it. A test hook: the SIGKILL tests kill closebot between a post
// Slack stored and the answer that carries its ts.
func (s *Server) SetObserver(f func(Call)) {
	if f == nil {
		s.observe.Store(nil)
		return
	}
	s.observe.Store(&f)
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	s.notify()
}
