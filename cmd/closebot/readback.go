package main

import (
	"context"
	"fmt"
)

// readBack runs before anything resumes (issue 11, item 6): it says when the
// database was just given its database head (rollbacks before that moment
// cannot be seen in the file), then compares every open request's Slack
// thread with the database; a request behind what closebot posted is held,
// said in its thread and logged (outbound.Reporter.CheckThreads). It
// returns the held requests.
func (p *product) readBack(ctx context.Context) map[string]bool {
	if n := p.db.Upgraded(); n > 0 {
		text := fmt.Sprintf("closebot sealed a database head over the %d request(s) of %s (a file written before schema 2): from now on a request deleted or rolled back in the file is seen; before now it could not be. Start-up still compares every open request with its Slack thread.", n, p.db.Path())
		p.log.WarnContext(ctx, "database upgraded: database head created", "requests", n, "path", p.db.Path())
		p.reporter.AnnounceAll(p.cfg.Slack.Channels, text)
	}
	held, err := p.reporter.CheckThreads(ctx, p.db)
	if err != nil {
		p.log.ErrorContext(ctx, "read back Slack threads", "err", err)
	}
	out := map[string]bool{}
	if len(held) > 0 {
		ids := make([]string, 0, len(held))
		for _, h := range held {
			ids = append(ids, h.Request)
			out[h.Request] = true
		}
		p.log.ErrorContext(ctx, "requests held at start-up: not resumed", "requests", ids)
	}
	return out
}
