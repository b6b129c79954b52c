package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/msgraph"
	"github.com/closebot/closebot/config"
	"github.com/closebot/closebot/store"
)

// `closebot config check --online`: after the offline checks pass, ask
// Slack and each tenant what closebot's credentials are actually granted
// and compare that with what the code needs. Every problem is collected
// (none stops the others), each with what to do about it.

// expiryWarning is how far ahead a credential's end counts as a problem.
const expiryWarning = 30 * 24 * time.Hour

// onlineDeps are how the online check reaches the services; the zero value
// is production (Go's transport, the system clock). Tests point it at the
// emulators.
type onlineDeps struct {
	Transport http.RoundTripper // Graph and authority; nil: Go's default
	SlackHTTP *http.Client      // nil: a client with a 30 s timeout
	Now       func() time.Time  // nil: time.Now
	// JIT says write permissions are meant to be granted only during a
	// closure (just-in-time mode): then standing write access is a
	// problem, otherwise only reported.
	JIT bool
}

// onlineReport is what the online check found: lines to print and
// problems, each saying what to do.
type onlineReport struct {
	lines    []string
	problems []string
}

func (r *onlineReport) say(format string, args ...any) {
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
}

func (r *onlineReport) problem(format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

// checkOnline runs every online check of a configuration that passed the
// offline ones.
func checkOnline(ctx context.Context, c *config.Config, deps onlineDeps) *onlineReport {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.SlackHTTP == nil {
		deps.SlackHTTP = &http.Client{Timeout: 30 * time.Second}
	}
	r := &onlineReport{}
	checkSlack(ctx, c, deps, r)
	for _, t := range c.Tenants {
		tctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		checkTenant(tctx, c, t, deps, r)
		cancel()
	}
	checkAuditKey(c, r)
	return r
}

// checkAuditKey re-reads the audit key file as the store will: at least
// store.MinKeyLen bytes, readable by its owner only.
func checkAuditKey(c *config.Config, r *onlineReport) {
	path := c.Env.AuditKeyFile
	key, err := store.LoadKey(path)
	if err != nil {
		r.problem("%s: %v", config.EnvAuditKeyFile, err)
		return
	}
	mode := "?"
	if fi, err := statMode(path); err == nil {
		mode = fmt.Sprintf("%04o", fi)
	}
	r.say("audit key %s: %d bytes (at least %d), mode %s", path, len(key), store.MinKeyLen, mode)
}

// checkTenant checks one tenant: a token, the organization, the
// application permissions, the directory role, the licences and the
// credential's expiry.
func checkTenant(ctx context.Context, c *config.Config, t config.Tenant, deps onlineDeps, r *onlineReport) {
	name := fmt.Sprintf("tenant %s", t.Domain)
	d, err := msgraph.New(ctx, graphConfig(c, t, deps.Transport, slog.New(slog.DiscardHandler)))
	if err != nil {
		r.problem("%s: %v", name, err)
		return
	}
	granted, err := d.GrantedPermissions(ctx)
	if err != nil {
		r.problem("%s: no token for client %s with %s: %s", name, t.ClientID, t.Credential(), tokenHint(err, t))
		checkCertificate(name, t, deps, r) // an expired certificate may be why
		return
	}
	r.say("%s: token issued for client %s with %s", name, t.ClientID, t.Credential())
	checkOrganization(ctx, d, name, t, r)
	jit := deps.JIT || t.WriteAccess == closure.WriteJustInTime
	held := checkPermissions(name, granted, jit, r)
	roleHeld := checkDirectoryRole(ctx, d, name, jit, r)
	if roleHeld {
		for _, p := range msgraph.Permissions {
			if p.Kind == msgraph.DirectoryRole {
				held = append(held, p)
			}
		}
	}
	checkWriteAccess(name, held, jit, r)
	checkLicences(ctx, d, name, r)
	checkCredentialExpiry(ctx, d, name, t, granted, deps, r)
}

// checkOrganization compares /organization's id and the initial domain
// with the configuration.
func checkOrganization(ctx context.Context, d *msgraph.Directory, name string, t config.Tenant, r *onlineReport) {
	org, err := d.Organization(ctx)
	if err != nil {
		r.problem("%s: read /organization: %v", name, err)
		return
	}
	if !strings.EqualFold(org.ID, t.ID) {
		r.problem("%s: id: the configuration says %s but the token's tenant is %s (%s): correct tenants[].id (Entra admin center → Overview → Tenant ID)",
			name, t.ID, org.ID, org.DisplayName)
	}
	domains, err := d.Domains(ctx)
	if err != nil {
		r.problem("%s: list domains: %v", name, err)
		return
	}
	initial := ""
	for _, dm := range domains {
		if dm.Initial {
			initial = dm.ID
		}
	}
	if !strings.EqualFold(initial, t.Domain) {
		r.problem("%s: domain: the tenant's initial domain is %q, not %q: correct tenants[].domain (Entra admin center → Domain names: the *.onmicrosoft.com one)",
			name, initial, t.Domain)
		return
	}
	r.say("%s: organization %s (%s), initial domain %s", name, org.ID, org.DisplayName, initial)
}

// checkPermissions compares the token's application permissions with the
// table; it returns the table's rows the token holds.
func checkPermissions(name string, granted []string, jit bool, r *onlineReport) []msgraph.Permission {
	var want []string
	var held []msgraph.Permission
	has := func(p string) bool {
		return slices.ContainsFunc(granted, func(g string) bool { return strings.EqualFold(g, p) })
	}
	ok := true
	for _, p := range msgraph.Permissions {
		if p.Kind != msgraph.ApplicationPermission {
			continue
		}
		if jit && p.Write {
			// At rest a just-in-time app holds the write permission's
			// read-only counterpart; the write one is asked for at a
			// closure (checkWriteAccess names it if held now).
			if has(p.Permission) {
				held = append(held, p)
				want = append(want, p.Permission)
			}
			if p.ReadAtRest == "" {
				continue
			}
			want = append(want, p.ReadAtRest)
			if !has(p.ReadAtRest) && !has(p.Permission) {
				ok = false
				r.problem("%s: missing application permission %s (reads between closures, as %s does during one): Entra admin center → App registrations → closebot → API permissions → Add a permission → Microsoft Graph → Application permissions → %s, then Grant admin consent",
					name, p.ReadAtRest, p.Permission, p.ReadAtRest)
			}
			continue
		}
		want = append(want, p.Permission)
		if has(p.Permission) {
			held = append(held, p)
			continue
		}
		ok = false
		r.problem("%s: missing application permission %s (%s): Entra admin center → App registrations → closebot → API permissions → Add a permission → Microsoft Graph → Application permissions → %s, then Grant admin consent",
			name, p.Permission, p.Why, p.Permission)
	}
	for _, g := range granted {
		if !slices.ContainsFunc(want, func(w string) bool { return strings.EqualFold(w, g) }) {
			ok = false
			r.problem("%s: superfluous application permission %s: closebot makes no call that needs it; remove it (API permissions → … → Remove permission) so the credential can do no more than closebot does",
				name, g)
		}
	}
	if ok {
		r.say("%s: the %d application permissions closebot needs at rest, no more", name, len(want))
	}
	return held
}

// checkDirectoryRole reports whether closebot's service principal holds
// the table's directory role (Privileged Authentication Administrator).
func checkDirectoryRole(ctx context.Context, d *msgraph.Directory, name string, jit bool, r *onlineReport) bool {
	var role msgraph.Permission
	for _, p := range msgraph.Permissions {
		if p.Kind == msgraph.DirectoryRole {
			role = p
		}
	}
	spID, roles, err := d.OwnDirectoryRoles(ctx)
	if err != nil {
		r.problem("%s: cannot tell whether closebot holds %s: %v", name, role.Permission, err)
		return false
	}
	if !slices.ContainsFunc(roles, func(id string) bool { return strings.EqualFold(id, role.RoleTemplateID) }) {
		if jit {
			r.say("%s: closebot's service principal (%s) does not hold %s at rest: the kept admin assigns it for each closure", name, spID, role.Permission)
			return false
		}
		r.problem("%s: closebot's service principal (%s) does not hold the %s role, needed to %s: Entra admin center → Roles & admins → %s → Add assignments → closebot (directory scope)",
			name, spID, role.Permission, role.Why, role.Permission)
		return false
	}
	r.say("%s: closebot's service principal %s holds %s", name, spID, role.Permission)
	return true
}

// checkWriteAccess reports the write permissions held at rest: a problem
// in just-in-time mode, where they are granted only during a closure.
func checkWriteAccess(name string, held []msgraph.Permission, jit bool, r *onlineReport) {
	var writes []string
	for _, p := range held {
		if msgraph.IsWritePermission(p) {
			writes = append(writes, p.Permission)
		}
	}
	if len(writes) == 0 {
		r.say("%s: no standing write access", name)
		return
	}
	if jit {
		r.problem("%s: standing write access (%s) although write access is granted just in time: remove them until a closure is approved",
			name, strings.Join(writes, ", "))
		return
	}
	r.say("%s: warning: standing write access: %s; write_access: just_in_time asks for these only during a closure", name, strings.Join(writes, ", "))
}
