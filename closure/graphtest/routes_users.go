package graphtest

import (
	"encoding/json"
	"net/http"
	"strings"
)

// userDefaultSelect is what GET /users returns without $select (documented
// in user-list: "By default, only a limited set of properties are returned").
var userDefaultSelect = []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail",
	"mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"}

var userFilters = filterable{
	"userType": "eq ne in", "onPremisesSyncEnabled": "eq ne", "accountEnabled": "eq ne",
	"userPrincipalName": "eq in", "id": "eq in", "mail": "eq in", "displayName": "eq",
}

func (c *call) userSelect() {
	if c.q.selectSet == nil {
		c.q.selectSet = userDefaultSelect
	}
}

func (d *directory) listUsers(c *call) {
	if !c.filterBy("User", userFilters) {
		return
	}
	var items []map[string]any
	for _, o := range c.listed("user") {
		m := c.objJSON(o, false)
		if matches(m, c.q.filter) {
			items = append(items, m)
		}
	}
	c.userSelect()
	frag := "users"
	if c.r.Query.Has("$select") {
		frag = "users(" + strings.Join(c.q.selectSet, ",") + ")"
	}
	c.page(frag, items)
}

func (d *directory) countUsers(c *call) { d.countKind(c, "user", "User", userFilters) }

func (d *directory) getUser(c *call) {
	u := c.t.findUser(c.p[0])
	if u == nil {
		u = c.byID(c.p[0], "user")
	}
	if u == nil {
		c.notFound(c.p[0])
		return
	}
	c.userSelect()
	c.entity("users/$entity", c.objJSON(u, false))
}

// callerRoles returns the roles held by the caller: the signed-in user for
// delegated tokens, else the service principal of the calling app.
func (c *call) callerRoles() []string {
	if c.r.Principal.Delegated && c.r.Principal.ObjectID != "" {
		return c.t.rolesOf(c.r.Principal.ObjectID, c.now)
	}
	for _, o := range c.t.byKind("servicePrincipal", false) {
		if strings.EqualFold(o.str("appId"), c.r.Principal.AppID) {
			return c.t.rolesOf(o.id, c.now)
		}
	}
	return nil
}

func hasAny(have []string, want ...string) bool {
	for _, h := range have {
		for _, w := range want {
			if h == w {
				return true
			}
		}
	}
	return false
}

// inRestrictedAU names a restricted-management administrative unit holding id.
func (t *tenantData) inRestrictedAU(id string) bool {
	for _, au := range t.byKind("administrativeUnit", false) {
		if !au.boolean("isMemberManagementRestricted") {
			continue
		}
		for _, m := range au.members {
			if m == id {
				return true
			}
		}
	}
	return false
}

func (d *directory) deleteUser(c *call) {
	u := c.t.findUser(c.p[0])
	if u == nil {
		c.notFound(c.p[0])
		return
	}
	a := d.s.opts.Assumed
	if c.t.userSynced(u, c.now) && !a.SyncedUserDeletable {
		c.fail(http.StatusBadRequest, "Request_BadRequest",
			"Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.")
		return
	}
	if c.t.inRestrictedAU(u.id) && !a.RestrictedAUMembersDeletable {
		c.denied()
		return
	}
	if len(c.t.rolesOf(u.id, c.now)) > 0 && !a.AdminDeleteWithoutPrivilegedRole &&
		!hasAny(c.callerRoles(), RoleGlobalAdministrator, RolePrivilegedAuthenticationAdmin) {
		c.denied()
		return
	}
	u.deletedAt = ptrTime(c.now)
	d.record(c, "", nil, nil)
	c.noContent()
}

func (d *directory) listAuthMethods(c *call) {
	u := c.t.findUser(c.p[0])
	if u == nil {
		c.notFound(c.p[0])
		return
	}
	items := make([]map[string]any, 0, len(u.methods))
	for _, m := range u.methods {
		items = append(items, m.json())
	}
	sortByID(items)
	c.page("users('"+u.id+"')/authentication/methods", items)
}

// perUserMfaStates are the documented values of beta strongAuthenticationRequirements.perUserMfaState.
var perUserMfaStates = map[string]bool{"enforced": true, "enabled": true, "disabled": true}

