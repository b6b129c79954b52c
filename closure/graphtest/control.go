package graphtest

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// controlMux serves /emulator/...: counters, the request log and the "human"
// actions over HTTP, for `closebot emulate` running in another process.
type controlMux struct{ mux *http.ServeMux }

func newControlMux() *controlMux {
	return &controlMux{mux: http.NewServeMux()}
}

// handleControl adds a control route, e.g. "POST /emulator/tenants/{id}/delete";
// the directory's human actions register theirs here (net/http patterns).
func (s *Server) handleControl(pattern string, h http.HandlerFunc) {
	s.ctl.mux.HandleFunc(pattern, h)
}

// serveControl answers /emulator/... (stats, human actions over HTTP for `closebot emulate`).
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	s.registerAuthorityControls()
	if _, pattern := s.ctl.mux.Handler(r); pattern == "" {
		writeError(w, r, http.StatusNotFound, "UnknownError", "no control route for "+r.Method+" "+r.URL.Path)
		return
	}
	s.ctl.mux.ServeHTTP(w, r)
}

// registerAuthorityControls adds the authority's control routes once.
func (s *Server) registerAuthorityControls() {
	s.ctlOnce.Do(func() {
		s.handleControl("GET /emulator/stats", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, s.Stats())
		})
		s.handleControl("GET /emulator/requests", func(w http.ResponseWriter, r *http.Request) {
			// ?since=N answers the log from entry N on, so a poller
			// (the bench) reads each entry once.
			since, _ := strconv.Atoi(r.URL.Query().Get("since"))
			writeJSON(w, http.StatusOK, s.RequestsSince(since))
		})
		s.handleControl("POST /emulator/requests/reset", func(w http.ResponseWriter, r *http.Request) {
			s.ResetLog()
			w.WriteHeader(http.StatusNoContent)
		})
		s.handleControl("POST /emulator/throttle/{tenant}/spend-writes", func(w http.ResponseWriter, r *http.Request) {
			s.SpendTenantWrites(r.PathValue("tenant"))
			w.WriteHeader(http.StatusNoContent)
		})
		s.handleControl("GET /emulator/devicecodes", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, s.PendingDeviceCodes())
		})
		s.handleControl("POST /emulator/devicecodes/{code}/complete", func(w http.ResponseWriter, r *http.Request) {
			var in struct {
				User string `json:"user"`
				MFA  bool   `json:"mfa"`
			}
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
				writeError(w, r, http.StatusBadRequest, "BadRequest", "body: "+err.Error())
				return
			}
			if err := s.CompleteDeviceSignIn(r.PathValue("code"), in.User, in.MFA); err != nil {
				writeError(w, r, http.StatusConflict, "Conflict", err.Error())
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})
		s.handleControl("POST /emulator/devicecodes/{code}/decline", func(w http.ResponseWriter, r *http.Request) {
			if err := s.DeclineDeviceSignIn(r.PathValue("code")); err != nil {
				writeError(w, r, http.StatusConflict, "Conflict", err.Error())
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})
	})
}
