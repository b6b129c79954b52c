package bot

import (
	"context"
	"time"
)

// Concurrent decisions share group reads. Slack allows usergroups.users.list
// about 20 times a minute (Tier 2): twenty requests at once, each reading
// the group itself, waited minutes for their card. A decision still gets a
// read that Slack answered after the decision arrived: it joins the next
// read to start, never one already on its way (a read sent before the
// click could miss a membership removed just before it).

// groupFlight is one shared read of a group.
type groupFlight struct {
	done chan struct{}
	set  map[string]bool
	err  error
}

// sharedFetch reads a group's members, sharing the read with every caller
// that arrives before it is sent.
func (g *groupCache) sharedFetch(ctx context.Context, id string) (map[string]bool, error) {
	g.fmu.Lock()
	if g.running == nil {
		g.running, g.queued = map[string]*groupFlight{}, map[string]*groupFlight{}
	}
	var f *groupFlight
	switch {
	case g.running[id] == nil:
		f = &groupFlight{done: make(chan struct{})}
		g.running[id] = f
		go g.fly(ctx, id, f)
	case g.queued[id] != nil:
		f = g.queued[id]
	default:
		f = &groupFlight{done: make(chan struct{})}
		g.queued[id] = f
	}
	g.fmu.Unlock()
	select {
	case <-f.done:
		return f.set, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fly performs f, then the read queued behind it (if any). It runs on a
// context of its own: a caller that gives up must not fail the others.
func (g *groupCache) fly(ctx context.Context, id string, f *groupFlight) {
	for f != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), maxRateWait+30*time.Second)
		f.set, f.err = g.fetch(rctx, id)
		cancel()
		close(f.done)
		g.fmu.Lock()
		f = g.queued[id]
		delete(g.queued, id)
		if f == nil {
			delete(g.running, id)
		} else {
			g.running[id] = f
		}
		g.fmu.Unlock()
	}
}
