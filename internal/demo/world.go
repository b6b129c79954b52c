// Package demo is the emulated world of `closebot demo` and the end-to-end
// tests: both emulators seeded with one workspace and one tenant, a
// fast-forwardable clock, the scripted people who request, approve and act
// at the gates, and the checks the demo's summary prints. It knows nothing
// of how closebot is assembled: cmd/closebot launches the product on a
// World and hands its store to the people.
package demo

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/closebot/closebot/bot/slacktest"
	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/graphtest"
	"github.com/closebot/closebot/config"
)

// The emulated world's people and places: one workspace, one ops channel, a
// requester, two approvers, the kept admin's Slack account, and people who
// must be refused (an outsider, a guest, an account of another workspace).
const (
	Team       = "T0ACME"
	OtherTeam  = "T0OTHER"
	Channel    = "C0OPS"
	Alice      = "U0ALICE" // requester (S0ITOPS)
	Bob        = "U0BOB"   // approver (S0SECLEAD)
	Dave       = "U0DAVE"  // approver (S0SECLEAD) and requester: holds both roles
	Carol      = "U0CAROL" // the kept admin's Slack user
	Mallory    = "U0MALLORY"
	Guest      = "U0GUEST"
	Stranger   = "U0STRANGER" // member of another workspace
	Requesters = "S0ITOPS"
	Approvers  = "S0SECLEAD"
)

// The world's apps: closebot's Slack app and Entra app registration, the
// public client the kept admin signs in with, and where the config tells
// closebot to read its client secret from.
const (
	slackAppID     = "A0CLOSEBOT"
	closebotAppID  = "11111111-1111-1111-1111-111111111111"
	signinClientID = "14d82eec-204b-4c2f-b7e8-296a70dab67e" // Microsoft Graph Command Line Tools
	secretEnv      = "CONTOSO_CLIENT_SECRET"
)

// Options shape the emulated world.
type Options struct {
	Users   int           // users in the tenant, kept admin included
	Latency time.Duration // added to every Graph and Slack answer
	Scale   float64       // emulated seconds per wall second
	Epoch   time.Time     // wall instant at which emulated time equals wall time
	// Clock, if set, is the emulators' time instead of the one derived
	// from Epoch and Scale (the demo's fast-forwardable clock).
	Clock interface{ Now() time.Time }
	// Spec adjusts the seeded tenant.
	Spec func(*graphtest.TenantSpec)
	// WriteGrants, if any, make the tenant write_access just_in_time:
	// closebot's app holds only their read-only counterparts at rest (no
	// directory role), and the config says just_in_time.
	WriteGrants []closure.WriteGrant
}

// World is both emulators with a seeded workspace and tenant, plus the files
// a separate closebot process needs (the emulator's certificate, the audit key).
type World struct {
	slack  *slacktest.Server
	graph  *graphtest.Server
	tenant *graphtest.Tenant
	dir    string
	secret string
	opts   Options
	// keep is the kept admin's UPN as configured when the world was
	// seeded: a rename in the tenant does not edit the config.
	keep string
}

// StartWorld starts both emulators, seeds them and writes the files a
// closebot process needs into a temporary directory; Close undoes it all.
func StartWorld(o Options) (*World, error) {
	if o.Users < 2 {
		return nil, fmt.Errorf("--users must be at least 2 (the kept admin and one other), got %d", o.Users)
	}
	if o.Scale <= 0 {
		return nil, fmt.Errorf("--time-scale must be positive, got %v", o.Scale)
	}
	if o.Epoch.IsZero() {
		o.Epoch = time.Now()
	}
	w := &World{opts: o, secret: randomHex(24)}
	// Emulated time = epoch + (wall − epoch) × scale, so any process that
	// knows --epoch and --time-scale derives the same clock.
	var gclock graphtest.Clock = graphtest.ScaledClock{Epoch: o.Epoch, Start: o.Epoch, Scale: o.Scale}
	var sclock slacktest.Clock = &slacktest.ScaledClock{Epoch: o.Epoch, Scale: o.Scale, Start: o.Epoch}
	if o.Clock != nil {
		gclock, sclock = o.Clock, o.Clock
	}
	w.graph = graphtest.New(graphtest.Options{Clock: gclock})
	w.graph.Start()
	w.graph.SetLatency(o.Latency)

	spec := graphtest.DefaultTenantSpec(o.Users)
	spec.ClosebotAppID = closebotAppID
	if o.Spec != nil {
		o.Spec(&spec)
	}
	for _, g := range o.WriteGrants {
		if g.IsRole() {
			spec.ClosebotRoles = slices.DeleteFunc(spec.ClosebotRoles, func(id string) bool { return strings.EqualFold(id, g.RoleTemplateID) })
		}
	}
	w.tenant = w.graph.AddTenant(spec)
	w.keep = w.tenant.KeptAdmin().UPN
	w.graph.RegisterClientSecret(w.tenant.ID, closebotAppID, w.secret)
	for _, g := range o.WriteGrants {
		if !g.IsRole() {
			w.graph.RevokeAppRole(w.tenant.ID, closebotAppID, g.Name)
			if g.ReadAtRest != "" {
				w.graph.GrantAppRole(w.tenant.ID, closebotAppID, g.ReadAtRest)
			}
		}
	}
	w.graph.RegisterPublicClient(signinClientID)

	w.slack = slacktest.New(slacktest.Options{
		AppToken: "xapp-1-" + slackAppID + "-emulated", BotToken: "xoxb-emulated-closebot",
		TeamID: Team, TeamDomain: "acme", TeamName: "Acme", AppID: slackAppID,
		BotUserID: "U0CLOSEBOT", BotID: "B0CLOSEBOT", BotName: "closebot",
		Clock:   sclock,
		Latency: o.Latency,
	})
	for _, u := range []slacktest.User{
		{ID: Alice, Name: "alice", RealName: "Alice Requester", TeamID: Team},
		{ID: Bob, Name: "bob", RealName: "Bob Approver", TeamID: Team},
		{ID: Dave, Name: "dave", RealName: "Dave Approver", TeamID: Team},
		{ID: Carol, Name: "carol", RealName: "Carol Keeper", TeamID: Team},
		{ID: Mallory, Name: "mallory", RealName: "Mallory Outsider", TeamID: Team},
		{ID: Guest, Name: "guest", RealName: "Gus Guest", TeamID: Team, IsRestricted: true},
		{ID: Stranger, Name: "stranger", RealName: "Sam Stranger", TeamID: OtherTeam},
	} {
		w.slack.AddUser(u)
	}
	w.slack.AddUserGroup(Requesters, Alice)
	w.slack.AddUserGroup(Approvers, Bob, Dave)
	w.slack.AddChannel(slacktest.Channel{ID: Channel, Name: "it-ops"})
	if err := w.slack.Start(); err != nil {
		w.graph.Close()
		return nil, fmt.Errorf("start the Slack emulator: %w", err)
	}

	dir, err := os.MkdirTemp("", "closebot-emulate-")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("the world's directory: %w", err)
	}
	w.dir = dir
	if err := os.WriteFile(w.CertFile(), w.graph.CertPEM(), 0o644); err != nil {
		w.Close()
		return nil, fmt.Errorf("write the emulator's certificate: %w", err)
	}
	if err := os.WriteFile(w.KeyFile(), []byte(randomHex(32)+"\n"), 0o600); err != nil {
		w.Close()
		return nil, fmt.Errorf("write the audit key: %w", err)
	}
	return w, nil
}

