package config

import (
	"fmt"
	"github.com/closebot/closebot/closure"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

var tenantKeys = []string{"id", "domain", "keep", "keep_slack_user", "signin_client_id", "client_id",
	"client_secret_env", "client_certificate_file", "workload_identity", "write_access"}

// decodeTenants reads tenants[], refusing duplicate ids and domains.
func (p *problems) decodeTenants(top mapping, c *Config) {
	n := top.node("tenants")
	if n == nil {
		p.add("tenants", nil, "missing: list at least one tenant (id, domain, keep, keep_slack_user, signin_client_id, client_id and one credential)")
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.add("tenants", n, "must be a list of tenants (each item starts with -)")
		return
	}
	if len(n.Content) == 0 {
		p.add("tenants", n, "is empty: list at least one tenant")
		return
	}
	seenID, seenDomain := map[string]int{}, map[string]int{}
	for i, item := range n.Content {
		path := fmt.Sprintf("tenants[%d]", i)
		m := p.object(item, path, tenantKeys...)
		var t Tenant
		var idn, dn *yaml.Node
		t.ID, idn = p.guid(m, "id", "the tenant id (Entra admin center → Overview → Tenant ID)")
		t.ID = strings.ToLower(t.ID)

		var domain string
		domain, dn = p.str(m, "domain")
		t.Domain = strings.ToLower(domain)
		switch {
		case domain == "":
			p.add(m.key("domain"), nil, "missing: the tenant's initial domain, like contoso.onmicrosoft.com (the approval modal asks for it)")
		case !initialDomain.MatchString(t.Domain):
			p.add(m.key("domain"), dn, "%q is not an initial domain: it must be the tenant's <name>.onmicrosoft.com domain (not a custom or .mail.onmicrosoft.com domain)", domain)
		}

		keep, kn := p.str(m, "keep")
		t.Keep = keep
		switch {
		case keep == "":
			p.add(m.key("keep"), nil, "missing: the userPrincipalName of the Global Admin who finishes the closure, like admin@contoso.onmicrosoft.com")
		case !upn.MatchString(keep):
			p.add(m.key("keep"), kn, "%q is not a userPrincipalName (name@domain)", keep)
		}

		ksu, ksn := p.str(m, "keep_slack_user")
		t.KeepSlackUser = ksu
		switch {
		case ksu == "":
			p.add(m.key("keep_slack_user"), nil, "missing: the kept admin's Slack user id (U… or W…), who gets the sign-in proof and gate messages")
		case !userID.MatchString(ksu):
			p.add(m.key("keep_slack_user"), ksn, "%q is not a Slack user id (U… or W…): %s", ksu, principalHint(ksu))
		}

		t.SigninClientID, _ = p.guid(m, "signin_client_id", "the public client used for the kept admin's device-code sign-in proof")
		t.ClientID, _ = p.guid(m, "client_id", "closebot's application (client) id in this tenant")
		t.SigninClientID = strings.ToLower(t.SigninClientID)
		t.ClientID = strings.ToLower(t.ClientID)

		p.credential(m, &t)

		switch wa, wn := p.str(m, "write_access"); wa {
		case "":
			t.WriteAccess = closure.WriteStanding
		case string(closure.WriteStanding), string(closure.WriteJustInTime):
			t.WriteAccess = closure.WriteAccess(wa)
		default:
			p.add(m.key("write_access"), wn, "%q is not just_in_time or standing (just_in_time: closebot's app only reads between closures; the kept admin grants write access for each closure)", wa)
		}

		if t.ID != "" {
			if j, dup := seenID[t.ID]; dup {
				p.add(m.key("id"), idn, "tenant %s is already configured as tenants[%d]", t.ID, j)
			}
			seenID[t.ID] = i
		}
		if t.Domain != "" {
			if j, dup := seenDomain[t.Domain]; dup {
				p.add(m.key("domain"), dn, "domain %s is already configured as tenants[%d]", t.Domain, j)
			}
			seenDomain[t.Domain] = i
		}
		c.Tenants = append(c.Tenants, t)
	}
}

// guid reads a required GUID.
func (p *problems) guid(m mapping, name, what string) (string, *yaml.Node) {
	v, n := p.str(m, name)
	switch {
	case v == "":
		p.add(m.key(name), nil, "missing: %s, a GUID", what)
	case !guidRE.MatchString(v):
		p.add(m.key(name), n, "%q is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", v)
	}
	return v, n
}

// credential reads the tenant's one credential. The secret's value and the
// files are checked later (readEnv, checkFiles): here only the shape.
func (p *problems) credential(m mapping, t *Tenant) {
	env, en := p.str(m, "client_secret_env")
	cert, cn := p.str(m, "client_certificate_file")
	wi := p.boolean(m, "workload_identity", false)
	var given []string
	if env != "" {
		given = append(given, "client_secret_env")
		if !envName.MatchString(env) {
			p.add(m.key("client_secret_env"), en, "%q is not an environment variable name: give the NAME of the variable that holds the secret, never the secret itself", env)
		} else {
			t.ClientSecretEnv = env
		}
	}
	if cert != "" {
		given = append(given, "client_certificate_file")
		abs, err := filepath.Abs(cert)
		if err != nil {
			p.add(m.key("client_certificate_file"), cn, "%q: %v", cert, err)
		} else {
			t.ClientCertificateFile = abs
		}
	}
	if wi {
		given = append(given, "workload_identity")
		t.WorkloadIdentity = true
	}
	switch len(given) {
	case 0:
		p.add(m.path, nil, "no credential: give exactly one of client_secret_env (the name of an environment variable), client_certificate_file or workload_identity: true")
	case 1:
	default:
		both := "both"
		if len(given) > 2 {
			both = "all"
		}
		p.add(m.path, nil, "%s are %s given: give exactly one credential", strings.Join(given, " and "), both)
		t.ClientSecretEnv, t.ClientCertificateFile, t.WorkloadIdentity = "", "", false
	}
}

// checkFiles checks that files named in the configuration can be read.
func (p *problems) checkFiles(c *Config) {
	if c.Store.Path != "" {
		dir := filepath.Dir(c.Store.Path)
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			p.add("store.path", nil, "directory %s does not exist", dir)
		} else if fi, err := os.Stat(c.Store.Path); err == nil && fi.IsDir() {
			p.add("store.path", nil, "%s is a directory; name the database file", c.Store.Path)
		}
	}
	for i, t := range c.Tenants {
		if t.ClientCertificateFile == "" {
			continue
		}
		if err := readable(t.ClientCertificateFile); err != nil {
			p.add(fmt.Sprintf("tenants[%d].client_certificate_file", i), nil, "%v", err)
		}
	}
}

// readable checks that path is a regular, non-empty file we may open. Its
// content is never echoed: it holds a private key.
func readable(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", path, unwrapPath(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", path, unwrapPath(err))
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	if fi.Size() == 0 {
		return fmt.Errorf("%s is empty", path)
	}
	return nil
}

// unwrapPath drops the *PathError wrapper whose message repeats the path.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
