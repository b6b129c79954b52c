package graphtest

// OData query options as Graph's directory service applies them: $select,
// the $filter forms closebot uses, $top 1–999, $skiptoken paging with an
// absolute @odata.nextLink on this host, $count (needs ConsistencyLevel:
// eventual) and $expand=principal.

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

const defaultPageSize = 100 // documented default for /users; used for every list

type queryError struct {
	status        int
	code, message string
}

type odataQuery struct {
	selectSet   []string // nil: the resource's default set
	filter      []clause // nil: no filter
	filterRaw   string
	top         int // 0: default page size
	skipToken   string
	count       bool
	expand      []string
	consistency bool
}

func (q odataQuery) expands(name string) bool {
	for _, e := range q.expand {
		if e == name {
			return true
		}
	}
	return false
}

// clause is one comparison of a $filter joined by "and".
type clause struct {
	prop   string // property path; for lambda, the collection property
	op     string // eq, ne, in, any
	values []any  // string, bool or nil
}

func badQuery(code, msg string) *queryError {
	return &queryError{status: http.StatusBadRequest, code: code, message: msg}
}

func parseQuery(r *graphRequest, a Assumptions) (odataQuery, *queryError) {
	var q odataQuery
	q.consistency = strings.EqualFold(r.Header.Get("ConsistencyLevel"), "eventual")
	for key, vals := range r.Query {
		if len(vals) == 0 {
			continue
		}
		v := vals[0]
		switch strings.ToLower(strings.TrimPrefix(key, "$")) {
		case "select":
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					q.selectSet = append(q.selectSet, p)
				}
			}
		case "filter":
			cl, err := parseFilter(v)
			if err != nil {
				return q, badQuery("Request_UnsupportedQuery", "Invalid filter clause: "+err.Error())
			}
			q.filter, q.filterRaw = cl, v
		case "top":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 999 {
				return q, badQuery("Request_UnsupportedQuery",
					"Invalid page size specified: '"+v+"'. Must be between 1 and 999 inclusive.")
			}
			q.top = n
		case "skiptoken":
			q.skipToken = v
		case "count":
			q.count = strings.EqualFold(v, "true")
		case "expand":
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					q.expand = append(q.expand, p)
				}
			}
		case "skip":
			return q, badQuery("Request_BadRequest", "'$skip' is not supported by the service.")
		case "orderby", "search":
			// Not emulated: refused rather than ignored, so a caller relying
			// on order or search fails here instead of reading unsorted data.
			return q, badQuery("Request_UnsupportedQuery", "'"+key+"' is not supported by this emulator.")
		}
	}
	// Documented (Learn "Advanced query capabilities on Microsoft Entra ID
	// objects"): ne needs advanced-query mode, i.e. ConsistencyLevel:
	// eventual plus $count=true (or a /$count segment).
	advanced := q.consistency && (q.count || strings.HasSuffix(r.Path, "/$count"))
	for _, c := range q.filter {
		if c.op == "ne" && !advanced {
			return q, badQuery("Request_UnsupportedQuery", fmt.Sprintf(
				"Unsupported or invalid query filter clause specified for property '%s': operator 'ne' requires ConsistencyLevel: eventual and $count=true.", c.prop))
		}
		if c.prop == "onPremisesSyncEnabled" && a.SyncFilterNeedsAdvancedQuery && !advanced {
			return q, badQuery("Request_UnsupportedQuery", fmt.Sprintf(
				"Unsupported or invalid query filter clause specified for property '%s': requires ConsistencyLevel: eventual and $count=true.", c.prop))
		}
	}
	return q, nil
}

// --- $filter -------------------------------------------------------------

type filterLexer struct {
	s   string
	pos int
}

func (l *filterLexer) skipSpace() {
	for l.pos < len(l.s) && l.s[l.pos] == ' ' {
		l.pos++
	}
}

func (l *filterLexer) word() string {
	l.skipSpace()
	start := l.pos
	for l.pos < len(l.s) {
		ch := l.s[l.pos]
		if ch == ' ' || ch == '(' || ch == ')' || ch == ',' || ch == '\'' {
			break
		}
		l.pos++
	}
	return l.s[start:l.pos]
}

func (l *filterLexer) expect(ch byte) error {
	l.skipSpace()
	if l.pos >= len(l.s) || l.s[l.pos] != ch {
		return fmt.Errorf("expected %q at %d", ch, l.pos)
	}
	l.pos++
	return nil
}

