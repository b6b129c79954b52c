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
