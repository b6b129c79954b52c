package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/closebot/closebot/config"
	"github.com/closebot/closebot/internal/demo"
)

// runRun is `closebot run`: load and check the configuration (refusing to
// start on any problem), open the database (its lock first), then serve Slack.
func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (default $CLOSEBOT_CONFIG, else closebot.yaml)")
	jsonLogs := fs.Bool("json-logs", false, "log JSON instead of text")
	listen := fs.String("listen", "", "serve /healthz, /readyz and /metrics on this address (e.g. :9090)")
	emuClock := fs.String("emulated-clock", "", "EPOCH,SCALE[,SKIPFILE]: share `closebot emulate`'s time-scaled clock (emulators on loopback only); SKIPFILE: fast-forwards a test writes there (demo.WriteSkip)")
	emuQuota := fs.String("emulated-quota-scale", "", "K: pace to `closebot emulate --quota-scale K` (quotas refill K× faster, same burst; emulators on loopback only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	names := &requestTenants{}
	log := slog.New(newLogHandler(stderr, *jsonLogs, nil, configSecrets(cfg), names))
	for _, w := range cfg.Warnings() {
		log.Warn("configuration", "warning", w)
	}
	w := wiring{Log: log, Names: names}
	if *emuClock != "" {
		c, err := parseEmulatedClock(*emuClock, cfg)
		if err != nil {
			return err
		}
		w.Clock, w.After = c, c.After
		if c.skips != "" {
			dc := demo.NewSharedClock(c.epoch, c.scale)
			defer dc.Close()
			if err := demo.FollowSkips(ctx, dc, c.skips, 5*time.Millisecond); err != nil {
				return err
			}
			w.Clock, w.After = dc, dc.After
		}
		log.Warn("running on an emulated clock", "epoch", c.epoch.UTC().Format(time.RFC3339Nano), "scale", c.scale, "skip_file", c.skips)
	}
	if *emuQuota != "" {
		ps, err := emulatedQuotaPacing(*emuQuota, cfg)
		if err != nil {
			return err
		}
		w.Pacing = ps
		log.Warn("pacing to an emulated quota", "scale", *emuQuota, "app_tenant_per", ps.AppTenant.Per.String())
	}
	p, err := assemble(ctx, cfg, w)
	if err != nil {
		return err
	}
	if *listen != "" {
		stopListen, err := serveObserver(*listen, p.obs, log)
		if err != nil {
			_ = p.db.Close()
			return err
		}
		defer stopListen()
	}
	defer writeHeapProfile(log)
	fmt.Fprintf(stdout, "closebot %s: serving team %s, %d tenant(s), database %s\n", version, cfg.Slack.TeamID, len(cfg.Tenants), cfg.Store.Path)
	return runUntilStopped(ctx, p, stopGrace)
}

// stopGrace is how long a stop (SIGTERM, Ctrl-C) may take: in-flight Graph
// and Slack calls are cancelled, each closure's state is already on disk
// (every change is written before it is acted on), the socket and the
// database close. Kubernetes' default grace period is 30 s.
const stopGrace = 10 * time.Second

// runUntilStopped runs p until ctx ends, then gives it grace to stop. A
// closebot that overruns returns an error, and exiting releases the
// database lock anyway: the next start resumes from what is on disk.
func runUntilStopped(ctx context.Context, p *product, grace time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- p.run(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	p.log.Info("stopping", "grace", grace.String())
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case err := <-done:
		p.log.Info("stopped")
		return err
	case <-t.C:
		return fmt.Errorf("did not stop within %s; exiting anyway (the next start resumes from the database)", grace)
	}
}

// loadConfig loads the configuration from --config, $CLOSEBOT_CONFIG or
// closebot.yaml, with the process environment.
func loadConfig(flagPath string) (*config.Config, error) {
	return config.Load(config.ResolvePath(flagPath, os.Getenv), os.Getenv)
}