func (l *filterLexer) literal() (any, error) {
	l.skipSpace()
	if l.pos < len(l.s) && l.s[l.pos] == '\'' {
		l.pos++
		var b strings.Builder
		for l.pos < len(l.s) {
			ch := l.s[l.pos]
			l.pos++
			if ch == '\'' {
				if l.pos < len(l.s) && l.s[l.pos] == '\'' {
					b.WriteByte('\'')
					l.pos++
					continue
				}
				return b.String(), nil
			}
			b.WriteByte(ch)
		}
		return nil, fmt.Errorf("unterminated string")
	}
	w := l.word()
	switch w {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "null":
		return nil, nil
	}
	return nil, fmt.Errorf("unsupported literal %q", w)
}

// parseFilter accepts `p eq|ne lit`, `p in (lit, …)` and
// `p/any(x:x eq lit)`, joined by `and`.
func parseFilter(s string) ([]clause, error) {
	l := &filterLexer{s: strings.TrimSpace(s)}
	var out []clause
	for {
		w := l.word()
		if w == "" {
			return nil, fmt.Errorf("empty clause")
		}
		if prop, lambda, ok := strings.Cut(w, "/"); ok && strings.HasPrefix(lambda, "any") && lambda == "any" {
			if err := l.expect('('); err != nil {
				return nil, err
			}
			v := l.word()
			vname, vref, ok := strings.Cut(v, ":")
			if !ok || vname != vref {
				return nil, fmt.Errorf("unsupported lambda %q", v)
			}
			if op := l.word(); op != "eq" {
				return nil, fmt.Errorf("unsupported lambda operator %q", op)
			}
			lit, err := l.literal()
			if err != nil {
				return nil, err
			}
			if err := l.expect(')'); err != nil {
				return nil, err
			}
			out = append(out, clause{prop: prop, op: "any", values: []any{lit}})
		} else {
			op := l.word()
			switch op {
			case "eq", "ne":
				lit, err := l.literal()
				if err != nil {
					return nil, err
				}
				out = append(out, clause{prop: w, op: op, values: []any{lit}})
			case "in":
				if err := l.expect('('); err != nil {
					return nil, err
				}
				var vals []any
				for {
					lit, err := l.literal()
					if err != nil {
						return nil, err
					}
					vals = append(vals, lit)
					l.skipSpace()
					if l.pos < len(l.s) && l.s[l.pos] == ',' {
						l.pos++
						continue
					}
					break
				}
				if err := l.expect(')'); err != nil {
					return nil, err
				}
				out = append(out, clause{prop: w, op: "in", values: vals})
			default:
				return nil, fmt.Errorf("unsupported operator %q", op)
			}
		}
		l.skipSpace()
		if l.pos >= len(l.s) {
			return out, nil
		}
		if w := l.word(); w != "and" {
			return nil, fmt.Errorf("unsupported connective %q", w)
		}
	}
}

// filterBy checks $filter against f and marks it honoured for page and
// countText; false when it has answered 400.
func (c *call) filterBy(resource string, f filterable) bool {
	if err := f.check(resource, c.q); err != nil {
		c.fail(err.status, err.code, err.message)
		return false
	}
	c.filterOK = true
	return true
}

// refuseUnhonoured answers 400 when the request carries a $filter (on a
// collection) or $expand that the route did not evaluate: ignoring either
// would hand back unfiltered or unexpanded data as if it were the answer.
func (c *call) refuseUnhonoured(collection bool) bool {
	if collection && c.q.filter != nil && !c.filterOK {
		c.fail(http.StatusBadRequest, "Request_UnsupportedQuery",
			"Unsupported or invalid query filter clause specified: '"+c.q.filterRaw+"' is not supported on this resource by this emulator.")
		return true
	}
	if len(c.q.expand) > 0 && !c.expandOK {
		c.fail(http.StatusBadRequest, "BadRequest", "Parsing OData Select and Expand failed: Could not find a property named '"+
			c.q.expand[0]+"' on type 'microsoft.graph.entity'.")
		return true
	}
	return false
}

// filterable names, per resource, the properties and operators a $filter
// may use; anything else is Request_UnsupportedQuery like Graph's directory.
type filterable map[string]string // property → allowed ops, e.g. "eq ne in"

func (f filterable) check(resource string, q odataQuery) *queryError {
	for _, c := range q.filter {
		ops, ok := f[c.prop]
		if !ok || !strings.Contains(" "+ops+" ", " "+c.op+" ") {
			return badQuery("Request_UnsupportedQuery", fmt.Sprintf(
				"Unsupported or invalid query filter clause specified for property '%s' of resource '%s'.", c.prop, resource))
		}
	}
	return nil
}

