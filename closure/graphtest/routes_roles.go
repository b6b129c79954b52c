package graphtest

import (
	"crypto/sha256"
	"fmt"
	"sort"
	"strings"
)

var grantFilters = filterable{"roleDefinitionId": "eq in", "principalId": "eq in"}

func sortByID(items []map[string]any) {
	sort.Slice(items, func(i, j int) bool { return idOf(items[i]) < idOf(items[j]) })
}

func (d *directory) listRoleDefinitions(c *call) {
	if !c.filterBy("UnifiedRoleDefinition", filterable{"displayName": "eq", "templateId": "eq", "id": "eq"}) {
		return
	}
	var items []map[string]any
	for _, r := range c.t.roleDefs {
		if m := r.json(); matches(m, c.q.filter) {
			items = append(items, m)
		}
	}
	sortByID(items)
	c.page("roleManagement/directory/roleDefinitions", items)
}

func (d *directory) getRoleDefinition(c *call) {
	r := c.t.roleDefs[strings.ToLower(c.p[0])]
	if r == nil {
		c.notFound(c.p[0])
		return
	}
	c.entity("roleManagement/directory/roleDefinitions/$entity", r.json())
}

// principalJSON is an expanded principal: the directoryObject with @odata.type.
func (c *call) principalJSON(id string) any {
	o := c.visible(id)
	if o == nil {
		return nil
	}
	return c.objJSON(o, true)
}

// grants lists grants whose principal still exists (deleting a principal
// drops its assignments from every listing) and that are in effect.
func (c *call) grants(src map[string]*roleGrant, kind string) []map[string]any {
	var items []map[string]any
	for _, g := range src {
		if c.visible(g.principalID) == nil || !grantActive(g, c.now) {
			continue
		}
		m := map[string]any{
			"id": g.id, "principalId": g.principalID, "roleDefinitionId": g.roleID, "directoryScopeId": "/",
		}
		switch kind {
		case "assignmentInstance":
			m["appScopeId"] = nil
			m["startDateTime"] = stamp(g.start)
			m["endDateTime"] = stampPtr(g.end)
			m["assignmentType"] = "Assigned"
			m["memberType"] = g.memberType
			m["roleAssignmentOriginId"] = g.id
			m["roleAssignmentScheduleId"] = g.id
		case "eligibilityInstance":
			m["appScopeId"] = nil
			m["startDateTime"] = stamp(g.start)
			m["endDateTime"] = stampPtr(g.end)
			m["memberType"] = g.memberType
			m["roleEligibilityScheduleId"] = g.id
		}
		if !matches(m, c.q.filter) {
			continue
		}
		if c.q.expands("principal") {
			m["principal"] = c.principalJSON(g.principalID)
		}
		items = append(items, m)
	}
	sortByID(items)
	return items
}

func (c *call) checkExpand(allowed ...string) bool {
	for _, e := range c.q.expand {
		if !hasAny(allowed, e) {
			c.fail(400, "BadRequest", "Parsing OData Select and Expand failed: Could not find a property named '"+e+"' on type 'microsoft.graph.entity'.")
			return false
		}
	}
	c.expandOK = true
	return true
}

func (d *directory) listGrants(c *call, src map[string]*roleGrant, kind, frag string) {
	if !c.filterBy("UnifiedRoleAssignment", grantFilters) {
		return
	}
	if !c.checkExpand("principal", "roleDefinition") {
		return
	}
	c.page(frag, c.grants(src, kind))
}

func (d *directory) listRoleAssignments(c *call) {
	d.listGrants(c, c.t.assignments, "assignment", "roleManagement/directory/roleAssignments")
}

func (d *directory) listAssignmentInstances(c *call) {
	d.listGrants(c, c.t.assignments, "assignmentInstance", "roleManagement/directory/roleAssignmentScheduleInstances")
}

func (d *directory) listEligibilityInstances(c *call) {
	d.listGrants(c, c.t.eligibilities, "eligibilityInstance", "roleManagement/directory/roleEligibilityScheduleInstances")
}

// directoryRoleID is the (tenant-specific) object id of an activated
// directoryRole, derived from the tenant and template so it is stable.
func directoryRoleID(tenantID, templateID string) string {
	h := sha256.Sum256([]byte("directoryRole/" + tenantID + "/" + templateID))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// activeRoles are the roles activated in the tenant: those with an assignment.
func (c *call) activeRoles() []*roleDef {
	seen := map[string]bool{}
	var out []*roleDef
	for _, g := range c.t.assignments {
		if r := c.t.roleDefs[g.roleID]; r != nil && !seen[r.id] {
			seen[r.id] = true
			out = append(out, r)
		}
	}
	return out
}

func (c *call) directoryRoleJSON(r *roleDef) map[string]any {
	return map[string]any{
		"id": directoryRoleID(c.t.id, r.id), "displayName": r.name, "description": r.description, "roleTemplateId": r.id,
	}
}

func (c *call) findDirectoryRole(key string) *roleDef {
	tmpl, byTemplate := strings.CutPrefix(key, "roleTemplateId=")
	for _, r := range c.activeRoles() {
		if (byTemplate && strings.EqualFold(r.id, tmpl)) || strings.EqualFold(directoryRoleID(c.t.id, r.id), key) {
			return r
		}
	}
	return nil
}

func (d *directory) listDirectoryRoles(c *call) {
	var items []map[string]any
	for _, r := range c.activeRoles() {
		items = append(items, c.directoryRoleJSON(r))
	}
	sortByID(items)
	c.page("directoryRoles", items)
}

func (d *directory) getDirectoryRole(c *call) {
	r := c.findDirectoryRole(c.p[0])
	if r == nil {
		c.notFound(c.p[0])
		return
	}
	c.entity("directoryRoles/$entity", c.directoryRoleJSON(r))
}

func (d *directory) listDirectoryRoleMembers(c *call) {
	r := c.findDirectoryRole(c.p[0])
	if r == nil {
		c.notFound(c.p[0])
		return
	}
	seen := map[string]bool{}
	var items []map[string]any
	for _, g := range c.t.assignments {
		if g.roleID != r.id || seen[g.principalID] || !grantActive(g, c.now) {
			continue
		}
		if o := c.visible(g.principalID); o != nil {
			seen[g.principalID] = true
			items = append(items, c.objJSON(o, true))
		}
	}
	sortByID(items)
	c.page("directoryObjects", items)
}

func (d *directory) listAdminUnits(c *call) {
	var items []map[string]any
	for _, o := range c.t.byKind("administrativeUnit", false) {
		items = append(items, o.json(c.t, c.now, false))
	}
	c.page("directory/administrativeUnits", items)
}

func (d *directory) getAdminUnit(c *call) {
	o := c.t.liveKind(c.p[0], "administrativeUnit")
	if o == nil {
		c.notFound(c.p[0])
		return
	}
	c.entity("directory/administrativeUnits/$entity", o.json(c.t, c.now, false))
}

func (d *directory) listAdminUnitMembers(c *call) {
	o := c.t.liveKind(c.p[0], "administrativeUnit")
	if o == nil {
		c.notFound(c.p[0])
		return
	}
	var items []map[string]any
	for _, id := range o.members {
		if m := c.visible(id); m != nil {
			items = append(items, c.objJSON(m, true))
		}
	}
	sortByID(items)
	c.page("directoryObjects", items)
}
