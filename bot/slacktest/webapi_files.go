package slacktest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// File is an uploaded file (files.getUploadURLExternal → upload → completeUploadExternal).
type File struct {
	ID       string
	Name     string
	Title    string
	Length   int
	Content  []byte
	Uploaded bool
	Shared   bool
	Channel  string
	ThreadTS string
}

func (s *Server) filesGetUploadURL(r *apiRequest) apiResult {
	name := r.str("filename")
	n, err := strconv.Atoi(r.str("length"))
	if name == "" || err != nil || n <= 0 {
		return fail("invalid_arguments")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := &File{ID: s.nextID("F"), Name: name, Length: n}
	s.files[f.ID] = f
	s.fileOrder = append(s.fileOrder, f.ID)
	return ok(map[string]any{"upload_url": s.hs.URL + "/upload/" + f.ID, "file_id": f.ID})
}

// handleUpload takes the file body (multipart field "file", or a raw body).
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/upload/")
	call := Call{Method: "upload", Path: r.URL.Path, HTTPMethod: r.Method, ContentType: r.Header.Get("Content-Type"), Time: time.Now()}
	var content []byte
	if mf, _, err := r.FormFile("file"); err == nil {
		content, _ = io.ReadAll(io.LimitReader(mf, 1<<30))
		_ = mf.Close()
	} else {
		content, _ = io.ReadAll(io.LimitReader(r.Body, 1<<30))
	}
	s.mu.Lock()
	f := s.files[id]
	if f != nil {
		f.Content, f.Uploaded = content, true
		s.notify()
	}
	s.mu.Unlock()
	if f == nil {
		call.Status = http.StatusNotFound
		s.record(call)
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	call.Status = http.StatusOK
	s.record(call)
	w.Header().Set("Content-Type", "text/plain")
	_, _ = fmt.Fprintf(w, "OK - %d", len(content))
}

func (s *Server) filesCompleteUpload(r *apiRequest) apiResult {
	var list []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal([]byte(r.str("files")), &list); err != nil || len(list) == 0 {
		return fail("invalid_arguments")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	channel := r.str("channel_id")
	if channel == "" {
		channel, _, _ = strings.Cut(r.str("channels"), ",")
	}
	var ch *Channel
	if channel != "" {
		c, found := s.resolveChannel(channel, false)
		if !found {
			return fail("channel_not_found")
		}
		ch = c
	}
	out := make([]map[string]any, 0, len(list))
	var ids []string
	for _, it := range list {
		f := s.files[it.ID]
		if f == nil || !f.Uploaded {
			return fail("file_not_found")
		}
		f.Title = it.Title
		if f.Title == "" {
			f.Title = f.Name
		}
		out = append(out, map[string]any{"id": f.ID, "title": f.Title})
		ids = append(ids, f.ID)
	}
	if ch != nil {
		m := &Message{Channel: ch.ID, User: s.opts.BotUserID, BotID: s.opts.BotID, Text: r.str("initial_comment"),
			Via: "files.completeUploadExternal", Files: ids, ThreadTS: r.str("thread_ts"), TS: s.nextTS()}
		s.msgs[ch.ID] = append(s.msgs[ch.ID], m)
		for _, id := range ids {
			f := s.files[id]
			f.Shared, f.Channel, f.ThreadTS = true, ch.ID, m.ThreadTS
		}
	}
	s.notify()
	return ok(map[string]any{"files": out})
}
