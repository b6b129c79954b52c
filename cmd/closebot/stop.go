package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"
)

// stopPoll is how often `closebot run` looks for the stop file.
const stopPoll = 2 * time.Second

// watchStop calls pause when the stop file exists (at every poll, so a
// closure resumed while the file is still there is paused again) or when a
// signal arrives on sig, until ctx ends. DESIGN §3: the way to halt every
// closure when Slack itself is unavailable.
func watchStop(ctx context.Context, stopFile string, every time.Duration, sig <-chan os.Signal, pause func(ctx context.Context, why string)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case s := <-sig:
			pause(ctx, "signal "+s.String())
		case <-t.C:
			if _, err := os.Stat(stopFile); err == nil {
				pause(ctx, "stop file "+stopFile)
			}
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
