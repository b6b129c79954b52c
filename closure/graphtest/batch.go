package graphtest

// JSON batching (graph-wire.md §3): ≤ 20 items, unique ids, dependsOn with
// 424 for failed dependencies, every item throttled on its own and routed
// through the same handlers; the batch itself is 200 once parseable.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
)

const maxBatchItems = 20

type batchItem struct {
	ID        string          `json:"id"`
	Method    string          `json:"method"`
	URL       string          `json:"url"`
	Headers   map[string]any  `json:"headers"`
	Body      json.RawMessage `json:"body"`
	DependsOn []string        `json:"dependsOn"`
}

type batchResponse struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

func (d *directory) serveBatch(w http.ResponseWriter, r *graphRequest) {
	var env struct {
		Requests []batchItem `json:"requests"`
	}
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	if err := dec.Decode(&env); err != nil || env.Requests == nil {
		writeError(w, r.http, http.StatusBadRequest, "BadRequest", "Invalid batch payload format.")
		return
	}
	if n := len(env.Requests); n == 0 || n > maxBatchItems {
		writeError(w, r.http, http.StatusBadRequest, "BadRequest",
			fmt.Sprintf("Invalid batch payload. The number of requests (%d) must be between 1 and %d.", n, maxBatchItems))
		return
	}
	ids := map[string]bool{}
	for _, it := range env.Requests {
		if it.ID == "" || it.Method == "" || it.URL == "" {
			writeError(w, r.http, http.StatusBadRequest, "BadRequest", "Invalid batch payload: id, method and url are required.")
			return
		}
		if ids[it.ID] {
			writeError(w, r.http, http.StatusBadRequest, "BadRequest", "Batch request contains duplicate Id '"+it.ID+"'.")
			return
		}
		ids[it.ID] = true
	}
	for _, it := range env.Requests {
		for _, dep := range it.DependsOn {
			if !ids[dep] || dep == it.ID {
				writeError(w, r.http, http.StatusBadRequest, "BadRequest", "Request '"+it.ID+"' depends on unknown request '"+dep+"'.")
				return
			}
		}
	}
	status := map[string]int{}
	var out []batchResponse
	pending := env.Requests
	for len(pending) > 0 {
		var later []batchItem
		progressed := false
		for _, it := range pending {
			ready := true
			for _, dep := range it.DependsOn {
				if _, done := status[dep]; !done {
					ready = false
				}
			}
			if !ready {
				later = append(later, it)
				continue
			}
			progressed = true
			resp := d.runBatchItem(r, it, status)
			status[it.ID] = resp.Status
			out = append(out, resp)
		}
		if !progressed {
			writeError(w, r.http, http.StatusBadRequest, "BadRequest", "Batch request contains a dependency cycle.")
			return
		}
		pending = later
	}
	writeJSON(w, http.StatusOK, map[string]any{"responses": out})
}

func (d *directory) runBatchItem(parent *graphRequest, it batchItem, status map[string]int) batchResponse {
	for _, dep := range it.DependsOn {
		if s := status[dep]; s < 200 || s > 299 {
			return itemError(it.ID, http.StatusFailedDependency, "FailedDependency", "Failed dependency.", nil)
		}
	}
	u, err := url.Parse(it.URL)
	if err != nil || u.IsAbs() {
		return itemError(it.ID, http.StatusBadRequest, "BadRequest", "Invalid request URL '"+it.URL+"'.", nil)
	}
	path := "/" + strings.TrimPrefix(u.Path, "/")
	if v, rest, ok := splitGraphPath(path); ok {
		if v != parent.Version {
			return itemError(it.ID, http.StatusBadRequest, "BadRequest", "Invalid request URL '"+it.URL+"'.", nil)
		}
		path = rest
	}
	if path == "/$batch" {
		return itemError(it.ID, http.StatusBadRequest, "BadRequest", "Nested batch requests are not supported.", nil)
	}
	hdr := http.Header{}
	for k, v := range it.Headers {
		hdr.Set(k, fmt.Sprint(v))
	}
	var body []byte
	if len(it.Body) > 0 && string(it.Body) != "null" {
		if hdr.Get("Content-Type") == "" {
			return itemError(it.ID, http.StatusBadRequest, "BadRequest", "Content-Type header is required when a body is present.", nil)
		}
		body = it.Body
	}
	req := &http.Request{Method: strings.ToUpper(it.Method), URL: u, Header: hdr}
	gr := &graphRequest{
		Method: req.Method, Version: parent.Version, Path: path, Query: u.Query(), RawQuery: u.RawQuery,
		Header: hdr, Body: body, Principal: parent.Principal, Base: parent.Base, http: req,
	}
	rec := httptest.NewRecorder()
	if rej := d.s.throttle.admit(rec.Header(), gr); rej != nil {
		rej.write(rec, req)
	} else {
		d.serve(rec, gr)
	}
	res := batchResponse{ID: it.ID, Status: rec.Code, Headers: map[string]string{}}
	for k, v := range rec.Header() {
		res.Headers[k] = strings.Join(v, ", ")
	}
	if b := bytes.TrimSpace(rec.Body.Bytes()); len(b) > 0 {
		if json.Valid(b) {
			res.Body = b
		} else {
			res.Body, _ = json.Marshal(string(b))
		}
	}
	return res
}

func itemError(id string, status int, code, msg string, h map[string]string) batchResponse {
	b, _ := json.Marshal(graphErrorBody(nil, code, msg))
	if h == nil {
		h = map[string]string{}
	}
	h["Content-Type"] = "application/json"
	return batchResponse{ID: id, Status: status, Headers: h, Body: b}
}
