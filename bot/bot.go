// Package bot is closebot's inbound side in Slack: the socket-mode event
// loop that turns slash commands, clicks and modal submissions into calls
// on the domain (the Domain and Executor ports), after checking the
// envelope, the actor and the channel. What the domain did is told by the
// outbound side (package bot/outbound's Reporter), built by bot/blocks.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/closebot/closebot/bot/outbound"
	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/commands"
)

// Config is the Slack side of the configuration, as plain values.
type Config struct {
	TeamID   string   // slack.team_id
	Channels []string // slack.channels: where /close-tenant and clicks are accepted
	AppToken string   // xapp-… (connections:write)
	BotToken string   // xoxb-…
	// APIURL overrides Slack's Web API base (emulators); it must end with "/".
	APIURL string
	// Workers bounds the envelopes handled at once (default 4).
	Workers int
	// HTTPClient is used for the Web API (default: a client with a 30 s timeout).
	HTTPClient *http.Client
	// GroupRefresh is how often user-group members are re-read in the
	// background (default 1 min).
	GroupRefresh time.Duration
	// Sweep is how often pending requests past their expiry and gates past
	// stuck_after are moved on (default 1 min).
	Sweep time.Duration
	// Recheck is how long after a hello reporting more than one connection
	// closebot reconnects to count again (default 10 s; doubled while the
	// count stays above one, up to 32 times): Slack may still count the
	// socket it has just told closebot to drop.
	Recheck time.Duration
	// SocketOptions are extra socketmode options (tests: ping interval).
	SocketOptions []socketmode.Option
	// Watch is told how the socket stands and how fast envelopes are acked.
	Watch Watch
}

// InboundStore is the slice of the store the bot uses: Slack refs, the
// envelope ids seen and small values kept across restarts (store.DB
// implements it).
type InboundStore interface {
	outbound.RefStore
	outbound.MetaStore
	SeenEnvelope(ctx context.Context, id string, now time.Time) (bool, error)
}

// Deps are the bot's collaborators; the caller has opened the store (and so
// holds the database lock) before Run opens the socket.
type Deps struct {
	Service  Domain   // *closure.Service
	Runner   Executor // *run.Runner
	Reporter Outbound // *outbound.Reporter
	Store    InboundStore
	Policy   *closure.Policy
	Tenants  []commands.Tenant
	Log      *slog.Logger
	Clock    closure.Clock
	// OnAnotherInstance, if set, is called once when a second hello in a
	// row confirms another closebot connected to Slack (the caller pauses
	// the running closures).
	OnAnotherInstance func(ctx context.Context)
}

// Bot is closebot's Slack front end.
type Bot struct {
	cfg      Config
	deps     Deps
	api      *slack.Client
	log      *slog.Logger
	channels map[string]bool
	groups   *groupCache
	chans    channelCache

	mu       sync.Mutex
	appID    string         // from the current connection's hello
	conns    int            // num_connections of that hello
	warned   bool           // the channels were told another instance is connected
	runWG    sync.WaitGroup // announcement goroutines the bot started
	started  bool
	announce func(ctx context.Context, text string) // tests may watch; default Reporter.Announce in every channel
	// after times the reconnects that re-read num_connections (tests
	// fire them by hand).
	after func(time.Duration) <-chan time.Time
}

