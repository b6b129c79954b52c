// Package bench is `closebot bench`: step 1's deletion throughput measured
// at the Graph emulator against Microsoft's documented write quota, for
// closebot itself and for two baselines, plus the Slack side under 20
// concurrent slash commands. Every process is real: `closebot emulate`
// serves Graph, `closebot run` is the bot (its peak RSS read from /proc),
// and the people act through the bench's Slack emulator.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// Microsoft's identity write quota per app and tenant (Learn
// graph/throttling-limits): 3,000 writes per 150 s, i.e. a burst of 3,000
// and 20 writes/s after it; per tenant across apps 18,000 per 5 min (60/s).
const (
	quotaBurst  = 3000
	quotaRate   = 20.0
	tenantRate  = 60.0
	quotaWindow = 150 * time.Second
)

// Scenarios, in the order they run.
const (
	ScenarioClosebot   = "closebot"
	ScenarioSequential = "sequential"
	ScenarioUnpaced    = "unpaced"
	ScenarioTwoTenants = "two-tenants"
	ScenarioBackground = "background"
	ScenarioSlack      = "slack"
)

// Scenarios lists every scenario's name, in order.
var Scenarios = []string{ScenarioClosebot, ScenarioSequential, ScenarioUnpaced, ScenarioTwoTenants, ScenarioBackground, ScenarioSlack}

// Options shape a bench run.
type Options struct {
	Exe     string        // the closebot binary its children run
	Users   int           // users per tenant, kept admin included
	Latency time.Duration // Graph's (and Slack's) answer latency, emulated time
	// TimeScale is emulated seconds per wall second; 0 picks one so that an
	// ideal step 1 takes about a minute.
	TimeScale  float64
	QuotaScale float64 // test knob: Graph's quotas refill this many times faster
	// Background is the other apps' writes/s in the background scenario
	// (0: 45/s, leaving closebot 15/s of the tenant's 60/s).
	Background float64
	// Limit stops a scenario this long (emulated) after its first
	// deletion and projects the rest; 0 is the first 150 s + 1.5 × ideal
	// (the sequential baseline: 150 s more, its rate is plain by then).
	Limit    time.Duration
	Only     string    // one scenario, "" for all
	Dir      string    // where the scenarios' files go ("" the system's temp dir)
	Progress io.Writer // a line per scenario as it starts and ends
}

// Result is one scenario's numbers, measured at the emulators.
type Result struct {
	Scenario string
	Tenants  int
	Deleted  int // users deleted (204), all tenants
	Target   int // users to delete, all tenants
	// Steady is deletions/s per tenant after the first (scaled) 150 s; NaN
	// when the run ended before there was a steady state to measure.
	Steady float64
	// Allowed is what the quotas allow one tenant in steady state.
	Allowed float64
	// Total is emulated time from the first to the last deletion (the
	// slowest tenant); Projected when the run was stopped at its cap and
	// the rest extrapolated at the steady rate.
	Total     time.Duration
	Projected bool
	Ideal     time.Duration // (users − burst) ÷ allowed rate
	Share429  float64       // 429s ÷ write attempts, at the emulator
	Failures  int           // writes answered neither 2xx, 404 nor 429
	PeakRSS   int64         // the bot's peak RSS in bytes (0: no bot)
	Err       error         // the scenario could not run to the end

	// Slack side.
	Commands        int
	AckP99, CardP99 time.Duration
	Slack429        map[string]int // per Web API method
}

type bench struct {
	o       Options
	scale   float64 // time scale in use
	quota   float64
	warm    time.Duration // the first (scaled) 150 s, left out of the steady state
	allowed float64
}

// Run runs the scenarios and returns their results.
func Run(ctx context.Context, o Options) ([]Result, error) {
	if o.Users < 2 {
		return nil, fmt.Errorf("--users must be at least 2, got %d", o.Users)
	}
	if o.Exe == "" {
		return nil, errors.New("no closebot binary to run")
	}
	if o.Only != "" && !slices.Contains(Scenarios, o.Only) {
		return nil, fmt.Errorf("--only %q: want one of %s", o.Only, strings.Join(Scenarios, ", "))
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	b := &bench{o: o, quota: 1, scale: o.TimeScale}
	if o.QuotaScale > 0 {
		b.quota = o.QuotaScale
	}
	if o.Background <= 0 {
		b.o.Background = 45
	}
	b.allowed = quotaRate * b.quota
	b.warm = time.Duration(float64(quotaWindow) / b.quota)
	if b.scale <= 0 {
		b.scale = max(1, math.Round((b.ideal(o.Users-1, quotaBurst, b.allowed)+10*time.Second).Seconds()/60))
	}
	var out []Result
	for _, s := range Scenarios {
		if o.Only != "" && s != o.Only {
			continue
		}
		fmt.Fprintf(o.Progress, "bench: %s (%d users, %s latency, time scale %g, quota scale %g)…\n", s, o.Users, o.Latency, b.scale, b.quota)
		started := time.Now()
		r := b.run(ctx, s)
		fmt.Fprintf(o.Progress, "bench: %s done in %s\n", s, time.Since(started).Round(time.Second))
		if r.Err != nil {
			fmt.Fprintf(o.Progress, "bench: %s: %v\n", s, r.Err)
		}
		out = append(out, r)
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
	}
	return out, nil
}

// limit is how long a scenario deletes before the rest is projected.
func (b *bench) limit(ideal time.Duration) time.Duration {
	if b.o.Limit > 0 {
		return b.o.Limit
	}
	return max(b.warm+ideal*3/2, b.warm+time.Minute)
}

// ideal is (users − burst) ÷ rate: the quota's own floor on step 1's time.
func (b *bench) ideal(users, burst int, rate float64) time.Duration {
	if users <= burst {
		return 0
	}
	return time.Duration(float64(users-burst) / rate * float64(time.Second))
}

func (b *bench) run(ctx context.Context, s string) Result {
	switch s {
	case ScenarioClosebot:
		return b.closures(ctx, s, 1)
	case ScenarioTwoTenants:
		return b.closures(ctx, s, 2)
	case ScenarioBackground:
		return b.closures(ctx, s, 1, "--background-writes", fmt.Sprint(b.o.Background))
	case ScenarioSequential, ScenarioUnpaced:
		return b.baseline(ctx, s)
	default:
		return b.slackSide(ctx)
	}
}
