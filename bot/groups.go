package bot

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/closebot/closebot/bot/blocks"
	"github.com/closebot/closebot/closure"
)

// groupCache holds the members of every user group the policy names. The
// background refresh keeps it warm so a click can open its modal inside
// the trigger's 3 s; decisions that count fetch fresh (DESIGN §3).
type groupCache struct {
	api *slack.Client
	ids []string // S… ids named in requesters or approvers
	log *slog.Logger

	mu      sync.RWMutex
	members map[string]map[string]bool // group → user set
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
	return &groupCache{api: api, ids: ids, log: log, members: map[string]map[string]bool{}}
}

// fetch reads one group's members from Slack and caches them.
func (g *groupCache) fetch(ctx context.Context, id string) (map[string]bool, error) {
	users, err := g.api.GetUserGroupMembersContext(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("usergroups.users.list %s: %w", id, err)
	}
	set := make(map[string]bool, len(users))
	for _, u := range users {
		set[u] = true
	}
	g.mu.Lock()
	g.members[id] = set
	g.mu.Unlock()
	return set, nil
}

// refresh re-reads every group; a group that fails keeps its last members.
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

// of returns the policy's groups that user belongs to: from the cache, or
// fetched now when fresh is set (or a group was never read).
func (g *groupCache) of(ctx context.Context, user string, fresh bool) ([]string, error) {
	var out []string
	for _, id := range g.ids {
		g.mu.RLock()
		set, ok := g.members[id]
		g.mu.RUnlock()
		if fresh || !ok {
			var err error
			if set, err = g.fetch(ctx, id); err != nil {
				return nil, err
			}
		}
		if set[user] {
			out = append(out, id)
		}
	}
	return out, nil
}
