package commands

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

var canonicalID = regexp.MustCompile(`^CT-[1-9][0-9]{0,8}$`)

// permissiveLookup knows every well-formed tenant and request, so that the
// parser's own checks are all that stands between the input and a command;
// it fails the test if handed a tenant argument that is not normalised.
type permissiveLookup struct{ t *testing.T }

func (p permissiveLookup) Tenant(arg string) (Tenant, bool) {
	switch {
	case isGUID(arg) && arg == strings.ToLower(arg):
		return Tenant{ID: arg}, true
	case isDomain(arg):
		return Tenant{Domain: arg}, true
	}
	p.t.Errorf("Lookup.Tenant got a tenant argument that is not normalised: %q", arg)
	return Tenant{}, false
}

func (p permissiveLookup) RequestExists(id string) bool {
	if !canonicalID.MatchString(id) {
		p.t.Errorf("Lookup.RequestExists got a non-canonical id: %q", id)
	}
	return true
}

func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, text string) {
		for _, l := range []Lookup{testLookup{}, permissiveLookup{t}} {
			c, err := Parse(text, l)
			checkResult(t, text, c, err)
			if err != nil {
				continue
			}
			again, err := Parse(c.String(), l)
			if err != nil {
				t.Fatalf("canonical form %q of %q does not parse: %v", c.String(), text, err)
			}
			if again != c {
				t.Fatalf("round trip of %q via %q: got %#v, want %#v", text, c.String(), again, c)
			}
		}

		// Any text holding Slack markup, put in a tenant position, is refused.
		if strings.ContainsAny(text, "<>") {
			q := singleQuote(text)
			for _, in := range []string{q + " some reason", "plan " + q} {
				_, err := Parse(in, permissiveLookup{t})
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("%q: markup in the tenant position was accepted", in)
				}
				if e.Code != BadTenantForm && e.Code != BadCharacters && e.Code != TooLong {
					t.Fatalf("%q: markup in the tenant position gave %v: %s", in, e.Code, e.Message)
				}
			}
		}
	})
}

func checkResult(t *testing.T, text string, c Command, err error) {
	t.Helper()
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%q: error is %T, not *Error: %v", text, err, err)
		}
		if e.Message == "" || e.Code < TooLong || e.Code > ExtraArgs {
			t.Fatalf("%q: bad error %#v", text, e)
		}
		if strings.ContainsAny(e.Message, "<>") {
			t.Fatalf("%q: message echoes markup: %s", text, e.Message)
		}
		if c != (Command{}) {
			t.Fatalf("%q: error with a non-zero command %#v", text, c)
		}
		return
	}
	switch c.Kind {
	case Open:
		if c.Reason == "" || c.Reason != strings.TrimSpace(c.Reason) || utf8.RuneCountInString(c.Reason) > MaxReasonLen {
			t.Fatalf("%q: bad reason %q", text, c.Reason)
		}
		if c.Tenant.IsZero() || c.RequestID != "" {
			t.Fatalf("%q: bad open %#v", text, c)
		}
	case Plan:
		if c.Tenant.IsZero() || c.Reason != "" || c.RequestID != "" {
			t.Fatalf("%q: bad plan %#v", text, c)
		}
	case Status:
		if c.RequestID != "" && !canonicalID.MatchString(c.RequestID) || !c.Tenant.IsZero() || c.Reason != "" {
			t.Fatalf("%q: bad status %#v", text, c)
		}
	case Pause, Resume, Abort:
		if !canonicalID.MatchString(c.RequestID) || !c.Tenant.IsZero() || c.Reason != "" {
			t.Fatalf("%q: bad %v %#v", text, c.Kind, c)
		}
	case List, Help:
		if c != (Command{Kind: c.Kind}) {
			t.Fatalf("%q: bad %v %#v", text, c.Kind, c)
		}
	default:
		t.Fatalf("%q: unknown kind %v", text, c.Kind)
	}
	if strings.ContainsAny(c.Tenant.ID+c.Tenant.Domain, "<>|@ ") {
		t.Fatalf("%q: tenant %#v holds markup", text, c.Tenant)
	}
}

// singleQuote makes s one shell word whose value is s.
func singleQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
