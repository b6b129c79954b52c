package commands

import (
	"strings"
)

// Kind is what a command asks for. The zero Kind is Help, the harmless one.
type Kind int

const (
	Help   Kind = iota // usage text
	Open               // open a closure request: Tenant, Reason
	Plan               // preflight and plan only: Tenant
	Status             // one request (RequestID) or the open ones
	List               // recent requests
	Pause              // RequestID
	Resume             // RequestID
	Abort              // RequestID
)

var kindNames = [...]string{
	Help:   "help",
	Open:   "open",
	Plan:   "plan",
	Status: "status",
	List:   "list",
	Pause:  "pause",
	Resume: "resume",
	Abort:  "abort",
}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Tenant is a configured tenant, as resolved by a Lookup.
type Tenant struct {
	ID     string // tenant id, a lower-case GUID
	Domain string // initial domain, lower case, e.g. contoso.onmicrosoft.com
}

// IsZero reports whether t names no tenant.
func (t Tenant) IsZero() bool { return t.ID == "" && t.Domain == "" }

// arg is how the tenant is written back into command text.
func (t Tenant) arg() string {
	if t.Domain != "" {
		return t.Domain
	}
	return t.ID
}

// Command is a parsed /close-tenant command.
type Command struct {
	Kind Kind
	// Tenant is set for Open and Plan.
	Tenant Tenant
	// Reason is set for Open: user text, trimmed, not escaped.
	Reason string
	// RequestID is set for Pause, Resume and Abort, and for Status when one
	// was given; always canonical ("CT-12").
	RequestID string
}

// String renders c as canonical command text (without "/close-tenant");
// Parse of it with the same Lookup gives c back.
func (c Command) String() string {
	switch c.Kind {
	case Open:
		return c.Tenant.arg() + " " + renderReason(c.Reason)
	case Plan:
		return "plan " + c.Tenant.arg()
	case Status:
		if c.RequestID == "" {
			return "status"
		}
		return "status " + c.RequestID
	case Pause, Resume, Abort:
		return c.Kind.String() + " " + c.RequestID
	default:
		return c.Kind.String()
	}
}

// renderReason writes a reason so that Parse reads it back unchanged: as is,
// unless it starts with a quote (Parse would unquote it), then double-quoted.
// Double quotes at most double the length, so the rendering of a reason of
// MaxReasonLen stays under MaxTextLen.
func renderReason(r string) string {
	if r == "" || (r[0] != '"' && r[0] != '\'') {
		return r
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(r); i++ {
		if r[i] == '"' || r[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(r[i])
	}
	b.WriteByte('"')
	return b.String()
}

// Lookup resolves arguments against configuration and the store; the bot
// implements it.
type Lookup interface {
	// Tenant resolves a tenant argument. arg is already normalised: a
	// lower-case domain without a trailing dot, or a lower-case GUID.
	// FindTenant implements the matching rules over a configured list.
	Tenant(arg string) (Tenant, bool)
	// RequestExists tells whether a request id (canonical, "CT-12") exists.
	// An implementation that cannot tell (store error) should answer true
	// and let the action report its own error.
	RequestExists(id string) bool
}

// FindTenant finds arg among configured tenants: a domain case-insensitively
// with one trailing dot tolerated, a tenant id in any case. The result is
// normalised to lower case.
func FindTenant(configured []Tenant, arg string) (Tenant, bool) {
	a := normTenantArg(arg)
	if a == "" {
		return Tenant{}, false
	}
	for _, t := range configured {
		if normTenantArg(t.Domain) == a || strings.EqualFold(t.ID, a) {
			return Tenant{ID: strings.ToLower(t.ID), Domain: normTenantArg(t.Domain)}, true
		}
	}
	return Tenant{}, false
}

func normTenantArg(s string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))
}