// Close stops both emulators and removes the world's directory.
func (w *World) Close() {
	if w.slack != nil {
		w.slack.Close()
	}
	if w.graph != nil {
		w.graph.Close()
	}
	if w.dir != "" {
		_ = os.RemoveAll(w.dir)
	}
}

// Slack is the Slack emulator.
func (w *World) Slack() *slacktest.Server { return w.slack }

// Graph is the Graph and Entra login emulator.
func (w *World) Graph() *graphtest.Server { return w.graph }

// Tenant is the seeded tenant closebot is asked to close.
func (w *World) Tenant() *graphtest.Tenant { return w.tenant }

// Dir is the world's temporary directory: the emulator's certificate, the
// audit key, and where launchers put closebot.yaml and the store.
func (w *World) Dir() string { return w.dir }

// Secret is closebot's client secret in the emulated tenant (tests check
// it is never printed).
func (w *World) Secret() string { return w.secret }

// Epoch is the wall instant at which emulated time equals wall time, as
// another process sharing the clock must be told.
func (w *World) Epoch() time.Time { return w.opts.Epoch }

// CertFile is the Graph emulator's TLS certificate (SSL_CERT_FILE).
func (w *World) CertFile() string { return filepath.Join(w.dir, "graph-emulator.pem") }

// KeyFile is the audit key file (CLOSEBOT_AUDIT_KEY_FILE).
func (w *World) KeyFile() string { return filepath.Join(w.dir, "audit.key") }

// Env is the environment a closebot process needs to use the emulators.
func (w *World) Env() []string {
	return []string{
		"SLACK_API_URL=" + w.slack.APIURL(),
		"SLACK_APP_TOKEN=" + w.slack.Options().AppToken,
		"SLACK_BOT_TOKEN=" + w.slack.Options().BotToken,
		"AZURE_AUTHORITY_HOST=" + w.graph.AuthorityHost(),
		"SSL_CERT_FILE=" + w.CertFile(),
		"CLOSEBOT_AUDIT_KEY_FILE=" + w.KeyFile(),
		secretEnv + "=" + w.secret,
	}
}

// ConfigYAML is a closebot.yaml for the emulated world (DESIGN §8).
func (w *World) ConfigYAML(storePath string) string {
	keep := w.keep
	var b strings.Builder
	fmt.Fprintf(&b, `slack:
  team_id: %s
  channels: [%s]
  requesters: [%s, %s]
  approvers: [%s]
approval: {required: 1, disjoint: false, expires_after: 24h, abort_window: 30m, drift_percent: 10}
gates: {recheck_every: 10m, gone_confirmations: 3, gone_span: 1h, stuck_after: 336h}
store: {path: %s}
graph: {base_url: %s}
tenants:
  - id: %s
    domain: %s
    keep: %s
    keep_slack_user: %s
    signin_client_id: %s
    client_id: %s
    client_secret_env: %s
`, Team, Channel, Requesters, Dave, Approvers, storePath, w.graph.GraphURL(),
		w.tenant.ID, w.tenant.Domain, keep, Carol, signinClientID, closebotAppID, secretEnv)
	if len(w.opts.WriteGrants) > 0 {
		b.WriteString("    write_access: just_in_time\n")
	}
	return b.String()
}

// LoadConfig writes the emulated world's closebot.yaml and loads it as
// `closebot run` would, with the world's environment.
func (w *World) LoadConfig(storePath string) (*config.Config, error) {
	path := filepath.Join(w.dir, "closebot.yaml")
	if err := os.WriteFile(path, []byte(w.ConfigYAML(storePath)), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	env := map[string]string{}
	for _, kv := range w.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return config.Load(path, func(k string) string { return env[k] })
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
