package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"
)

// stopPoll is how often `closebot run` looks for the stop file (a
// variable so a test can show the start-up check works on its own).
var stopPoll = 2 * time.Second

// stopper is what the emergency stop acts on: every closure's pause, and
// the runner's halt, which keeps every writer (restores and gate re-checks
// of any state included) from calling Graph while the stop file exists.
type stopper struct {
	pause func(ctx context.Context, why string)
	halt  func(on bool)
}

// checkStop looks for the stop file once: while it exists, every closure
// is paused (again, if one was resumed meanwhile) and the runner halted.
func checkStop(ctx context.Context, stopFile string, s stopper) {
	_, err := os.Stat(stopFile)
	on := err == nil
	if s.halt != nil {
		s.halt(on)
	}
	if on {
		s.pause(ctx, "stop file "+stopFile)
	}
}

// watchStop checks the stop file at every poll, and pauses every closure
// when a signal arrives on sig, until ctx ends. DESIGN §3: the way to halt
// every closure when Slack itself is unavailable. `closebot run` calls
// checkStop once before anything resumes.
func watchStop(ctx context.Context, stopFile string, every time.Duration, sig <-chan os.Signal, s stopper) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case sg := <-sig:
			s.pause(ctx, "signal "+sg.String())
		case <-t.C:
			checkStop(ctx, stopFile, s)
		}
	}
}

// pauseAll pauses every running closure at its next safe point and says so
// in the channels (which may be unreachable: the log has it too).
func (p *product) pauseAll(ctx context.Context, why string) {
	ids, err := p.service.PauseAll(ctx, why)
	if err != nil {
		p.log.ErrorContext(ctx, "pause all closures", "why", why, "err", err)
	}
	if len(ids) == 0 {
		return
	}
	p.log.WarnContext(ctx, "paused every running closure", "why", why, "requests", ids)
	p.reporter.AnnounceAll(p.cfg.Slack.Channels, fmt.Sprintf("Paused %s (%s). Resume each with its Resume button once it is safe.", strings.Join(ids, ", "), why))
}
