package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/closebot/closebot/config"
)

// runRun is `closebot run`: load and check the configuration (refusing to
// start on any problem), open the database (its lock first), then serve Slack.
func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (default $CLOSEBOT_CONFIG, else closebot.yaml)")
	jsonLogs := fs.Bool("json-logs", false, "log JSON instead of text")
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
	p, err := assemble(ctx, cfg, wiring{Log: log})
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
