package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/closebot/closebot/bot"
	"github.com/closebot/closebot/closure/msgraph"
	"github.com/closebot/closebot/internal/demo"
)

// runDemo is `closebot demo`: both emulators in-process, a seeded tenant,
// closebot itself, and the people of a closure played by a script — alice
// requests, bob approves, carol (the kept admin) signs in and acts at the
// gates. Emulated time runs scaled, and the long waits are fast-forwarded,
// so days pass in seconds. The terminal shows the Slack channel, thread and
// DMs as they unfold, then a summary computed from the Graph emulator's
// request log. It exits 0 only if the tenant really was closed.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	users := fs.Int("users", 60, "users in the emulated tenant, the kept admin included")
	scale := fs.Float64("time-scale", 60, "emulated seconds per wall second")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long (wall time)")
	verbose := fs.Bool("v", false, "show closebot's own logs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	started := time.Now()

	clock := demo.NewClock(time.Now().UTC(), *scale)
	defer clock.Close()
	// The demo runs the recommended mode: write access only during the
	// closure (carol grants it at step 1 and removes it after step 5).
	w, err := demo.StartWorld(demo.Options{Users: *users, Scale: *scale, Clock: clock, WriteGrants: msgraph.WriteGrants()})
	if err != nil {
		return err
	}
	defer w.Close()
	level := slog.LevelError
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	p, stopBot, err := launch(ctx, w, clock, log, nil)
	if err != nil {
		return err
	}
	defer stopBot()
	return demo.Run(ctx, demo.Script{World: w, Clock: clock, DB: p.db, Flush: p.reporter.Flush, Out: stdout, Started: started})
}

// launch starts closebot on the emulated world, as `closebot run` would
// with the world's closebot.yaml and environment, and waits until it is
// connected to Slack. stop ends it and returns its error.
func launch(ctx context.Context, w *demo.World, clock *demo.Clock, log *slog.Logger, botOpts func(*bot.Config)) (*product, func() error, error) {
	cfg, err := w.LoadConfig(filepath.Join(w.Dir(), "closebot.db"))
	if err != nil {
		return nil, nil, err
	}
	p, err := assemble(ctx, cfg, wiring{Transport: w.Graph().Client().Transport, Clock: clock, After: clock.After, Log: log, BotOptions: botOpts})
	if err != nil {
		return nil, nil, err
	}
	botCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.run(botCtx) }()
	stop := func() error { cancel(); return <-done }
	if err := w.Slack().WaitConnections(1, 10*time.Second); err != nil {
		cancel()
		return nil, nil, fmt.Errorf("closebot did not connect to Slack: %w (%v)", err, <-done)
	}
	return p, stop, nil
}
