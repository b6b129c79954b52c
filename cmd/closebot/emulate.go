package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/closebot/closebot/internal/demo"
)

// runEmulate starts both emulators with a seeded world and serves until
// interrupted, printing the environment and closebot.yaml that point a
// closebot process at them.
func runEmulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("emulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	users := fs.Int("users", 200, "users in the emulated tenant, the kept admin included")
	latency := fs.Duration("latency", 0, "latency added to every Graph and Slack answer")
	scale := fs.Float64("time-scale", 1, "emulated seconds per wall second (e.g. 3600: an hour a second)")
	epoch := fs.String("epoch", "", "RFC 3339 wall instant where emulated time equals wall time (default: now); give the same --epoch and --time-scale to another process to share the clock")
	configOut := fs.String("write-config", "", "also write the sample closebot.yaml to this file")
	once := fs.Bool("print-only", false, "print the environment and configuration, then stop")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o := demo.Options{Users: *users, Latency: *latency, Scale: *scale}
	if *epoch != "" {
		t, err := time.Parse(time.RFC3339Nano, *epoch)
		if err != nil {
			return fmt.Errorf("--epoch: want RFC 3339 like 2026-11-26T12:00:00Z: %w", err)
		}
		o.Epoch = t
	}
	w, err := demo.StartWorld(o)
	if err != nil {
		return err
	}
	defer w.Close()

	fmt.Fprintf(stdout, "# closebot emulators: Slack at %s, Graph and Entra login at %s\n", w.Slack().URL(), w.Graph().URL())
	fmt.Fprintf(stdout, "# tenant %s (%s), %d users; clock: epoch %s, time-scale %g\n",
		w.Tenant().Domain, w.Tenant().ID, o.Users, w.Epoch().UTC().Format(time.RFC3339Nano), o.Scale)
	fmt.Fprintf(stdout, "# request log and counters: %s/emulator/stats and %s/emulator/stats\n", w.Slack().URL(), w.Graph().URL())
	fmt.Fprintln(stdout, "# environment for closebot:")
	for _, kv := range w.Env() {
		fmt.Fprintln(stdout, "export "+shellQuoteKV(kv))
	}
	fmt.Fprintln(stdout, "# closebot.yaml:")
	cfg := w.ConfigYAML("closebot.db")
	fmt.Fprint(stdout, cfg)
	if *configOut != "" {
		if err := os.WriteFile(filepath.Clean(*configOut), []byte(cfg), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", *configOut, err)
		}
	}
	if o.Scale != 1 {
		fmt.Fprintf(stdout, "# run closebot on the same clock: closebot run --emulated-clock %s,%g\n",
			w.Epoch().UTC().Format(time.RFC3339Nano), o.Scale)
	}
	if *once {
		return nil
	}
	fmt.Fprintln(stdout, "# serving; Ctrl-C stops")
	<-ctx.Done()
	return nil
}

func shellQuoteKV(kv string) string {
	k, v, _ := strings.Cut(kv, "=")
	return k + "='" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}
