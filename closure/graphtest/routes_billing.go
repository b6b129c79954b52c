package graphtest

import (
	"sort"
	"strings"
)

func (d *directory) listSubscriptions(c *call) {
	var items []map[string]any
	for _, s := range c.t.subs {
		items = append(items, s.json())
	}
	sortByID(items)
	c.page("directory/subscriptions", items)
}

func (d *directory) getSubscription(c *call) {
	key := c.p[0]
	if cid, ok := strings.CutPrefix(key, "commerce:"); ok {
		for _, s := range c.t.subs {
			if strings.EqualFold(s.commerceID, cid) {
				c.entity("directory/subscriptions/$entity", s.json())
				return
			}
		}
		c.notFound(cid)
		return
	}
	s := c.t.subs[strings.ToLower(key)]
	if s == nil {
		c.notFound(key)
		return
	}
	c.entity("directory/subscriptions/$entity", s.json())
}

// skuRank orders capability statuses from most to least alive; a SKU shows
// the best status among its subscriptions (assumed aggregation).
var skuRank = map[string]int{"Enabled": 0, "Warning": 1, "Suspended": 2, "LockedOut": 3, "Deleted": 4}

func (d *directory) listSubscribedSkus(c *call) {
	type agg struct {
		skuID, part, status string
		units               map[string]int
		consumed            int
		subIDs              []string
	}
	bySku := map[string]*agg{}
	for _, s := range c.t.subs {
		a := bySku[s.skuID]
		if a == nil {
			a = &agg{skuID: s.skuID, part: s.skuPart, status: s.status, units: map[string]int{}}
			bySku[s.skuID] = a
		}
		if skuRank[s.status] < skuRank[a.status] {
			a.status = s.status
		}
		switch s.status {
		case "Enabled":
			a.units["enabled"] += s.licenses
		case "Warning":
			a.units["warning"] += s.licenses
		case "Suspended":
			a.units["suspended"] += s.licenses
		case "LockedOut":
			a.units["lockedOut"] += s.licenses
		}
		a.consumed += s.consumed
		a.subIDs = append(a.subIDs, s.commerceID)
	}
	var items []map[string]any
	for _, a := range bySku {
		sort.Strings(a.subIDs)
		plans := []any{}
		for _, p := range plansOf(a.part) {
			plans = append(plans, map[string]any{"servicePlanId": p.id, "servicePlanName": p.name,
				"provisioningStatus": "Success", "appliesTo": "User"})
		}
		items = append(items, map[string]any{
			"id": c.t.id + "_" + a.skuID, "accountId": c.t.id, "accountName": c.t.name, "appliesTo": "User",
			"capabilityStatus": a.status, "consumedUnits": a.consumed, "skuId": a.skuID, "skuPartNumber": a.part,
			"prepaidUnits": map[string]any{"enabled": a.units["enabled"], "suspended": a.units["suspended"],
				"warning": a.units["warning"], "lockedOut": a.units["lockedOut"]},
			"servicePlans": plans, "subscriptionIds": a.subIDs,
		})
	}
	sortByID(items)
	c.page("subscribedSkus", items)
}
