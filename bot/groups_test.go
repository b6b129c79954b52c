package bot

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/bot/slacktest"
	"github.com/closebot/closebot/closure"
)

// Issue 11 item 7: a group whose refresh keeps failing does not keep its
// old members forever. A stop may use a read younger than groupTTL when
// Slack does not answer; past it, or for a decision that writes, the
// failure is the answer, never the stale membership.
func TestGroupReadsExpire(t *testing.T) {
	srv := slacktest.New(slacktest.Options{})
	require.NoError(t, srv.Start())
	t.Cleanup(srv.Close)
	srv.AddUser(slacktest.User{ID: "U0BOB", Name: "bob"})
	srv.AddUserGroup("S0SECLEAD", "U0BOB")
	api := slack.New(srv.Options().BotToken, slack.OptionAPIURL(srv.APIURL()))
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	g := newGroupCache(api, &closure.Policy{Approvers: []string{"S0SECLEAD"}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	g.now = func() time.Time { return now }
	ctx := context.Background()

	got, err := g.of(ctx, "U0BOB", cachedGroups)
	require.NoError(t, err)
	require.Equal(t, []string{"S0SECLEAD"}, got)

	// Slack stops answering for the group API.
	srv.InjectError("usergroups.users.list", 1000, "internal_error")
	g.refresh(ctx)
	now = now.Add(groupTTL / 2)
	got, err = g.of(ctx, "U0BOB", stopGroups)
	require.NoError(t, err, "a stop uses a recent read")
	require.Equal(t, []string{"S0SECLEAD"}, got)
	_, err = g.of(ctx, "U0BOB", freshGroups)
	require.Error(t, err, "a write never decides on a cached read")
	got, err = g.of(ctx, "U0BOB", cachedGroups)
	require.NoError(t, err)
	require.Equal(t, []string{"S0SECLEAD"}, got, "a read-only answer within the TTL")

	now = now.Add(groupTTL)
	for _, f := range []freshness{cachedGroups, stopGroups, freshGroups} {
		_, err = g.of(ctx, "U0BOB", f)
		require.Error(t, err, "freshness %d: an expired read is not membership", f)
	}
}
