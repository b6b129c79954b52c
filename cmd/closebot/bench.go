package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/closebot/closebot/internal/bench"
)

// runBench measures step 1's throughput against Graph's write quota, with
// `closebot emulate` and `closebot run` as child processes of this binary.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	users := fs.Int("users", 10000, "users per tenant, the kept admin included")
	latency := fs.Duration("latency", 150*time.Millisecond, "Graph's and Slack's answer latency, in emulated time")
	scale := fs.Float64("time-scale", 0, "emulated seconds per wall second (0: an ideal step 1 takes about a minute)")
	quota := fs.Float64("quota-scale", 1, "test knob: Graph's write quotas refill this many times faster (bursts unchanged)")
	background := fs.Float64("background-writes", 45, "the background scenario: other apps' writes/s into the tenant (its quota is 60/s)")
	only := fs.String("only", "", "run one scenario: "+strings.Join(bench.Scenarios, ", "))
	if err := fs.Parse(args); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find closebot's own binary: %w", err)
	}
	o := bench.Options{Exe: exe, Users: *users, Latency: *latency, TimeScale: *scale, QuotaScale: *quota,
		Background: *background, Only: *only, Progress: stderr}
	rs, err := bench.Run(ctx, o)
	if len(rs) == 0 {
		return err
	}
	fmt.Fprintf(stdout, "closebot bench %s: %d users per tenant, %s latency, quota scale %g, %s\n\n",
		version, o.Users, o.Latency, o.QuotaScale, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	bench.Print(stdout, o, rs)
	return err
}