// matches evaluates the filter against an object's full JSON map.
func matches(obj map[string]any, cls []clause) bool {
	for _, c := range cls {
		v := obj[c.prop]
		switch c.op {
		case "eq":
			if !equalLit(v, c.values[0]) {
				return false
			}
		case "ne":
			if equalLit(v, c.values[0]) {
				return false
			}
		case "in":
			hit := false
			for _, lit := range c.values {
				hit = hit || equalLit(v, lit)
			}
			if !hit {
				return false
			}
		case "any":
			hit := false
			if list, ok := v.([]string); ok {
				for _, s := range list {
					hit = hit || equalLit(s, c.values[0])
				}
			}
			if !hit {
				return false
			}
		}
	}
	return true
}

func equalLit(v, lit any) bool {
	switch l := lit.(type) {
	case nil:
		return v == nil
	case bool:
		b, ok := v.(bool)
		return ok && b == l
	case string:
		s, ok := v.(string)
		return ok && strings.EqualFold(s, l)
	}
	return false
}

// --- $select -------------------------------------------------------------

// applySelect keeps the selected properties (plus @odata.type and any
// $expand-ed navigation property, which Graph returns whether or not it is
// also in $select); sel nil keeps everything. Properties not modelled are omitted.
func applySelect(obj map[string]any, sel, expand []string) map[string]any {
	out := make(map[string]any, len(obj))
	if sel == nil {
		for k, v := range obj {
			out[k] = v
		}
		return out
	}
	if t, ok := obj["@odata.type"]; ok {
		out["@odata.type"] = t
	}
	for _, k := range append(sel[:len(sel):len(sel)], expand...) {
		for name, v := range obj {
			if strings.EqualFold(name, k) {
				out[name] = v
			}
		}
	}
	return out
}

// --- paging --------------------------------------------------------------

func encodeSkipToken(lastID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("after:" + lastID))
}

func decodeSkipToken(tok string) (string, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || !strings.HasPrefix(string(raw), "after:") {
		return "", false
	}
	return strings.TrimPrefix(string(raw), "after:"), true
}

// page answers a collection: items are full JSON maps sorted by "id";
// filtering has been done. It pages after $skiptoken, applies $top and
// $select, adds @odata.count when asked, and an absolute nextLink.
func (c *call) page(frag string, items []map[string]any) {
	if c.refuseUnhonoured(true) {
		return
	}
	q := c.q
	if q.count && !q.consistency {
		// Graph's directory needs advanced-query mode for $count.
		c.fail(http.StatusBadRequest, "Request_BadRequest",
			"$count is not currently supported.")
		return
	}
	total := len(items)
	if q.skipToken != "" {
		after, ok := decodeSkipToken(q.skipToken)
		if !ok {
			c.fail(http.StatusBadRequest, "Directory_ExpiredPageToken", "The specified page token value has expired and can no longer be included in your request.")
			return
		}
		i := sort.Search(len(items), func(i int) bool { return idOf(items[i]) > after })
		items = items[i:]
	}
	size := q.top
	if size == 0 {
		size = defaultPageSize
	}
	out := map[string]any{"@odata.context": c.context(frag)}
	if q.count {
		out["@odata.count"] = total
	}
	if len(items) > size {
		out["@odata.nextLink"] = c.nextLink(idOf(items[size-1]))
		items = items[:size]
	}
	vals := make([]map[string]any, len(items))
	for i, it := range items {
		vals[i] = applySelect(it, q.selectSet, q.expand)
	}
	out["value"] = vals
	writeJSON(c.w, http.StatusOK, out)
}

func idOf(obj map[string]any) string { s, _ := obj["id"].(string); return s }

// nextLink rebuilds this request's query with a new $skiptoken, keeping
// `$` literal in names as Graph does.
func (c *call) nextLink(lastID string) string {
	keys := make([]string, 0, len(c.r.Query))
	for k := range c.r.Query {
		if strings.EqualFold(strings.TrimPrefix(k, "$"), "skiptoken") {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		for _, v := range c.r.Query[k] {
			parts = append(parts, k+"="+url.QueryEscape(v))
		}
	}
	parts = append(parts, "$skiptoken="+encodeSkipToken(lastID))
	return c.r.Base + "/" + strings.TrimPrefix(c.r.Path, "/") + "?" + strings.Join(parts, "&")
}

// countText answers /{collection}/$count as text/plain (needs ConsistencyLevel).
func (c *call) countText(n int) {
	if c.refuseUnhonoured(true) {
		return
	}
	if !c.q.consistency {
		c.fail(http.StatusBadRequest, "Request_BadRequest", "$count is not currently supported.")
		return
	}
	c.w.Header().Set("Content-Type", "text/plain")
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write([]byte(strconv.Itoa(n)))
}