// New checks the configuration and dependencies and builds a Bot.
func New(cfg Config, deps Deps) (*Bot, error) {
	var errs []error
	if cfg.TeamID == "" {
		errs = append(errs, errors.New("bot: TeamID is required"))
	}
	if len(cfg.Channels) == 0 {
		errs = append(errs, errors.New("bot: at least one channel is required"))
	}
	if !strings.HasPrefix(cfg.AppToken, "xapp-") {
		errs = append(errs, errors.New("bot: AppToken must be an app-level token (xapp-…)"))
	}
	if !strings.HasPrefix(cfg.BotToken, "xoxb-") {
		errs = append(errs, errors.New("bot: BotToken must be a bot token (xoxb-…)"))
	}
	if cfg.APIURL != "" && !strings.HasSuffix(cfg.APIURL, "/") {
		errs = append(errs, fmt.Errorf("bot: APIURL %q must end with /", cfg.APIURL))
	}
	if cfg.Workers < 0 {
		errs = append(errs, errors.New("bot: Workers must not be negative"))
	}
	if deps.Service == nil || deps.Runner == nil || deps.Reporter == nil || deps.Store == nil || deps.Policy == nil {
		errs = append(errs, errors.New("bot: Service, Runner, Reporter, Store and Policy are required"))
	}
	if deps.Policy != nil && deps.Policy.TeamID != cfg.TeamID {
		errs = append(errs, fmt.Errorf("bot: policy team %q differs from the configured team %q", deps.Policy.TeamID, cfg.TeamID))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cfg.Workers == 0 {
		cfg.Workers = 4
	}
	if cfg.GroupRefresh <= 0 {
		cfg.GroupRefresh = time.Minute
	}
	if cfg.Sweep <= 0 {
		cfg.Sweep = time.Minute
	}
	if cfg.Recheck <= 0 {
		cfg.Recheck = 10 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	if deps.Clock == nil {
		deps.Clock = closure.SystemClock{}
	}
	// Retry 429s (Retry-After honoured): a decision's fresh group read is
	// Tier 2, and a refused lookup must not become an internal error.
	opts := []slack.Option{slack.OptionAppLevelToken(cfg.AppToken), slack.OptionHTTPClient(cfg.HTTPClient), slack.OptionRetry(2)}
	if cfg.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(cfg.APIURL))
	}
	b := &Bot{
		cfg: cfg, deps: deps, log: deps.Log.With("component", "bot"),
		api:      slack.New(cfg.BotToken, opts...),
		channels: map[string]bool{},
		chans:    channelCache{entries: map[string]channelEntry{}},
		after:    time.After,
	}
	for _, c := range cfg.Channels {
		b.channels[c] = true
	}
	b.groups = newGroupCache(b.api, deps.Policy, b.log)
	b.announce = func(_ context.Context, text string) { deps.Reporter.AnnounceAll(cfg.Channels, text) }
	return b, nil
}

// Run starts the Reporter, resumes open requests, keeps the group cache
// warm, opens the socket and handles envelopes until ctx ends (then it
// waits for the work in flight) or the socket fails for good.
func (b *Bot) Run(ctx context.Context) error {
	b.mu.Lock()
	if b.started {
		b.mu.Unlock()
		return errors.New("bot: Run called twice")
	}
	b.started = true
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b.mu.Unlock()

	var bg sync.WaitGroup
	goBG := func(f func()) {
		bg.Add(1)
		go func() { defer bg.Done(); f() }()
	}
	goBG(func() {
		if err := b.deps.Reporter.Run(ctx); err != nil && ctx.Err() == nil {
			b.log.ErrorContext(ctx, "reporter stopped", "err", err)
		}
	})
	// Warm the group cache before the socket opens, so the first click
	// needs no usergroups.users.list inside its trigger's 3 s.
	b.groups.refresh(ctx)
	goBG(func() { b.groups.loop(ctx, b.cfg.GroupRefresh) })
	goBG(func() { b.sweep(ctx) })
	if ids, err := b.deps.Runner.ResumeAll(ctx); err != nil {
		b.log.ErrorContext(ctx, "resume open requests", "err", err)
	} else if len(ids) > 0 {
		b.log.InfoContext(ctx, "resumed open requests", "requests", ids)
	}

	jobs := make(chan job, b.cfg.Workers*64)
	for range b.cfg.Workers {
		goBG(func() { b.work(ctx, jobs) })
	}

	err := b.loop(ctx, jobs)
	cancel()
	bg.Wait()
	b.runWG.Wait()
	b.deps.Runner.WaitRuns()
	return err
}

// sweep moves pending requests past their expiry to expired and overdue
// gates to stuck, and sends the daily gate reminders; nobody else runs these
// on a timer.
func (b *Bot) sweep(ctx context.Context) {
	t := time.NewTicker(b.cfg.Sweep)
	defer t.Stop()
	reminders := b.deps.Reporter.NewReminders(b.deps.Store)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := b.deps.Service.ExpireDue(ctx); err != nil && ctx.Err() == nil {
			b.log.WarnContext(ctx, "expire due requests", "err", err)
		}
		if _, err := b.deps.Service.MarkStuckDue(ctx); err != nil && ctx.Err() == nil {
			b.log.WarnContext(ctx, "mark stuck requests", "err", err)
		}
		if _, err := reminders.Due(ctx); err != nil && ctx.Err() == nil {
			b.log.WarnContext(ctx, "gate reminders", "err", err)
		}
	}
}

func (b *Bot) now() time.Time { return b.deps.Clock.Now() }
