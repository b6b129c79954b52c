package graphtest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// writeJSON answers with a JSON body and Content-Type application/json; the
// SDK refuses to parse anything it sniffs as text.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// graphErrorBody is Graph's error JSON: code and message are both required,
// since ODataError.Error() dereferences message (graph-wire.md §2).
func graphErrorBody(r *http.Request, code, message string) map[string]any {
	inner := map[string]any{
		"date":       time.Now().UTC().Format("2006-01-02T15:04:05"),
		"request-id": newGUID(),
	}
	if r != nil {
		if id := r.Header.Get("client-request-id"); id != "" {
			inner["client-request-id"] = id
		}
	}
	return map[string]any{"error": map[string]any{"code": code, "message": message, "innerError": inner}}
}

// writeError answers with Graph's error JSON.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	writeJSON(w, status, graphErrorBody(r, code, message))
}

// readBody returns the request body, gunzipped when Content-Encoding says so
// (kiota's compression handler gzips every PATCH/POST body).
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") && len(raw) > 0 {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("gunzip body: %w", err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			return nil, fmt.Errorf("gunzip body: %w", err)
		}
		return plain, nil
	}
	return raw, nil
}
