package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/slack-go/slack"

	"github.com/closebot/closebot/bot"
	"github.com/closebot/closebot/bot/outbound"
	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/msgraph"
	"github.com/closebot/closebot/closure/pace"
	closurerun "github.com/closebot/closebot/closure/run"
	"github.com/closebot/closebot/commands"
	"github.com/closebot/closebot/config"
	"github.com/closebot/closebot/store"
)

// The concrete collaborators the bot's ports stand for.
var (
	_ bot.Domain   = (*closure.Service)(nil)
	_ bot.Executor = (*closurerun.Runner)(nil)
	_ bot.Outbound = (*outbound.Reporter)(nil)
)

// metaConfigSnapshot is where the authorisation part of the last run's
// configuration is kept, to post what changed at the next start (DESIGN §3).
const metaConfigSnapshot = "config.snapshot"

// wiring are the knobs `run` leaves at their defaults and `demo` and the
// end-to-end tests set: an emulator's certificate, a time-scaled clock.
type wiring struct {
	Transport  http.RoundTripper // Graph and authority transport; nil: Go's default
	SlackHTTP  *http.Client      // Slack Web API client; nil: the bot's default
	Clock      closure.Clock     // nil: the system clock
	After      func(time.Duration) <-chan time.Time
	Log        *slog.Logger
	BotOptions func(*bot.Config) // last say on the bot's configuration
	Names      *requestTenants   // the log handler's request → tenant names; nil: a new one
	Pacing     pace.Settings     // the write pacer (zero: Microsoft's documented quotas)
}

// product is closebot assembled: the store (its lock held), the domain, the
// Graph directories, and the Slack bot with its reporter.
type product struct {
	cfg      *config.Config
	db       *store.DB
	policy   *closure.Policy
	service  *closure.Service
	runner   *closurerun.Runner
	reporter *outbound.Reporter
	bot      *bot.Bot
	log      *slog.Logger
	obs      *observer // /healthz, /readyz, /metrics
	names    *requestTenants
}

// assemble builds closebot from a loaded configuration. The store is opened
// first, so a second closebot on the same database fails here, before any
// socket is opened.
func assemble(ctx context.Context, cfg *config.Config, w wiring) (*product, error) {
	log := w.Log
	if log == nil {
		log = slog.Default()
	}
	clock := w.Clock
	if clock == nil {
		clock = closure.SystemClock{}
	}
	db, err := store.Open(cfg.Store.Path, cfg.AuditKey(), store.Options{Now: clock.Now})
	if err != nil {
		return nil, err
	}
	p := &product{cfg: cfg, db: db, log: log, obs: newObserver(db), names: w.Names}
	if p.names == nil {
		p.names = &requestTenants{}
	}
	ok := false
	defer func() {
		if !ok {
			_ = db.Close()
		}
	}()

	policy := cfg.Policy()
	policy.WriteGrants = msgraph.WriteGrants() // asked for per closure where write_access is just_in_time
	if err := policy.Validate(); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	p.policy = &policy

	graphTransport := w.Transport
	if graphTransport == nil {
		graphTransport = http.DefaultTransport.(*http.Transport).Clone()
	}
	graphTransport = p.obs.metrics.GraphTransport(graphTransport)
	dirs := map[string]closure.Directory{}
	for _, t := range cfg.Tenants {
		limits := nearLimitTransport{next: graphTransport, pacer: func() *pace.Pacer { return p.runner.Pacer().For(t.ClientID, t.ID) }}
		d, err := msgraph.New(ctx, graphConfig(cfg, t, limits, log.With("tenant", t.Domain)))
		if err != nil {
			return nil, fmt.Errorf("tenant %s: %w", t.Domain, err)
		}
		dirs[t.ID] = d
	}

	slackHTTP := w.SlackHTTP
	if slackHTTP == nil {
		// slack-go's default client has no timeout: one hung call would
		// stall the reporter's queue for good.
		slackHTTP = &http.Client{Timeout: 30 * time.Second}
	}
	// Metrics count what Slack answered; outside them, every Slack caller
	// (reporter, bot, socket mode) honours a Retry-After any of them was
	// answered.
	wrapped := *slackHTTP
	wrapped.Transport = outbound.RetryAfterTransport(p.obs.metrics.SlackTransport(slackHTTP.Transport))
	slackHTTP = &wrapped
	slackOpts := []slack.Option{slack.OptionHTTPClient(slackHTTP)}
	if cfg.Env.SlackAPIURL != "" {
		slackOpts = append(slackOpts, slack.OptionAPIURL(cfg.Env.SlackAPIURL))
	}
	gates := closure.GateConfig{
		RecheckEvery: cfg.Gates.RecheckEvery, GoneConfirmations: cfg.Gates.GoneConfirmations, GoneSpan: cfg.Gates.GoneSpan,
	}
	p.reporter = outbound.NewReporter(outbound.ReporterConfig{
		API: slack.New(cfg.Env.SlackBotToken.Reveal(), slackOpts...), Refs: db, Store: db,
		Policy: p.policy, Clock: clock, Log: log.With("component", "reporter"), Gates: gates,
	})
	p.service = &closure.Service{Store: db, Clock: clock, Policy: p.policy, Log: log,
		Reporter: namingReporter{Reporter: p.obs.metrics.WrapReporter(p.reporter, clock.Now()), names: p.names}}
	p.runner = &closurerun.Runner{
		Service: p.service,
		Dirs: func(id string) (closure.Directory, error) {
			d, ok := dirs[id]
			if !ok {
				return nil, fmt.Errorf("tenant %s is not configured", id)
			}
			return d, nil
		},
		Gates: gates, Log: log.With("component", "runner"), After: w.After, Pacing: w.Pacing,
	}
	p.obs.metrics.PacerTokens(func() map[string]float64 { return p.runner.Pacer().Tokens() })
	p.service.Planner = p.runner // the use cases read tenants through the executor
	p.service.Waker = p.runner   // and wake it after a decision

	var tenants []commands.Tenant
	for _, t := range cfg.Tenants {
		tenants = append(tenants, commands.Tenant{ID: t.ID, Domain: t.Domain})
	}
	bcfg := bot.Config{
		TeamID: cfg.Slack.TeamID, Channels: cfg.Slack.Channels,
		AppToken: cfg.Env.SlackAppToken.Reveal(), BotToken: cfg.Env.SlackBotToken.Reveal(),
		APIURL: cfg.Env.SlackAPIURL, HTTPClient: slackHTTP, Watch: p.obs.watch(),
	}
	if w.BotOptions != nil {
		w.BotOptions(&bcfg)
	}
	p.bot, err = bot.New(bcfg, bot.Deps{
		Service: p.service, Runner: p.runner, Reporter: p.reporter, Store: db,
		Policy: p.policy, Tenants: tenants, Log: log, Clock: clock,
		OnAnotherInstance: func(ctx context.Context) {
			p.pauseAll(ctx, "another closebot instance is connected to Slack")
		},
	})
	if err != nil {
		return nil, err
	}
	ok = true
	return p, nil
}

