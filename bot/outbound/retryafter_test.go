package outbound

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/bot/slacktest"
)

// Two Slack clients share one transport, as the reporter and the inbound
// bot do: after Slack answers one of them 429 for a method, neither calls
// that method again before the Retry-After ends; other methods go on.
func TestRetryAfterHeldForEveryCaller(t *testing.T) {
	srv := slacktest.New(slacktest.Options{})
	require.NoError(t, srv.Start())
	t.Cleanup(srv.Close)
	srv.AddChannel(slacktest.Channel{ID: "C1", Name: "ops"})
	hc := &http.Client{Transport: RetryAfterTransport(nil), Timeout: 10 * time.Second}
	a := slack.New(srv.Options().BotToken, slack.OptionHTTPClient(hc), slack.OptionAPIURL(srv.APIURL()))
	b := slack.New(srv.Options().BotToken, slack.OptionHTTPClient(hc), slack.OptionAPIURL(srv.APIURL()))
	ctx := context.Background()

	srv.InjectRateLimit("chat.postMessage", 1, 1)
	_, _, err := a.PostMessageContext(ctx, "C1", slack.MsgOptionText("one", false))
	var rl *slack.RateLimitedError
	require.True(t, errors.As(err, &rl), "Slack's 429: %v", err)
	// b is refused on the spot, without a call to Slack.
	_, _, err = b.PostMessageContext(ctx, "C1", slack.MsgOptionText("two", false))
	require.True(t, errors.As(err, &rl), "held: %v", err)
	assert.Equal(t, time.Second, rl.RetryAfter)
	assert.Len(t, srv.Calls("chat.postMessage"), 1, "the held call never reached Slack")
	// Another method is not held.
	_, err = b.AuthTestContext(ctx)
	require.NoError(t, err)
	// After the Retry-After, calls go through again.
	time.Sleep(1100 * time.Millisecond)
	_, _, err = b.PostMessageContext(ctx, "C1", slack.MsgOptionText("three", false))
	require.NoError(t, err)
	calls := srv.Calls("chat.postMessage")
	require.Len(t, calls, 2)
	assert.GreaterOrEqual(t, calls[1].Time.Sub(calls[0].Time), time.Second)
}
