package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/closebot/closebot/bot/slacktest"
	"github.com/closebot/closebot/closure/graphtest"
)

// The emulated world's people and places: one workspace, one ops channel, a
// requester, two approvers, the kept admin's Slack account, and people who
// must be refused (an outsider, a guest, an account of another workspace).
const (
	worldTeam       = "T0ACME"
	worldOtherTeam  = "T0OTHER"
	worldAppID      = "A0CLOSEBOT"
	worldChannel    = "C0OPS"
	worldAlice      = "U0ALICE" // requester (S0ITOPS)
	worldBob        = "U0BOB"   // approver (S0SECLEAD)
	worldDave       = "U0DAVE"  // approver (S0SECLEAD) and requester: holds both roles
	worldCarol      = "U0CAROL" // the kept admin's Slack user
	worldMallory    = "U0MALLORY"
	worldGuest      = "U0GUEST"
	worldStranger   = "U0STRANGER" // member of another workspace
	worldRequesters = "S0ITOPS"
	worldApprovers  = "S0SECLEAD"
	closebotAppID   = "11111111-1111-1111-1111-111111111111"
	signinClientID  = "14d82eec-204b-4c2f-b7e8-296a70dab67e" // Microsoft Graph Command Line Tools
	secretEnv       = "CONTOSO_CLIENT_SECRET"
)

// worldOptions shape the emulated world.
type worldOptions struct {
	Users   int           // users in the tenant, kept admin included
	Latency time.Duration // added to every Graph and Slack answer
	Scale   float64       // emulated seconds per wall second
	Epoch   time.Time     // wall instant at which emulated time equals wall time
	// Clock, if set, is the emulators' time instead of the one derived
	// from Epoch and Scale (the demo's fast-forwardable clock).
	Clock interface{ Now() time.Time }
	// Spec adjusts the seeded tenant.
	Spec func(*graphtest.TenantSpec)
}

// world is both emulators with a seeded workspace and tenant, plus the files
// a separate closebot process needs (the emulator's certificate, the audit key).
type world struct {
	slack  *slacktest.Server
	graph  *graphtest.Server
	tenant *graphtest.Tenant
	dir    string
	secret string
	opts   worldOptions
	// keep is the kept admin's UPN as configured when the world was
	// seeded: a rename in the tenant does not edit the config.
	keep string
}

func startWorld(o worldOptions) (*world, error) {
	if o.Users < 2 {
		return nil, fmt.Errorf("--users must be at least 2 (the kept admin and one other), got %d", o.Users)
	}
	if o.Scale <= 0 {
		return nil, fmt.Errorf("--time-scale must be positive, got %v", o.Scale)
	}
	if o.Epoch.IsZero() {
		o.Epoch = time.Now()
	}
	w := &world{opts: o, secret: randomHex(24)}
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
	w.tenant = w.graph.AddTenant(spec)
	w.keep = w.tenant.KeptAdmin().UPN
	w.graph.RegisterClientSecret(w.tenant.ID, closebotAppID, w.secret)
	w.graph.RegisterPublicClient(signinClientID)

	w.slack = slacktest.New(slacktest.Options{
		AppToken: "xapp-1-" + worldAppID + "-emulated", BotToken: "xoxb-emulated-closebot",
		TeamID: worldTeam, TeamDomain: "acme", TeamName: "Acme", AppID: worldAppID,
		BotUserID: "U0CLOSEBOT", BotID: "B0CLOSEBOT", BotName: "closebot",
		Clock:   sclock,
		Latency: o.Latency,
	})
	for _, u := range []slacktest.User{
		{ID: worldAlice, Name: "alice", RealName: "Alice Requester", TeamID: worldTeam},
		{ID: worldBob, Name: "bob", RealName: "Bob Approver", TeamID: worldTeam},
		{ID: worldDave, Name: "dave", RealName: "Dave Approver", TeamID: worldTeam},
		{ID: worldCarol, Name: "carol", RealName: "Carol Keeper", TeamID: worldTeam},
		{ID: worldMallory, Name: "mallory", RealName: "Mallory Outsider", TeamID: worldTeam},
		{ID: worldGuest, Name: "guest", RealName: "Gus Guest", TeamID: worldTeam, IsRestricted: true},
		{ID: worldStranger, Name: "stranger", RealName: "Sam Stranger", TeamID: worldOtherTeam},
	} {
		w.slack.AddUser(u)
	}
	w.slack.AddUserGroup(worldRequesters, worldAlice)
	w.slack.AddUserGroup(worldApprovers, worldBob, worldDave)
	w.slack.AddChannel(slacktest.Channel{ID: worldChannel, Name: "it-ops"})
	if err := w.slack.Start(); err != nil {
		w.graph.Close()
		return nil, err
	}

	dir, err := os.MkdirTemp("", "closebot-emulate-")
	if err != nil {
		w.close()
		return nil, err
	}
	w.dir = dir
	if err := os.WriteFile(w.certFile(), w.graph.CertPEM(), 0o644); err != nil {
		w.close()
		return nil, err
	}
	if err := os.WriteFile(w.keyFile(), []byte(randomHex(32)+"\n"), 0o600); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

func (w *world) close() {
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

func (w *world) certFile() string { return filepath.Join(w.dir, "graph-emulator.pem") }
func (w *world) keyFile() string  { return filepath.Join(w.dir, "audit.key") }

// env is the environment a closebot process needs to use the emulators.
func (w *world) env() []string {
	return []string{
		"SLACK_API_URL=" + w.slack.APIURL(),
		"SLACK_APP_TOKEN=" + w.slack.Options().AppToken,
		"SLACK_BOT_TOKEN=" + w.slack.Options().BotToken,
		"AZURE_AUTHORITY_HOST=" + w.graph.AuthorityHost(),
		"SSL_CERT_FILE=" + w.certFile(),
		"CLOSEBOT_AUDIT_KEY_FILE=" + w.keyFile(),
		secretEnv + "=" + w.secret,
	}
}

// configYAML is a closebot.yaml for the emulated world (DESIGN §8).
func (w *world) configYAML(storePath string) string {
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
`, worldTeam, worldChannel, worldRequesters, worldDave, worldApprovers, storePath, w.graph.GraphURL(),
		w.tenant.ID, w.tenant.Domain, keep, worldCarol, signinClientID, closebotAppID, secretEnv)
	return b.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
