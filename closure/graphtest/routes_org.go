package graphtest

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

func (t *tenantData) orgJSON() map[string]any {
	var verified []map[string]any
	for _, d := range t.domains {
		if !d.verified {
			continue
		}
		typ := "Managed"
		if d.federated {
			typ = "Federated"
		}
		verified = append(verified, map[string]any{
			"name": d.name, "isDefault": d.isDefault, "isInitial": d.initial, "type": typ,
			"capabilities": "Email, OfficeCommunicationsOnline",
		})
	}
	var sync any // null for a tenant that never synced (documented)
	var last any
	if t.syncConfigured {
		sync = t.syncEnabled
		last = stamp(t.lastSync)
	}
	return map[string]any{
		"id": t.id, "displayName": t.name, "tenantType": t.tenantType, "createdDateTime": stamp(t.created),
		"verifiedDomains": verified, "onPremisesSyncEnabled": sync, "onPremisesLastSyncDateTime": last,
		"countryLetterCode": "US", "preferredLanguage": "en", "businessPhones": []string{},
		"technicalNotificationMails": []string{}, "assignedPlans": []any{}, "provisionedPlans": []any{},
		"city": nil, "country": nil, "postalCode": nil, "state": nil, "street": nil,
	}
}

func (d *directory) listOrganization(c *call) {
	c.page("organization", []map[string]any{c.t.orgJSON()})
}

func (d *directory) getOrganization(c *call) {
	if !strings.EqualFold(c.p[0], c.t.id) {
		c.notFound(c.p[0])
		return
	}
	c.entity("organization/$entity", c.t.orgJSON())
}

// patchOrganization accepts onPremisesSyncEnabled (documented in beta; on
// v1.0 refused as read-only when Assumed.V1SyncReadOnly).
func (d *directory) patchOrganization(c *call) {
	if !strings.EqualFold(c.p[0], c.t.id) {
		c.notFound(c.p[0])
		return
	}
	var body map[string]any
	if err := json.Unmarshal(c.r.Body, &body); err != nil {
		c.fail(http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload.")
		return
	}
	for k := range body {
		if k != "onPremisesSyncEnabled" && k != "@odata.type" {
			c.fail(http.StatusBadRequest, "Request_BadRequest", "Property '"+k+"' is read-only and cannot be set.")
			return
		}
	}
	v, has := body["onPremisesSyncEnabled"]
	if !has {
		c.noContent()
		return
	}
	want, ok := v.(bool)
	if !ok {
		c.fail(http.StatusBadRequest, "BadRequest", "Invalid value for property 'onPremisesSyncEnabled'.")
		return
	}
	if c.r.Version == "v1.0" && d.s.opts.Assumed.V1SyncReadOnly {
		c.fail(http.StatusBadRequest, "Request_BadRequest", "Property 'onPremisesSyncEnabled' is read-only and cannot be set.")
		return
	}
	if c.t.syncOffRefused {
		c.denied()
		return
	}
	old := c.t.syncEnabled
	if want == old {
		c.noContent()
		return
	}
	if want {
		// Documented: sync can be re-enabled only 72 h after turning it off.
		if c.now.Before(c.t.syncOffAt.Add(72 * time.Hour)) {
			c.fail(http.StatusBadRequest, "Request_BadRequest",
				"Directory synchronization cannot be re-enabled within 72 hours of being disabled.")
			return
		}
		c.t.syncEnabled, c.t.syncConfigured = true, true
	} else {
		c.t.syncEnabled = false
		c.t.syncOffAt = c.now
	}
	d.record(c, "onPremisesSyncEnabled", old, want)
	c.noContent()
}

func (d *directory) listDomains(c *call) {
	var items []map[string]any
	for _, dm := range c.t.domains {
		items = append(items, dm.json())
	}
	sortByID(items)
	c.page("domains", items)
}

func (d *directory) getDomain(c *call) {
	for _, dm := range c.t.domains {
		if strings.EqualFold(dm.name, c.p[0]) {
			c.entity("domains/$entity", dm.json())
			return
		}
	}
	c.notFound(c.p[0])
}
