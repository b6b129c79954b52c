package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sentinel marks the secret parts of the fuzzed environment: no problem
// text and no printed form of a Config may ever contain it.
const sentinel = "Zq7SENTINELq9"

// FuzzLoad: any YAML and any Slack environment through the loader (issue 11,
// item 8). Properties: no panic; either a Config that satisfies the
// contract of DESIGN §8, or an *Error listing at least one problem, each
// naming the key or variable to fix; secrets never in the output.
// Seeds: testdata/fuzz/FuzzLoad/.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(goodYAML), "xapp-1-A0X-1-", "xoxb-1-", "", "")
	f.Add([]byte(minimalYAML), "xapp-", "xoxp-", "http://127.0.0.1:9/api/", "https://127.0.0.1:8443")
	dir := f.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o700); err != nil {
		f.Fatal(err)
	}
	keyFile := filepath.Join(dir, "audit.key")
	if err := os.WriteFile(keyFile, []byte(auditKey+"\n"), 0o600); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), []byte("not a certificate"), 0o600); err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(dir, "closebot.yaml")
	f.Fuzz(func(t *testing.T, yamlText []byte, app, bot, apiURL, authority string) {
		// Relative paths (store.path: data/closebot.db) resolve in dir. Not
		// f.Chdir: the seed corpus in testdata/fuzz is read after it.
		t.Chdir(dir)
		if err := os.WriteFile(path, yamlText, 0o600); err != nil {
			t.Fatal(err)
		}
		env := map[string]string{
			EnvSlackAppToken: app + sentinel, EnvSlackBotToken: bot + sentinel,
			EnvSlackAPIURL: apiURL, EnvAuthorityHost: authority,
			EnvAuditKeyFile: keyFile, "CONTOSO_CLIENT_SECRET": secretValue + sentinel,
		}
		c, err := Load(path, func(k string) string { return env[k] })
		leaks := !bytes.Contains(yamlText, []byte(sentinel)) && !strings.Contains(apiURL+authority, sentinel)
		if err != nil {
			if c != nil {
				t.Fatalf("error %v with a config", err)
			}
			if leaks && (strings.Contains(err.Error(), sentinel) || strings.Contains(err.Error(), auditKey)) {
				t.Fatalf("a secret in the error: %v", err)
			}
			var e *Error
			if !errors.As(err, &e) {
				return // the file could not be read or is too large: a plain error
			}
			if len(e.Problems) == 0 {
				t.Fatalf("*Error without problems")
			}
			for _, p := range e.Problems {
				if strings.TrimSpace(p) == "" {
					t.Fatalf("an empty problem in %q", e.Problems)
				}
			}
			return
		}
		checkConfig(t, c)
		if leaks {
			for _, s := range []string{printed(c), strings.Join(c.Warnings(), "\n")} {
				if strings.Contains(s, sentinel) || strings.Contains(s, auditKey) {
					t.Fatalf("a secret in a printed config: %s", s)
				}
			}
		}
	})
}

// checkConfig: what Load accepts is what DESIGN §8 allows.
func checkConfig(t *testing.T, c *Config) {
	t.Helper()
	switch {
	case c.Approval.Required < 1:
		t.Fatalf("required %d", c.Approval.Required)
	case c.Approval.AbortWindow < 0:
		t.Fatalf("abort_window %s", c.Approval.AbortWindow)
	case c.Approval.DriftPercent < 0 || c.Approval.DriftPercent > 100:
		t.Fatalf("drift_percent %v", c.Approval.DriftPercent)
	case c.Gates.GoneConfirmations < 1:
		t.Fatalf("gone_confirmations %d", c.Gates.GoneConfirmations)
	case !filepath.IsAbs(c.Store.Path):
		t.Fatalf("store.path %q is not absolute", c.Store.Path)
	case len(c.Slack.Channels) == 0 || len(c.Tenants) == 0:
		t.Fatalf("no channel or no tenant: %+v", c.Slack)
	case !strings.HasPrefix(c.Env.SlackAppToken.Reveal(), "xapp-") || !strings.HasPrefix(c.Env.SlackBotToken.Reveal(), "xoxb-"):
		t.Fatalf("token of the wrong kind accepted")
	case len(c.AuditKey()) < 32:
		t.Fatalf("short audit key accepted")
	}
	for _, d := range []time.Duration{c.Approval.ExpiresAfter, c.Gates.RecheckEvery, c.Gates.GoneSpan, c.Gates.StuckAfter} {
		if d <= 0 {
			t.Fatalf("a duration that must be positive is %s", d)
		}
	}
	p := c.Policy()
	if err := p.Validate(); err != nil {
		t.Fatalf("Load accepted a configuration whose policy does not validate: %v", err)
	}
	for _, tn := range c.Tenants {
		n := 0
		for _, set := range []bool{tn.ClientSecretEnv != "", tn.ClientCertificateFile != "", tn.WorkloadIdentity} {
			if set {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("tenant %s has %d credentials", tn.Domain, n)
		}
	}
}

// printed is every way a Config is printed.
func printed(c *Config) string {
	var b strings.Builder
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		b.WriteString(fmt.Sprintf(format, c))
		b.WriteString(fmt.Sprintf(format, *c))
	}
	return b.String()
}

// TestLoadSeedIsAccepted: the first seed of FuzzLoad is a configuration
// Load accepts, so the fuzz target's acceptance properties are exercised.
func TestLoadSeedIsAccepted(t *testing.T) {
	f := newFixture(t, goodYAML)
	f.env[EnvSlackAppToken] = "xapp-1-A0X-1-" + sentinel
	f.env[EnvSlackBotToken] = "xoxb-1-" + sentinel
	f.env["CONTOSO_CLIENT_SECRET"] = secretValue + sentinel
	c, err := f.load(t)
	if err != nil {
		t.Fatal(err)
	}
	checkConfig(t, c)
}
