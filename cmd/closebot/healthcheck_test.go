package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
)

// `closebot healthcheck` exits 0 on a 200 and 1 otherwise (the image's
// HEALTHCHECK has no shell or curl), saying what it got.
func TestHealthcheck(t *testing.T) {
	var notReady atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if notReady.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("not ready: slack socket not connected\n"))
			return
		}
		w.Write([]byte("ready\n"))
	}))
	defer srv.Close()
	check := func() (int, string, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{"healthcheck", "--url", srv.URL + "/readyz"}, &out, &errb)
		return code, out.String(), errb.String()
	}
	code, out, _ := check()
	assert.Equal(t, 0, code)
	assert.Equal(t, "ready\n", out)

	notReady.Store(true)
	code, _, errs := check()
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "503 Service Unavailable: not ready: slack socket not connected")

	srv.Close()
	code, _, errs = check()
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "connection refused")
}
