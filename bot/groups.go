package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/closebot/closebot/bot/blocks"
	"github.com/closebot/closebot/closure"
)

// groupTTL is how long a group read counts as current: a group whose
// refresh keeps failing loses its members after it, rather than keeping
// them forever.
const groupTTL = 15 * time.Minute

// maxRateWait bounds how long a decision waits out Slack's rate limit on
// usergroups.users.list (Tier 2, about 20 a minute): a busy moment's
// clicks are decided a little later rather than refused.
const maxRateWait = 10 * time.Second

// freshness says how current the group membership behind a decision must be.
type freshness int

const (
	// cachedGroups: a read-only answer, or a pre-check the decision repeats
	// fresh (opening the approval modal inside the trigger's 3 s).
	cachedGroups freshness = iota
	// freshGroups: a decision that writes reads Slack now (DESIGN §3).
	freshGroups
	// stopGroups: a stop (pause, abort, cancel) reads Slack now, and falls
	// back to a read younger than groupTTL when Slack does not answer:
	// stopping a closure must not wait for Slack's group API.
	stopGroups
	// noGroups: the decision does not depend on groups; none is read.
	noGroups
)

// groupCache holds the members of every user group the policy names. The
// background refresh keeps it warm so a click can open its modal inside
// the trigger's 3 s; decisions that write fetch fresh (DESIGN §3).
type groupCache struct {
	api *slack.Client
	ids []string // S… ids named in requesters or approvers
	log *slog.Logger
	now func() time.Time

	mu      sync.RWMutex
	members map[string]groupRead // group → its last read

	fmu     sync.Mutex              // guards the shared reads (groups_shared.go)
	running map[string]*groupFlight // group → the read on its way to Slack
	queued  map[string]*groupFlight // group → the read that starts after it
}

// groupRead is one read of a group's members.
type groupRead struct {
	set map[string]bool
	at  time.Time
}

func newGroupCache(api *slack.Client, p *closure.Policy, log *slog.Logger) *groupCache {
	seen := map[string]bool{}
	var ids []string
	for _, e := range append(append([]string(nil), p.Requesters...), p.Approvers...) {
		if blocks.ValidGroupID(e) && !seen[e] {
			seen[e] = true
			ids = append(ids, e)
		}
	}
	sort.Strings(ids)
	return &groupCache{api: api, ids: ids, log: log, now: time.Now, members: map[string]groupRead{}}
}

// fetch reads one group's members from Slack and caches them. Rate limits
// are waited out, up to maxRateWait in all.
func (g *groupCache) fetch(ctx context.Context, id string) (map[string]bool, error) {
	users, err := g.api.GetUserGroupMembersContext(ctx, id)
	waited := time.Duration(0)
	for rl := (*slack.RateLimitedError)(nil); errors.As(err, &rl) && waited+rl.RetryAfter <= maxRateWait; {
		waited += rl.RetryAfter
		t := time.NewTimer(rl.RetryAfter)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		users, err = g.api.GetUserGroupMembersContext(ctx, id)
	}
	if err != nil {
		return nil, fmt.Errorf("usergroups.users.list %s: %w", id, err)
	}
	set := make(map[string]bool, len(users))
	for _, u := range users {
		set[u] = true
	}
	g.mu.Lock()
	g.members[id] = groupRead{set: set, at: g.now()}
	g.mu.Unlock()
	return set, nil
}

// recent returns a group's last read if it is younger than maxAge.
func (g *groupCache) recent(id string, maxAge time.Duration) (map[string]bool, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	r, ok := g.members[id]
	if !ok || g.now().Sub(r.at) >= maxAge {
		return nil, false
	}
	return r.set, true
}

// refresh re-reads every group; a group that fails keeps its last read
// until it expires.
func (g *groupCache) refresh(ctx context.Context) {
	for _, id := range g.ids {
		if _, err := g.fetch(ctx, id); err != nil && ctx.Err() == nil {
			g.log.WarnContext(ctx, "refresh user group", "group", id, "err", err)
		}
	}
}

// loop refreshes the cache every period until ctx ends.
func (g *groupCache) loop(ctx context.Context, every time.Duration) {
	if len(g.ids) == 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.refresh(ctx)
		}
	}
}

// of returns the policy's groups that user belongs to, as current as f
// asks: a recent read for cachedGroups (else read now), read now for the
// others; stopGroups falls back to a recent read when Slack fails.
func (g *groupCache) of(ctx context.Context, user string, f freshness) ([]string, error) {
	if f == noGroups {
		return nil, nil
	}
	var out []string
	for _, id := range g.ids {
		set, ok := g.recent(id, groupTTL)
		if !ok || f != cachedGroups {
			got, err := g.sharedFetch(ctx, id)
			switch {
			case err == nil:
				set = got
			case f == stopGroups && ok:
				g.log.WarnContext(ctx, "user group not readable now; a stop uses its recent read", "group", id, "err", err)
			default:
				return nil, err
			}
		}
		if set[user] {
			out = append(out, id)
		}
	}
	return out, nil
}
