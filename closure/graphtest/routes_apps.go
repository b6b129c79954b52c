package graphtest

import (
	"net/http"
	"strings"
)

// listKind answers a directoryObject collection of one kind with filters.
func (d *directory) listKind(c *call, kind, resource, frag string, f filterable) {
	if !c.filterBy(resource, f) {
		return
	}
	var items []map[string]any
	for _, o := range c.listed(kind) {
		if m := c.objJSON(o, false); matches(m, c.q.filter) {
			items = append(items, m)
		}
	}
	c.page(frag, items)
}

func (d *directory) getKind(c *call, kind, frag string) {
	o := c.byID(c.p[0], kind)
	if o == nil {
		c.notFound(c.p[0])
		return
	}
	c.entity(frag, c.objJSON(o, false))
}

func (d *directory) listDevices(c *call) {
	d.listKind(c, "device", "Device", "devices", deviceFilters)
}

func (d *directory) countDevices(c *call) { d.countKind(c, "device", "Device", deviceFilters) }

var deviceFilters = filterable{"accountEnabled": "eq", "operatingSystem": "eq", "trustType": "eq"}

// countKind answers /{collection}/$count, honouring $filter like the list.
func (d *directory) countKind(c *call, kind, resource string, f filterable) {
	if !c.filterBy(resource, f) {
		return
	}
	n := 0
	for _, o := range c.listed(kind) {
		if matches(c.objJSON(o, false), c.q.filter) {
			n++
		}
	}
	c.countText(n)
}

func (d *directory) listGroups(c *call) {
	d.listKind(c, "group", "Group", "groups", filterable{"groupTypes": "any", "mailEnabled": "eq", "securityEnabled": "eq", "displayName": "eq"})
}

func (d *directory) countGroups(c *call) {
	d.countKind(c, "group", "Group", filterable{"groupTypes": "any"})
}

func (d *directory) listApplications(c *call) {
	d.listKind(c, "application", "Application", "applications", filterable{"appId": "eq in", "displayName": "eq", "signInAudience": "eq"})
}

func (d *directory) getApplication(c *call) { d.getKind(c, "application", "applications/$entity") }

func (d *directory) deleteApplication(c *call) {
	o := c.t.liveKind(c.p[0], "application")
	if o == nil {
		c.notFound(c.p[0])
		return
	}
	o.deletedAt = ptrTime(c.now)
	// Deleting an app registration also deletes its service principal in the home tenant.
	for _, sp := range c.t.byKind("servicePrincipal", false) {
		if strings.EqualFold(sp.str("appId"), o.str("appId")) {
			sp.deletedAt = ptrTime(c.now)
		}
	}
	d.record(c, "", nil, nil)
	c.noContent()
}

func (d *directory) listServicePrincipals(c *call) {
	d.listKind(c, "servicePrincipal", "ServicePrincipal", "servicePrincipals", filterable{
		"appOwnerOrganizationId": "eq ne in", "servicePrincipalType": "eq ne", "appId": "eq in",
		"accountEnabled": "eq", "displayName": "eq",
	})
}

func (d *directory) getServicePrincipal(c *call) {
	d.getKind(c, "servicePrincipal", "servicePrincipals/$entity")
}

func (d *directory) deleteServicePrincipal(c *call) {
	o := c.t.liveKind(c.p[0], "servicePrincipal")
	if o == nil {
		c.notFound(c.p[0])
		return
	}
	if o.undeletable && o.str("appOwnerOrganizationId") == microsoftServicesTenant && !d.s.opts.Assumed.FirstPartySPsDeletable {
		c.fail(http.StatusBadRequest, "Request_BadRequest",
			"Cannot delete the service principal of a Microsoft first-party application.")
		return
	}
	if o.undeletable && o.str("appOwnerOrganizationId") != microsoftServicesTenant && !d.s.opts.Assumed.UndeletableSPsDeletable {
		// Assumed: the how-to only says a few enterprise apps "can't be
		// deleted"; Graph's refusal for them is not documented.
		c.denied()
		return
	}
	o.deletedAt = ptrTime(c.now)
	d.record(c, "", nil, nil)
	c.noContent()
}

func (d *directory) patchServicePrincipal(c *call) {
	o := c.t.liveKind(c.p[0], "servicePrincipal")
	if o == nil {
		c.notFound(c.p[0])
		return
	}
	body, ok := decodeBody(c)
	if !ok {
		return
	}
	for k, v := range body {
		switch k {
		case "@odata.type":
		case "accountEnabled":
			b, isBool := v.(bool)
			if !isBool {
				c.fail(http.StatusBadRequest, "BadRequest", "Invalid value for property 'accountEnabled'.")
				return
			}
			if old := o.boolean("accountEnabled"); old != b {
				o.props["accountEnabled"] = b
				d.record(c, "accountEnabled", old, b)
			}
		default:
			c.fail(http.StatusBadRequest, "Request_BadRequest", "Property '"+k+"' is not supported by this emulator.")
			return
		}
	}
	c.noContent()
}