func (d *directory) getRequirements(c *call) {
	u := c.t.findUser(c.p[0])
	if u == nil {
		c.notFound(c.p[0])
		return
	}
	writeJSON(c.w, http.StatusOK, map[string]any{
		"@odata.context":  c.context("users('" + u.id + "')/authentication/requirements"),
		"perUserMfaState": u.mfaState,
	})
}

func (d *directory) patchRequirements(c *call) {
	u := c.t.findUser(c.p[0])
	if u == nil {
		c.notFound(c.p[0])
		return
	}
	var body map[string]any
	if err := json.Unmarshal(c.r.Body, &body); err != nil {
		c.fail(http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload.")
		return
	}
	if !onlyProps(c, "strongAuthenticationRequirements", body, "perUserMfaState") {
		return
	}
	state, ok := body["perUserMfaState"].(string)
	if !ok || !perUserMfaStates[state] {
		c.fail(http.StatusBadRequest, "BadRequest", "Invalid value for property 'perUserMfaState'.")
		return
	}
	if old := u.mfaState; old != state {
		u.mfaState = state
		d.record(c, "perUserMfaState", old, state)
	}
	c.noContent()
}

// deletedCasts maps the type-cast segments of /directory/deletedItems to
// object kinds; the SDK sends graph.user, the docs microsoft.graph.user.
var deletedCasts = map[string]string{
	"user": "user", "application": "application", "servicePrincipal": "servicePrincipal",
	"group": "group", "device": "device", "administrativeUnit": "administrativeUnit",
}

func (d *directory) getDeletedItem(c *call) {
	seg := c.p[0]
	if cast, ok := strings.CutPrefix(seg, "microsoft.graph."); ok {
		seg = "graph." + cast
	}
	if cast, ok := strings.CutPrefix(seg, "graph."); ok {
		kind, known := deletedCasts[cast]
		if !known {
			c.fail(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+c.p[0]+"'.")
			return
		}
		if !c.authorized(deletedItemPerms[kind].read) {
			return
		}
		f := filterable{"id": "eq in", "displayName": "eq"}
		if kind == "user" {
			f = userFilters
		}
		if !c.filterBy(kind, f) {
			return
		}
		var items []map[string]any
		for _, o := range c.t.byKind(kind, true) {
			m := o.json(c.t, c.now, true)
			if matches(m, c.q.filter) {
				items = append(items, m)
			}
		}
		if kind == "user" && c.q.selectSet == nil {
			c.q.selectSet = append(append([]string{}, userDefaultSelect...), "deletedDateTime")
		}
		c.page("directory/deletedItems/microsoft.graph."+kind, items)
		return
	}
	o := c.t.objects[strings.ToLower(seg)]
	if o == nil || o.deletedAt == nil {
		c.notFound(seg)
		return
	}
	if !c.authorized(deletedItemPerms[o.kind].read) {
		return
	}
	c.entity("directory/deletedItems/$entity", o.json(c.t, c.now, true))
}

func (d *directory) purgeDeletedItem(c *call) {
	id := strings.ToLower(c.p[0])
	o := c.t.objects[id]
	if o == nil || o.deletedAt == nil {
		c.notFound(c.p[0])
		return
	}
	if !c.authorized(deletedItemPerms[o.kind].purge) {
		return
	}
	delete(c.t.objects, id)
	d.record(c, "", nil, nil)
	c.noContent()
}

func (d *directory) restoreDeletedItem(c *call) {
	o := c.t.objects[strings.ToLower(c.p[0])]
	if o == nil || o.deletedAt == nil {
		c.notFound(c.p[0])
		return
	}
	if !c.authorized(deletedItemPerms[o.kind].restore) {
		return
	}
	if o.kind == "user" {
		if other := c.t.findUser(o.str("userPrincipalName")); other != nil {
			c.fail(http.StatusBadRequest, "Request_BadRequest",
				"Another object with the same value for property userPrincipalName already exists.")
			return
		}
	}
	o.deletedAt = nil
	d.record(c, "", nil, nil)
	out := o.json(c.t, c.now, true)
	out["@odata.context"] = c.context("directoryObjects/$entity")
	writeJSON(c.w, http.StatusOK, out)
}
