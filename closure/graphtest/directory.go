package graphtest

// The directory: every tenant's objects and the Graph routes over them. One
// mutex guards all tenants; Graph calls are short and the emulator's job is
// fidelity, not throughput beyond the documented quotas.

import (
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Microsoft's first-party owner tenant ("Microsoft Services"), the
// appOwnerOrganizationId of Microsoft's own service principals.
const microsoftServicesTenant = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"

// microsoftCorpTenant is Microsoft's corporate tenant, the other owner of
// Microsoft's first-party apps (graph-wire §1.4, community convention).
const microsoftCorpTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"

// Well-known role template ids (documented, stable across tenants).
const (
	RoleGlobalAdministrator              = "62e90394-69f5-4237-9190-012177145e10"
	RolePrivilegedAuthenticationAdmin    = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"
	RolePrivilegedRoleAdministrator      = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	RoleUserAdministrator                = "fe930be7-5e62-47db-91af-98c3a49a38b1"
	RoleHybridIdentityAdministrator      = "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2"
	RoleExchangeAdministrator            = "29232cdf-9323-42fd-ade2-1d097af3e4de"
	RoleAuthenticationAdministrator      = "c4e39bd9-1100-46d3-8c65-fb160da0071f"
	RoleSecurityAdministrator            = "194ae4cb-b126-40b2-bd5b-6091b380977d"
	RoleDirectorySynchronizationAccounts = "d29b2b05-8046-44ba-8758-1e26182fcf32"
)

// deletedRetention is how long a soft-deleted object can be restored (documented: 30 days).
const deletedRetention = 30 * 24 * time.Hour

type directory struct {
	s *Server

	mu      sync.Mutex
	tenants map[string]*tenantData // by id
	writes  []WriteRecord
	lag     time.Duration // replication lag of listings (Options.ReplicationLag)
}

func newDirectory(s *Server) *directory {
	d := &directory{s: s, tenants: map[string]*tenantData{}, lag: s.opts.ReplicationLag}
	d.registerControls()
	return d
}

// WriteRecord is one accepted Graph write, with the previous value of the
// setting it changed (empty Property for deletes/restores).
type WriteRecord struct {
	Time     time.Time
	TenantID string
	AppID    string
	Method   string
	Path     string // after the version, e.g. /users/42
	Version  string
	Property string
	Old, New any
}

// Writes returns every accepted write so far, oldest first.
func (s *Server) Writes() []WriteRecord {
	s.dir.mu.Lock()
	defer s.dir.mu.Unlock()
	return append([]WriteRecord(nil), s.dir.writes...)
}

func (d *directory) now() time.Time { return d.s.clock.Now().UTC() }

func (d *directory) record(c *call, prop string, old, new any) {
	d.writes = append(d.writes, WriteRecord{
		Time: d.now(), TenantID: c.t.id, AppID: c.r.Principal.AppID, Method: c.r.Method,
		Path: c.r.Path, Version: c.r.Version, Property: prop, Old: old, New: new,
	})
}

// lookupTenant finds a live tenant by id or any of its domains (case-insensitive); mu held.
func (d *directory) lookupTenant(idOrDomain string) *tenantData {
	key := strings.ToLower(idOrDomain)
	if t, ok := d.tenants[key]; ok {
		return t
	}
	for _, t := range d.tenants {
		for _, dm := range t.domains {
			if strings.EqualFold(dm.name, key) {
				return t
			}
		}
	}
	return nil
}

// tenant resolves a tenant id or verified domain (case-insensitive) to its id
// and user count; ok is false for an unknown or deleted tenant.
func (d *directory) tenant(idOrDomain string) (id string, users int, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.lookupTenant(idOrDomain)
	if t == nil || t.deleted {
		return "", 0, false
	}
	return t.id, t.liveCount("user"), true
}

// user resolves a user of a tenant by object id or userPrincipalName.
func (d *directory) user(tenantID, idOrUPN string) (objectID string, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.lookupTenant(tenantID)
	if t == nil || t.deleted {
		return "", false
	}
	u := t.findUser(idOrUPN)
	if u == nil {
		return "", false
	}
	return u.id, true
}

// call is one Graph request being answered against one tenant.
type call struct {
	d   *directory
	w   http.ResponseWriter
	r   *graphRequest
	t   *tenantData
	q   odataQuery
	p   []string // values of the route's {} segments
	now time.Time

	filterOK, expandOK bool // the route evaluated $filter / $expand (filterBy, checkExpand)
}

func (c *call) fail(status int, code, msg string) { writeError(c.w, c.r.http, status, code, msg) }

func (c *call) notFound(id string) {
	c.fail(http.StatusNotFound, "Request_ResourceNotFound",
		"Resource '"+id+"' does not exist or one of its queried reference-property objects are not present.")
}

func (c *call) denied() {
	c.fail(http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
}

func (c *call) noContent() { c.w.WriteHeader(http.StatusNoContent) }

// context is the @odata.context value for a resource path like "users" or
// "users/$entity"; the host is the emulator's, like nextLink.
func (c *call) context(frag string) string { return c.r.Base + "/$metadata#" + frag }

// entity answers one object with its @odata.context.
func (c *call) entity(frag string, obj map[string]any) {
	if c.refuseUnhonoured(false) {
		return
	}
	out := applySelect(obj, c.q.selectSet, c.q.expand)
	out["@odata.context"] = c.context(frag)
	writeJSON(c.w, http.StatusOK, out)
}

// serve answers one authenticated, admitted Graph call.
func (d *directory) serve(w http.ResponseWriter, r *graphRequest) {
	if r.Method == http.MethodPost && r.Path == "/$batch" {
		d.serveBatch(w, r)
		return
	}
	segs := splitSegments(r.Path)
	rt, params, methodOK := matchRoute(segs, r.Method, r.Version)
	if rt == nil {
		if methodOK {
			writeError(w, r.http, http.StatusMethodNotAllowed, "Request_BadRequest",
				"Specified HTTP method is not allowed for the request target.")
			return
		}
		last := ""
		if len(segs) > 0 {
			last = segs[len(segs)-1]
		}
		writeError(w, r.http, http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+last+"'.")
		return
	}
	q, qerr := parseQuery(r, d.s.opts.Assumed)
	if qerr != nil {
		writeError(w, r.http, qerr.status, qerr.code, qerr.message)
		return
	}
	if r.Principal == nil {
		writeError(w, r.http, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.lookupTenant(r.Principal.TenantID)
	if t == nil {
		// A token the authority accepted for a tenant this directory never
		// seeded (authority-only tests): no data to show.
		writeError(w, r.http, http.StatusNotFound, "Request_ResourceNotFound",
			"Tenant '"+r.Principal.TenantID+"' has no directory data in this emulator.")
		return
	}
	if t.deleted {
		// Assumed: a token outliving its tenant is refused as invalid.
		writeError(w, r.http, http.StatusUnauthorized, "InvalidAuthenticationToken",
			"Access token validation failure. The tenant '"+r.Principal.TenantID+"' does not exist.")
		return
	}
	c := &call{d: d, w: w, r: r, t: t, q: q, p: params, now: d.now()}
	t.settle(c.now)
	if rt.perms != nil && !c.authorized(rt.perms) {
		return
	}
	if rt.feature != "" && !c.licensed(rt.feature) {
		return
	}
	rt.h(d, c)
}

func splitSegments(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// sortedIDs returns the keys of m sorted; paging walks ids in this order.
func sortedIDs[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// SetReplicationLag changes Options.ReplicationLag: how long listings keep
// showing a deleted object (0 turns the lag off).
func (s *Server) SetReplicationLag(lag time.Duration) {
	s.dir.mu.Lock()
	defer s.dir.mu.Unlock()
	s.dir.lag = lag
}

// lagging reports whether o is deleted but still replicated to the
// replica a listing reads (Options.ReplicationLag).
func (c *call) lagging(o *dirObject) bool {
	return o != nil && o.deletedAt != nil && c.d.lag > 0 && c.now.Before(o.deletedAt.Add(c.d.lag))
}

// listed returns the objects of kind a collection listing shows now: live
// ones and, under replication lag, recently deleted ones; sorted by id.
func (c *call) listed(kind string) []*dirObject {
	out := c.t.byKind(kind, false)
	if c.d.lag <= 0 {
		return out
	}
	for _, o := range c.t.byKind(kind, true) {
		if c.lagging(o) {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// visible returns the object a listing may still name by id (a role
// assignment's principal, a unit's member): live, or lagging after deletion.
func (c *call) visible(id string) *dirObject {
	o := c.t.objects[strings.ToLower(id)]
	if o == nil || (o.deletedAt != nil && !c.lagging(o)) {
		return nil
	}
	return o
}

// byID returns the object a by-id read finds: live, or lagging when
// Assumed.ReplicationLagByID says by-id reads lag too.
func (c *call) byID(id, kind string) *dirObject {
	if o := c.t.liveKind(id, kind); o != nil {
		return o
	}
	if !c.d.s.opts.Assumed.ReplicationLagByID {
		return nil
	}
	if o := c.visible(id); o != nil && o.kind == kind {
		return o
	}
	return nil
}

// objJSON is o as a listing shows it: a lagging object still reads as live.
func (c *call) objJSON(o *dirObject, withType bool) map[string]any {
	m := o.json(c.t, c.now, withType)
	if c.lagging(o) {
		delete(m, "deletedDateTime")
	}
	return m
}
