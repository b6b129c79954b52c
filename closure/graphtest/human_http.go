package graphtest

// The human actions over HTTP under /emulator/tenants/..., for `closebot
// emulate` driven from another process. Registered on the control mux.

import (
	"encoding/json"
	"net/http"
)

func (d *directory) registerControls() {
	s := d.s
	tenantOr404 := func(w http.ResponseWriter, r *http.Request) *Tenant {
		t := s.Tenant(r.PathValue("tenant"))
		if t == nil {
			writeError(w, r, http.StatusNotFound, "Request_ResourceNotFound", "no tenant "+r.PathValue("tenant"))
		}
		return t
	}
	act := func(pattern string, f func(t *Tenant, r *http.Request) error) {
		s.handleControl(pattern, func(w http.ResponseWriter, r *http.Request) {
			t := tenantOr404(w, r)
			if t == nil {
				return
			}
			if err := f(t, r); err != nil {
				writeError(w, r, http.StatusConflict, "Conflict", err.Error())
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})
	}
	s.handleControl("POST /emulator/tenants", func(w http.ResponseWriter, r *http.Request) {
		var spec TenantSpec
		if err := json.NewDecoder(r.Body).Decode(&spec); err != nil {
			writeError(w, r, http.StatusBadRequest, "BadRequest", "body: "+err.Error())
			return
		}
		if err := spec.Validate(); err != nil {
			writeError(w, r, http.StatusBadRequest, "BadRequest", err.Error())
			return
		}
		t := s.AddTenant(spec)
		writeJSON(w, http.StatusCreated, map[string]any{"id": t.ID, "domain": t.Domain, "keptAdmin": t.KeptAdmin()})
	})
	s.handleControl("GET /emulator/tenants/{tenant}", func(w http.ResponseWriter, r *http.Request) {
		t := tenantOr404(w, r)
		if t == nil {
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"id": t.ID, "domain": t.Domain, "keptAdmin": t.KeptAdmin(), "users": t.Count("user"),
			"subscriptions": t.Subscriptions(), "cases": t.CaseIDs(), "deleteChecks": t.DeleteTenantChecks(),
			"features": t.Features(),
		})
	})
	act("POST /emulator/tenants/{tenant}/subscriptions/{id}/cancel", func(t *Tenant, r *http.Request) error {
		return t.CancelSubscription(r.PathValue("id"))
	})
	act("POST /emulator/tenants/{tenant}/subscriptions/{id}/delete", func(t *Tenant, r *http.Request) error {
		return t.DeleteSubscription(r.PathValue("id"))
	})
	act("POST /emulator/tenants/{tenant}/subscriptions/{id}/advance", func(t *Tenant, r *http.Request) error {
		return t.AdvanceSubscription(r.PathValue("id"))
	})
	act("POST /emulator/tenants/{tenant}/cases/{id}/release", func(t *Tenant, r *http.Request) error {
		return t.ReleaseHold(r.PathValue("id"))
	})
	act("POST /emulator/tenants/{tenant}/cases/{id}/holds/{source}", func(t *Tenant, r *http.Request) error {
		return t.SetHold(r.PathValue("id"), r.PathValue("source"), r.URL.Query().Get("status"))
	})
	act("POST /emulator/tenants/{tenant}/subscriptions/{id}/delete-self-service", func(t *Tenant, r *http.Request) error {
		return t.DeleteSelfServiceProduct(r.PathValue("id"))
	})
	act("POST /emulator/tenants/{tenant}/azure/remove", func(t *Tenant, r *http.Request) error {
		return t.RemoveAzureSubscription()
	})
	act("POST /emulator/tenants/{tenant}/sync/off", func(t *Tenant, r *http.Request) error {
		return t.TurnSyncOff()
	})
	act("POST /emulator/tenants/{tenant}/users/{id}/remove-from-restricted-units", func(t *Tenant, r *http.Request) error {
		return t.RemoveFromRestrictedUnits(r.PathValue("id"))
	})
	act("POST /emulator/tenants/{tenant}/closebot-app/remove", func(t *Tenant, r *http.Request) error {
		return t.RemoveClosebotApp(r.URL.Query().Get("purge") == "true")
	})
	act("POST /emulator/tenants/{tenant}/delete", func(t *Tenant, r *http.Request) error {
		return t.DeleteTenant(r.URL.Query().Get("force") == "true")
	})
}
