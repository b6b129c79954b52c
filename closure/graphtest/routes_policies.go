package graphtest

import (
	"encoding/json"
	"net/http"
	"strings"
)

// securityDefaultsID is the fixed id of the policy (documented sample).
const securityDefaultsID = "00000000-0000-0000-0000-000000000005"

func (t *tenantData) securityDefaultsJSON() map[string]any {
	return map[string]any{
		"id": securityDefaultsID, "displayName": "Security Defaults", "isEnabled": t.secDefaults,
		"description": "Security defaults is a set of basic identity security mechanisms recommended by Microsoft. When enabled, these recommendations will be automatically enforced in your organization. Administrators and users will be better protected from common identity related attacks.",
	}
}

func (d *directory) getSecurityDefaults(c *call) {
	c.entity("policies/identitySecurityDefaultsEnforcementPolicy/$entity", c.t.securityDefaultsJSON())
}

func decodeBody(c *call) (map[string]any, bool) {
	var body map[string]any
	if err := json.Unmarshal(c.r.Body, &body); err != nil || body == nil {
		c.fail(http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
		return nil, false
	}
	return body, true
}

// onlyProps refuses a PATCH body naming any property outside allowed (and
// @odata.type) with OData's unknown-property error. Properties Graph has but
// the emulator does not model are refused too: answering 204 without
// applying them would report a write that never happened.
func onlyProps(c *call, typ string, body map[string]any, allowed ...string) bool {
	for k := range body {
		if k != "@odata.type" && !hasAny(allowed, k) {
			c.fail(http.StatusBadRequest, "BadRequest", "The property '"+k+"' does not exist on type 'microsoft.graph."+typ+
				"'. Make sure to only use property names that are defined by the type or mark the type as open type.")
			return false
		}
	}
	return true
}

func (d *directory) patchSecurityDefaults(c *call) {
	body, ok := decodeBody(c)
	if !ok || !onlyProps(c, "identitySecurityDefaultsEnforcementPolicy", body, "isEnabled") {
		return
	}
	if v, has := body["isEnabled"]; has {
		b, isBool := v.(bool)
		if !isBool {
			c.fail(http.StatusBadRequest, "BadRequest", "Invalid value for property 'isEnabled'.")
			return
		}
		if old := c.t.secDefaults; old != b {
			c.t.secDefaults = b
			d.record(c, "isEnabled", old, b)
		}
	}
	c.noContent()
}

func (d *directory) listCAPolicies(c *call) {
	var items []map[string]any
	for _, p := range c.t.ca {
		items = append(items, p.json())
	}
	sortByID(items)
	c.page("identity/conditionalAccess/policies", items)
}

func (d *directory) getCAPolicy(c *call) {
	p := c.t.ca[strings.ToLower(c.p[0])]
	if p == nil {
		c.notFound(c.p[0])
		return
	}
	c.entity("identity/conditionalAccess/policies/$entity", p.json())
}

var caStates = map[string]bool{"enabled": true, "disabled": true, "enabledForReportingButNotEnforced": true}

func (d *directory) patchCAPolicy(c *call) {
	p := c.t.ca[strings.ToLower(c.p[0])]
	if p == nil {
		c.notFound(c.p[0])
		return
	}
	body, ok := decodeBody(c)
	if !ok || !onlyProps(c, "conditionalAccessPolicy", body, "state") {
		return
	}
	if v, has := body["state"]; has {
		s, _ := v.(string)
		if !caStates[s] {
			c.fail(http.StatusBadRequest, "BadRequest", "Invalid value for property 'state'.")
			return
		}
		if old := p.state; old != s {
			p.state, p.changed = s, c.now
			d.record(c, "state", old, s)
		}
	}
	c.noContent()
}

func (d *directory) deleteCAPolicy(c *call) {
	id := strings.ToLower(c.p[0])
	p := c.t.ca[id]
	if p == nil {
		c.notFound(c.p[0])
		return
	}
	delete(c.t.ca, id)
	d.record(c, "", p.json(), nil)
	c.noContent()
}
