package main

import (
	"context"
	"strconv"

	"github.com/closebot/closebot/bot/blocks"
	"github.com/closebot/closebot/bot/outbound"
)

// repostMissing runs at start-up, before anything resumes. The outbox lives
// in memory: a gate opened (or a step started) just before a stop is on
// disk, but its Slack message may never have been sent, and nothing would
// send it later, so the kept admin would never see the gate's instructions
// and buttons. For every open request, each open gate without its thread
// message or DM, and the current step without its message, are reported
// again (posted where missing, edited where present). Held requests (behind
// their thread) are left alone.
func (p *product) repostMissing(ctx context.Context, held map[string]bool) {
	open, err := p.db.List(ctx, true, 0)
	if err != nil {
		p.log.WarnContext(ctx, "list open requests to repost their messages", "err", err)
		return
	}
	for _, req := range open {
		if held[req.ID] {
			continue
		}
		refs, err := p.db.Refs(ctx, req.ID)
		if err != nil {
			p.log.WarnContext(ctx, "read Slack refs", "request", req.ID, "err", err)
			continue
		}
		if _, ok := refs[outbound.RefCard]; !ok {
			continue // the request's card is not posted yet: the reporter posts it on the next change
		}
		for _, g := range req.Gates {
			if !g.IsOpen() {
				continue
			}
			_, thread := refs["gate."+g.ID]
			_, dm := refs[outbound.GateDMRef(g.ID)]
			if thread && (dm || !blocks.ValidUserID(g.Assignee)) {
				continue
			}
			p.log.InfoContext(ctx, "posting a gate message a stop left unsent", "request", req.ID, "gate", g.ID)
			if err := p.reporter.GateOpened(ctx, req, g); err != nil {
				p.log.WarnContext(ctx, "repost gate", "request", req.ID, "gate", g.ID, "err", err)
			}
		}
		if st := req.StepAt(req.Step); req.Step >= 1 && st != nil {
			if _, ok := refs["step."+strconv.Itoa(req.Step)]; !ok {
				p.log.InfoContext(ctx, "posting a step message a stop left unsent", "request", req.ID, "step", req.Step)
				if err := p.reporter.StepProgress(ctx, req, *st); err != nil {
					p.log.WarnContext(ctx, "repost step", "request", req.ID, "err", err)
				}
			}
		}
	}
}
