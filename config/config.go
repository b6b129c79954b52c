// Package config loads and checks closebot.yaml and the environment
// (DESIGN §8): strict YAML (unknown keys refused), defaults, every problem
// named by its key, and secrets held in values that never print.
package config

import (
	"github.com/closebot/closebot/closure"
	"slices"
	"strings"
	"time"
)

// Defaults of DESIGN §8.
const (
	DefaultPath              = "closebot.yaml"
	DefaultRequired          = 1
	DefaultDisjoint          = false
	DefaultExpiresAfter      = 24 * time.Hour
	DefaultAbortWindow       = 30 * time.Minute
	DefaultDriftPercent      = 10.0
	DefaultRecheckEvery      = 10 * time.Minute
	DefaultGoneConfirmations = 3
	DefaultGoneSpan          = time.Hour
	DefaultStuckAfter        = 336 * time.Hour
	DefaultStorePath         = "closebot.db"
	DefaultGraphBaseURL      = "https://graph.microsoft.com/v1.0"
	DefaultAuthorityHost     = "https://login.microsoftonline.com/"
)

// Environment variables closebot reads.
const (
	EnvConfig             = "CLOSEBOT_CONFIG"
	EnvAuditKeyFile       = "CLOSEBOT_AUDIT_KEY_FILE"
	EnvSlackAppToken      = "SLACK_APP_TOKEN"
	EnvSlackBotToken      = "SLACK_BOT_TOKEN"
	EnvSlackAPIURL        = "SLACK_API_URL"
	EnvAuthorityHost      = "AZURE_AUTHORITY_HOST"
	EnvFederatedTokenFile = "AZURE_FEDERATED_TOKEN_FILE"
)

// Config is a loaded, validated configuration. Load is the only way to get
// one that is known to be complete.
type Config struct {
	File     string // absolute path of the file loaded
	Slack    Slack
	Approval Approval
	Gates    Gates
	Store    Store
	Graph    Graph
	Tenants  []Tenant
	Env      Env

	warnings []string
}

// Slack is who may do what, and where (ids only, never names).
type Slack struct {
	TeamID     string
	Channels   []string // C… or G…
	Requesters []string // U…, W… or S…
	Approvers  []string // U…, W… or S…
}

// Approval is the approval rule.
type Approval struct {
	Required     int
	Disjoint     bool
	ExpiresAfter time.Duration
	AbortWindow  time.Duration // 0: no window
	DriftPercent float64
}

// Gates is the pacing of manual steps and the tenant-gone check.
type Gates struct {
	RecheckEvery      time.Duration
	GoneConfirmations int
	GoneSpan          time.Duration
	StuckAfter        time.Duration
}

// Store locates the database.
type Store struct {
	Path string // absolute
}

// Graph locates Microsoft Graph (overridden only for an emulator).
type Graph struct {
	BaseURL string // ends in /v1.0, no trailing slash
	BetaURL string // BaseURL with its last segment replaced by beta
}

// Tenant is one tenant closebot may close and how it signs in there.
// Exactly one of ClientSecretEnv, ClientCertificateFile and
// WorkloadIdentity is set.
type Tenant struct {
	ID             string // GUID, lower case
	Domain         string // initial *.onmicrosoft.com domain, lower case
	Keep           string // UPN of the Global Admin who finishes the closure
	KeepSlackUser  string // U… or W…
	SigninClientID string // public client for the device-code proof
	ClientID       string // closebot's app id in the tenant

	// WriteAccess is write_access: just_in_time (closebot's app reads at
	// rest; write grants per closure) or standing, the default when absent
	// so that configurations written before it keep their behaviour.
	WriteAccess closure.WriteAccess

	ClientSecretEnv       string // name of the variable holding the secret
	ClientSecret          Secret // its value
	ClientCertificateFile string // absolute
	WorkloadIdentity      bool
}

// Credential names the tenant's credential kind, for messages.
func (t Tenant) Credential() string {
	switch {
	case t.ClientSecretEnv != "":
		return "client secret from $" + t.ClientSecretEnv
	case t.ClientCertificateFile != "":
		return "certificate " + t.ClientCertificateFile
	case t.WorkloadIdentity:
		return "workload identity"
	}
	return "none"
}

// Env is what closebot takes from the environment.
type Env struct {
	SlackAppToken      Secret // xapp-
	SlackBotToken      Secret // xoxb-
	SlackAPIURL        string // "" for Slack itself; else ends with /
	AuthorityHost      string // ends with /
	AuditKeyFile       string
	AuditKey           Secret // the key file's bytes, trailing newline trimmed
	FederatedTokenFile string // only when a tenant uses workload identity
}

// AuditKey is the audit HMAC key as bytes, for store.Open.
func (c *Config) AuditKey() []byte { return []byte(c.Env.AuditKey.Reveal()) }

// Warnings are settings that are allowed but deserve a second look.
func (c *Config) Warnings() []string { return slices.Clone(c.warnings) }

// Tenant finds a configured tenant by id or initial domain (case-insensitive).
func (c *Config) Tenant(idOrDomain string) (Tenant, bool) {
	for _, t := range c.Tenants {
		if strings.EqualFold(t.ID, idOrDomain) || strings.EqualFold(t.Domain, idOrDomain) {
			return t, true
		}
	}
	return Tenant{}, false
}

// ResolvePath is the configuration file to load: the --config flag, else
// $CLOSEBOT_CONFIG, else closebot.yaml in the working directory.
func ResolvePath(flagValue string, env func(string) string) string {
	if flagValue != "" {
		return flagValue
	}
	if env != nil {
		if p := env(EnvConfig); p != "" {
			return p
		}
	}
	return DefaultPath
}
