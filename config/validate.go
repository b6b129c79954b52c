package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/closebot/closebot/store"
)

var (
	teamID        = regexp.MustCompile(`^T[A-Z0-9]{2,}$`)
	channelID     = regexp.MustCompile(`^[CG][A-Z0-9]{2,}$`)
	userID        = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
	principalID   = regexp.MustCompile(`^[UWS][A-Z0-9]{2,}$`)
	guidRE        = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	initialDomain = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?\.onmicrosoft\.com$`)
	upn           = regexp.MustCompile(`^[^@\s]+@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$`)
	envName       = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// principalHint explains what to write instead of a name.
func principalHint(v string) string {
	switch {
	case strings.HasPrefix(v, "@") || strings.HasPrefix(v, "<@") || strings.ContainsAny(v, " .") || strings.ToUpper(v) != v:
		return "display names and @names are refused because anyone can change them; use the member id (profile → ⋮ → Copy member ID, U… or W…) or the user-group id (S…)"
	case channelID.MatchString(v):
		return "that is a channel id; list people by user id (U…/W…) or user-group id (S…)"
	}
	return "use a member id (U… or W…) or a user-group id (S…)"
}

// channelHint explains what to write instead of a channel name.
func channelHint(v string) string {
	if strings.HasPrefix(v, "#") || strings.ToUpper(v) != v {
		return "channel names are refused because they can be renamed; use the channel id (C… or G…) shown at the bottom of the channel's details"
	}
	return "use the channel id (C… or G…) shown at the bottom of the channel's details"
}

// graphURLs checks graph.base_url and derives the beta base: https (http
// only on loopback, for an emulator), no query, last segment v1.0.
func graphURLs(raw string) (base, beta string, err error) {
	u, err := checkURL(raw, false)
	if err != nil {
		return "", "", err
	}
	p := strings.TrimSuffix(u.Path, "/")
	i := strings.LastIndex(p, "/")
	if i < 0 || p[i+1:] != "v1.0" {
		return "", "", fmt.Errorf("%q must end with the path segment v1.0 (the beta base is derived by replacing it with beta)", raw)
	}
	u.Path = p
	base = u.String()
	u.Path = p[:i] + "/beta"
	return base, u.String(), nil
}

// checkURL accepts https URLs, and http ones only for a loopback host.
func checkURL(raw string, wantSlash bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("%q is not an absolute URL", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%q must not carry credentials, a query or a fragment", raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback(u.Hostname()) {
			return nil, fmt.Errorf("%q must use https (http is accepted only on a loopback address, for an emulator)", raw)
		}
	default:
		return nil, fmt.Errorf("%q must use https", raw)
	}
	if wantSlash && !strings.HasSuffix(u.Path, "/") {
		return nil, fmt.Errorf("%q must end with /", raw)
	}
	return u, nil
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// readEnv reads and checks the environment: Slack tokens and URL, the
// authority, the audit key, and what each tenant's credential needs.
func (p *problems) readEnv(c *Config, env func(string) string) {
	e := &c.Env
	e.SlackAppToken = p.token(env, EnvSlackAppToken, "xapp-", "the app-level token with connections:write (Basic Information → App-Level Tokens)")
	e.SlackBotToken = p.token(env, EnvSlackBotToken, "xoxb-", "the bot token (OAuth & Permissions → Bot User OAuth Token)")

	if raw := strings.TrimSpace(env(EnvSlackAPIURL)); raw != "" {
		if _, err := checkURL(raw, true); err != nil {
			p.add(EnvSlackAPIURL, nil, "%v", err)
		} else {
			e.SlackAPIURL = raw
		}
	}

	e.AuthorityHost = DefaultAuthorityHost
	if raw := strings.TrimSpace(env(EnvAuthorityHost)); raw != "" {
		u, err := checkURL(raw, false)
		switch {
		case err != nil:
			p.add(EnvAuthorityHost, nil, "%v", err)
		case u.Scheme != "https":
			// azidentity refuses a non-https authority.
			p.add(EnvAuthorityHost, nil, "%q must use https", raw)
		default:
			if !strings.HasSuffix(raw, "/") {
				raw += "/"
			}
			e.AuthorityHost = raw
		}
	}

	e.AuditKeyFile = strings.TrimSpace(env(EnvAuditKeyFile))
	if e.AuditKeyFile == "" {
		p.add(EnvAuditKeyFile, nil, "not set: name a file holding the audit HMAC key (at least %d bytes; e.g. head -c 48 /dev/urandom | base64 > audit.key)", store.MinKeyLen)
	} else if key, err := store.LoadKey(e.AuditKeyFile); err != nil {
		p.add(EnvAuditKeyFile, nil, "%v", keyError(err))
	} else {
		e.AuditKey = Secret(key)
	}

	for i := range c.Tenants {
		t := &c.Tenants[i]
		key := fmt.Sprintf("tenants[%d]", i)
		if t.ClientSecretEnv != "" {
			v := env(t.ClientSecretEnv)
			if strings.TrimSpace(v) == "" {
				p.add(key+".client_secret_env", nil, "environment variable %s is not set or empty", t.ClientSecretEnv)
			} else {
				t.ClientSecret = Secret(v)
			}
		}
		if t.WorkloadIdentity {
			f := strings.TrimSpace(env(EnvFederatedTokenFile))
			if f == "" {
				p.add(key+".workload_identity", nil, "needs %s (set by the workload identity webhook) and it is not set", EnvFederatedTokenFile)
			} else if err := readable(f); err != nil {
				p.add(key+".workload_identity", nil, "%s: %v", EnvFederatedTokenFile, err)
			} else {
				e.FederatedTokenFile = f
			}
		}
	}
}

// token reads a required Slack token with its prefix. Its value is never
// put into a message, not even a prefix of it beyond the type.
func (p *problems) token(env func(string) string, name, prefix, what string) Secret {
	v := strings.TrimSpace(env(name))
	switch {
	case v == "":
		p.add(name, nil, "not set: %s, starting %s", what, prefix)
		return ""
	case !strings.HasPrefix(v, prefix):
		kind := "a different kind of token"
		if i := strings.Index(v, "-"); i > 0 && i <= 5 {
			kind = "a " + v[:i+1] + " token"
		}
		p.add(name, nil, "holds %s; it must start with %s (%s)", kind, prefix, what)
		return ""
	}
	return Secret(v)
}

// keyError shortens store.LoadKey's error without losing its cause.
func keyError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("cannot read %s: %w", pe.Path, pe.Err)
	}
	return err
}
