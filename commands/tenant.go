package commands

import (
	"strings"
)

const tenantForms = "Write the tenant's initial domain, like contoso.onmicrosoft.com, or its tenant id, like 00000000-0000-0000-0000-000000000000."

// looksLikeTenant tells a first word that names a tenant from a verb.
func looksLikeTenant(w string) bool {
	return strings.ContainsAny(w, ".@:/<>|") || looksGUIDish(w)
}

// looksGUIDish: long enough and made of what a GUID is made of.
func looksGUIDish(w string) bool {
	if len(w) < 32 {
		return false
	}
	for i := 0; i < len(w); i++ {
		if !isHex(w[i]) && w[i] != '-' && w[i] != '{' && w[i] != '}' {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// isGUID: 8-4-4-4-12 hex digits.
func isGUID(w string) bool {
	if len(w) != 36 {
		return false
	}
	for i := 0; i < len(w); i++ {
		switch i {
		case 8, 13, 18, 23:
			if w[i] != '-' {
				return false
			}
		default:
			if !isHex(w[i]) {
				return false
			}
		}
	}
	return true
}

// isDomain: lower-case ASCII labels of letters, digits and inner hyphens,
// at least two of them (RFC 1123 host name).
func isDomain(d string) bool {
	if len(d) == 0 || len(d) > 253 {
		return false
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// domainOf normalises s as a domain if it is one, else "".
func domainOf(s string) string {
	d := strings.ToLower(strings.TrimSuffix(s, "."))
	if isDomain(d) {
		return d
	}
	return ""
}

// tenantArg checks the form of a tenant argument and normalises it: a
// lower-case GUID, or a lower-case domain without its trailing dot. Only
// that form ever reaches Lookup.Tenant. A domain found inside a refused form
// is suggested only when known says it is configured.
func tenantArg(w string, known func(string) bool) (string, *Error) {
	suggestDomain := func(s string) string {
		if d := suggestDomain(s); d != "" && known(d) {
			return d
		}
		return ""
	}
	if strings.ContainsAny(w, "<>|") {
		what, inner := slackForm(w)
		sugg := suggestDomain(inner)
		msg := "The tenant was given as " + what + ", not as a tenant. " + tenantForms
		if sugg != "" {
			msg += " Did you mean " + sugg + "?"
		}
		return "", errorf(BadTenantForm, sugg, "%s", msg)
	}
	if strings.Contains(w, "@") {
		sugg := suggestDomain(w)
		what := " looks like a person's sign-in name, not a tenant. "
		if strings.HasPrefix(w, "@") {
			what = " looks like an @-mention, not a tenant. "
		}
		msg := echo(w) + what + tenantForms
		if sugg != "" {
			msg += " Did you mean " + sugg + "?"
		}
		return "", errorf(BadTenantForm, sugg, "%s", msg)
	}
	if strings.ContainsAny(w, ":/") {
		sugg := suggestDomain(w)
		msg := echo(w) + " looks like a web address, not a tenant. " + tenantForms
		if sugg != "" {
			msg += " Did you mean " + sugg + "?"
		}
		return "", errorf(BadTenantForm, sugg, "%s", msg)
	}
	if isGUID(w) {
		return strings.ToLower(w), nil
	}
	if looksGUIDish(w) {
		return "", errorf(BadTenantForm, "", "%s is not a valid tenant id: a tenant id has the form 00000000-0000-0000-0000-000000000000 (8-4-4-4-12 hexadecimal digits).", echo(w))
	}
	if d := domainOf(w); d != "" {
		return d, nil
	}
	return "", errorf(BadTenantForm, "", "%s is neither a domain nor a tenant id. %s", echo(w), tenantForms)
}

// slackForm names the kind of Slack markup in w and returns the target
// inside it ("mailto:a@b" or "https://x"), if any.
func slackForm(w string) (what, inner string) {
	i := strings.IndexByte(w, '<')
	if i < 0 {
		return "Slack markup", ""
	}
	body := w[i+1:]
	if j := strings.IndexAny(body, "|>"); j >= 0 {
		body = body[:j]
	}
	lb := strings.ToLower(body)
	switch {
	case strings.HasPrefix(lb, "@"):
		return "a Slack user mention", ""
	case strings.HasPrefix(lb, "#"):
		return "a Slack channel link", ""
	case strings.HasPrefix(lb, "!"):
		return "a Slack group or special mention", ""
	case strings.HasPrefix(lb, "mailto:"):
		return "an email link", body[len("mailto:"):]
	case strings.HasPrefix(lb, "http://"), strings.HasPrefix(lb, "https://"):
		return "a web link", body
	default:
		return "Slack markup", ""
	}
}

// suggestDomain extracts the domain from an address ("admin@x.y"), a URL
// ("https://x.y/path") or a bare host, if it is a well-formed domain.
func suggestDomain(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
		if j := strings.IndexAny(s, "/?#"); j >= 0 {
			s = s[:j]
		}
		if j := strings.LastIndexByte(s, ':'); j >= 0 { // port
			s = s[:j]
		}
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	return domainOf(s)
}

// unknownTenant explains a well-formed tenant that is not configured.
func unknownTenant(norm string) *Error {
	if isGUID(norm) {
		return errorf(UnknownTenant, "", "%s is not the id of a tenant closebot is configured to close. Check the id, or write the tenant's initial domain, like contoso.onmicrosoft.com.", norm)
	}
	if !strings.Contains(norm, ".onmicrosoft.") && !strings.HasSuffix(norm, ".onmschina.cn") {
		return errorf(UnknownTenant, "", "%s is not a tenant closebot is configured to close. Use the tenant's initial domain (the one ending in .onmicrosoft.com, like contoso.onmicrosoft.com), not a custom domain, or its tenant id.", norm)
	}
	return errorf(UnknownTenant, "", "%s is not a tenant closebot is configured to close. Check the spelling; the tenant must be in closebot's configuration, by its initial domain (like contoso.onmicrosoft.com) or its tenant id.", norm)
}
