package bot

import (
	"context"
	"io"
	"log/slog"
	"sync"
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

// Twenty decisions at once share their group reads (Slack allows about
// 20 usergroups.users.list a minute), and each still gets a read that
// started after it arrived: a member removed before the burst is not a
// member for any of them.
func TestConcurrentDecisionsShareGroupReads(t *testing.T) {
	srv := slacktest.New(slacktest.Options{})
	require.NoError(t, srv.Start())
	t.Cleanup(srv.Close)
	srv.AddUser(slacktest.User{ID: "U0BOB", Name: "bob"})
	srv.AddUser(slacktest.User{ID: "U0DAVE", Name: "dave"})
	srv.AddUserGroup("S0SECLEAD", "U0BOB", "U0DAVE")
	api := slack.New(srv.Options().BotToken, slack.OptionAPIURL(srv.APIURL()))
	g := newGroupCache(api, &closure.Policy{Approvers: []string{"S0SECLEAD"}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	_, err := g.of(ctx, "U0BOB", freshGroups)
	require.NoError(t, err)
	before := len(srv.Calls("usergroups.users.list"))

	srv.AddUserGroup("S0SECLEAD", "U0BOB") // dave leaves
	var wg sync.WaitGroup
	results := make([][]string, 20)
	errs := make([]error, 20)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := "U0BOB"
			if i%2 == 1 {
				user = "U0DAVE"
			}
			results[i], errs[i] = g.of(ctx, user, freshGroups)
		}()
	}
	wg.Wait()
	for i := range results {
		require.NoError(t, errs[i])
		if i%2 == 1 {
			require.Empty(t, results[i], "dave left before decision %d arrived", i)
		} else {
			require.Equal(t, []string{"S0SECLEAD"}, results[i])
		}
	}
	reads := len(srv.Calls("usergroups.users.list")) - before
	require.GreaterOrEqual(t, reads, 1)
	require.LessOrEqual(t, reads, 4, "twenty decisions share their reads")
}
