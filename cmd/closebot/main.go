// Command closebot closes a Microsoft 365 / Entra ID tenant from Slack, with
// two-person approval and a tamper-evident record. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// version is set at build time (-ldflags "-X main.version=…").
var version = "dev"

// command is one subcommand: its one-line summary and its entry point.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var subcommands = map[string]command{
	"run":         {"serve Slack: take requests, approvals and clicks, and run the closures", runRun},
	"demo":        {"close an emulated tenant end to end: both emulators, closebot, and scripted people", runDemo},
	"bench":       {"measure step 1's deletion throughput against Graph's write quota, and the Slack side, on the emulators", runBench},
	"emulate":     {"start the Slack and Graph emulators on loopback and print how to point closebot at them", runEmulate},
	"audit":       {"verify the audit chains (audit verify) or export one request's events as JSON Lines (audit export CT-n)", runAudit},
	"config":      {"check closebot.yaml and the environment (config check)", runConfig},
	"manifest":    {"print the Slack app manifest (socket mode)", runManifest},
	"plan":        {"preflight a configured tenant and print its full plan, as Slack shows it (read-only; --json for scripts)", runPlan},
	"healthcheck": {"GET closebot run's /healthz (or --url …/readyz) and exit 0 if it answers 200 (the image's HEALTHCHECK)", runHealthcheck},
	"version": {"print the version", func(_ context.Context, _ []string, stdout, _ io.Writer) error {
		_, err := fmt.Fprintln(stdout, "closebot", version)
		return err
	}},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := subcommands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "closebot: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	if err := cmd.run(ctx, args[1:], stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "closebot %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: closebot <command> [flags]")
	fmt.Fprintln(w)
	names := make([]string, 0, len(subcommands))
	for n := range subcommands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, subcommands[n].summary)
	}
}
