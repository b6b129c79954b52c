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
	emuClock := fs.String("emulated-clock", "", "EPOCH,SCALE[,SKIPFILE]: share `closebot emulate`'s time-scaled clock (emulators on loopback only); SKIPFILE: fast-forwards a test writes there (demo.WriteSkip)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	var h slog.Handler = slog.NewTextHandler(stderr, nil)
	if *jsonLogs {
		h = slog.NewJSONHandler(stderr, nil)
	}
	log := slog.New(h)
	for _, w := range cfg.Warnings() {
		log.Warn("configuration", "warning", w)
	}
	w := wiring{Log: log}
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
	p, err := assemble(ctx, cfg, w)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "closebot %s: serving team %s, %d tenant(s), database %s\n", version, cfg.Slack.TeamID, len(cfg.Tenants), cfg.Store.Path)
	return p.run(ctx)
}

// loadConfig loads the configuration from --config, $CLOSEBOT_CONFIG or
// closebot.yaml, with the process environment.
func loadConfig(flagPath string) (*config.Config, error) {
	return config.Load(config.ResolvePath(flagPath, os.Getenv), os.Getenv)
}
