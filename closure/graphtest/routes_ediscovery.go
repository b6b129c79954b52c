package graphtest

import "strings"

func (d *directory) listCases(c *call) {
	var items []map[string]any
	for _, e := range c.t.cases {
		items = append(items, e.json())
	}
	sortByID(items)
	c.page("security/cases/ediscoveryCases", items)
}

func (d *directory) getCase(c *call) {
	e := c.t.cases[strings.ToLower(c.p[0])]
	if e == nil {
		c.notFound(c.p[0])
		return
	}
	c.entity("security/cases/ediscoveryCases/$entity", e.json())
}

func (d *directory) listCustodians(c *call) {
	e := c.t.cases[strings.ToLower(c.p[0])]
	if e == nil {
		c.notFound(c.p[0])
		return
	}
	var items []map[string]any
	for _, cu := range e.custodians {
		items = append(items, cu.json())
	}
	sortByID(items)
	c.page("security/cases/ediscoveryCases('"+e.id+"')/custodians", items)
}

func (d *directory) listNoncustodialSources(c *call) {
	e := c.t.cases[strings.ToLower(c.p[0])]
	if e == nil {
		c.notFound(c.p[0])
		return
	}
	var items []map[string]any
	for _, ds := range e.noncustody {
		items = append(items, ds.noncustodialJSON())
	}
	sortByID(items)
	c.page("security/cases/ediscoveryCases('"+e.id+"')/noncustodialDataSources", items)
}

func (d *directory) listHoldPolicies(c *call) {
	e := c.t.cases[strings.ToLower(c.p[0])]
	if e == nil {
		c.notFound(c.p[0])
		return
	}
	var items []map[string]any
	for _, h := range e.holdPolicies {
		items = append(items, h.json())
	}
	sortByID(items)
	c.page("security/cases/ediscoveryCases('"+e.id+"')/legalHolds", items)
}