// run verifies the audit chains, announces configuration changes and runs
// the bot until ctx ends.
func (p *product) run(ctx context.Context) error {
	defer p.db.Close()
	if rs, err := p.db.List(ctx, false, 0); err == nil {
		for _, r := range rs {
			p.names.note(r.ID, r.TenantDomain)
		}
	}
	results, err := p.db.VerifyAll(ctx)
	if err != nil {
		return fmt.Errorf("verify audit chains: %w", err)
	}
	for _, r := range results {
		if r.Fault != nil {
			// The runner verifies a request's chain before every resume and
			// stops that request on a mismatch; say so where people look.
			p.log.ErrorContext(ctx, "audit chain broken: work on this request stops", "request", r.Request, "fault", r.Fault.Error())
			p.reporter.AnnounceAll(p.cfg.Slack.Channels, fmt.Sprintf("The audit chain of %s does not verify (%s). closebot will not act on %s; run `closebot audit verify` and investigate.", r.Request, r.Fault.Error(), r.Request))
		}
	}
	// Before anything resumes: a request behind its Slack thread is held;
	// the others' card, step and gate messages are drawn again (the outbox
	// that held them died with the last process).
	p.readBack(ctx)
	p.announceConfigChanges(ctx)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	defer signal.Stop(sig)
	// The stop file is read before anything resumes (the bot resumes the
	// open closures when it connects).
	stop := stopper{pause: p.pauseAll, halt: p.runner.Halt}
	checkStop(ctx, p.cfg.Store.Path+".stop", stop)
	go watchStop(ctx, p.cfg.Store.Path+".stop", stopPoll, sig, stop)
	err = p.bot.Run(ctx)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// announceConfigChanges posts who may now request, approve or keep since
// the last run (everything, on a database's first run), then remembers this
// run's snapshot.
func (p *product) announceConfigChanges(ctx context.Context) {
	var prev config.Snapshot
	seen, err := p.db.GetMeta(ctx, metaConfigSnapshot, &prev)
	if err != nil {
		p.log.WarnContext(ctx, "read last configuration snapshot", "err", err)
		return
	}
	next := p.cfg.Snapshot()
	lines := config.DiffSnapshots(prev, next)
	if !seen {
		lines = append([]string{"first run with this database; the configuration is:"}, lines...)
	}
	if err := p.reporter.AnnounceConfigChanges(ctx, p.cfg.Slack.Channels, lines); err != nil {
		p.log.WarnContext(ctx, "announce configuration changes", "err", err)
	}
	if err := p.db.PutMeta(ctx, metaConfigSnapshot, next); err != nil {
		p.log.WarnContext(ctx, "save configuration snapshot", "err", err)
	}
}
