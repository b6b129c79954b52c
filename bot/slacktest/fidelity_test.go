package slacktest

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The hello after a disconnect counts only the new socket unless the assumption
// that Slack still holds the retired one is switched on.
func TestHelloAfterDisconnectCountsLiveSockets(t *testing.T) {
	for _, tc := range []struct {
		name    string
		retired bool
		drop    bool
		want    int32
	}{
		{"disconnect, default", false, false, 1},
		{"disconnect, retired socket counted", true, false, 2},
		{"dropped, default", false, true, 1},
		{"dropped, retired socket counted", true, true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, Options{Assumptions: Assumptions{HelloCountsRetiredSocket: tc.retired}})
			c := newClient(t, srv)
			require.NoError(t, srv.WaitFor(5*time.Second, func() bool { return c.hellos.Load() == 1 }))
			assert.Equal(t, int32(1), c.helloN.Load())
			if tc.drop {
				srv.DropConnections()
			} else {
				require.NoError(t, srv.Disconnect("refresh_requested"))
			}
			require.NoError(t, srv.WaitFor(5*time.Second, func() bool { return c.hellos.Load() == 2 }))
			assert.Equal(t, tc.want, c.helloN.Load())

			// The retired socket is counted once only: the next reconnect sees one.
			require.NoError(t, srv.Disconnect("refresh_requested"))
			require.NoError(t, srv.WaitFor(5*time.Second, func() bool { return c.hellos.Load() == 3 }))
			assert.Equal(t, tc.want, c.helloN.Load(), "each reconnect retires one socket")
		})
	}
}

// A late ack's payload is not shown: Slack has already shown a timeout error.
func TestLateAckHasNoEffect(t *testing.T) {
	srv := newServer(t, Options{AckDeadline: 100 * time.Millisecond})
	c := newClient(t, srv)
	env, err := srv.Slash("U1", "C1", "x")
	require.NoError(t, err)
	ev := c.next(t, socketmode.EventTypeSlashCommand)
	require.NoError(t, srv.WaitFor(time.Second, func() bool {
		for _, a := range srv.Acks() {
			if a.Kind == AckMissing {
				return true
			}
		}
		return false
	}))
	require.NoError(t, c.sm.Ack(*ev.Request, map[string]any{"response_type": "in_channel", "text": "working"}))
	_, err = env.WaitAck(time.Second)
	assert.ErrorIs(t, err, ErrLateAck)
	assert.Empty(t, srv.Messages("C1"))
	assert.Empty(t, srv.Ephemerals("U1"))
	refusals := srv.Refusals()
	require.Len(t, refusals, 1)
	assert.Equal(t, "operation_timeout", refusals[0].Error)

	// On time, the same payload is the reply in the channel.
	env, err = srv.Slash("U1", "C1", "y")
	require.NoError(t, err)
	ev = c.next(t, socketmode.EventTypeSlashCommand)
	require.NoError(t, c.sm.Ack(*ev.Request, map[string]any{"response_type": "in_channel", "text": "working"}))
	_, err = env.WaitAck(time.Second)
	require.NoError(t, err)
	assert.Len(t, srv.Messages("C1"), 1)
}

// ok:false always carries an error string, or slack-go would read it as success.
func TestInjectedErrorWithoutName(t *testing.T) {
	srv := newServer(t, Options{})
	srv.InjectError("auth.test", 1, "")
	_, err := newAPI(srv).AuthTest()
	assert.Equal(t, "internal_error", slackErr(err))
}

func TestBlockRulesAddedByReview(t *testing.T) {
	srv := newServer(t, Options{RateLimit: RateLimitOptions{Disabled: true}})
	api := newAPI(srv)
	btn := func(id string) *slack.ButtonBlockElement {
		return slack.NewButtonBlockElement(id, "v", slack.NewTextBlockObject("plain_text", "ok", false, false))
	}
	_, _, err := api.PostMessage("C1", slack.MsgOptionText("fallback", false), slack.MsgOptionBlocks(section("")))
	assert.Equal(t, "invalid_blocks", slackErr(err), "section text needs 1 character")
	_, _, err = api.PostMessage("C1", slack.MsgOptionText("fallback", false),
		slack.MsgOptionBlocks(slack.NewSectionBlock(nil, []*slack.TextBlockObject{slack.NewTextBlockObject("mrkdwn", "", false, false)}, nil)))
	assert.Equal(t, "invalid_blocks", slackErr(err), "a field needs 1 character")
	_, _, err = api.PostMessage("C1", slack.MsgOptionText("fallback", false),
		slack.MsgOptionBlocks(slack.NewActionBlock("a", btn("same"), btn("same"))))
	assert.Equal(t, "invalid_blocks", slackErr(err), "action_id unique within its block")
	_, _, err = api.PostMessage("C1", slack.MsgOptionText("fallback", false),
		slack.MsgOptionBlocks(slack.NewActionBlock("a", btn("same")), slack.NewActionBlock("b", btn("same"))))
	assert.NoError(t, err, "the same action_id in two blocks is allowed")
	assert.Len(t, srv.Refusals(), 3)
}

func TestAssumptionSwitchesForThreadsAndLongText(t *testing.T) {
	long := strings.Repeat("t", 40001)
	srv := newServer(t, Options{RateLimit: RateLimitOptions{Disabled: true}})
	api := newAPI(srv)
	_, parent, err := api.PostMessage("C1", slack.MsgOptionText("parent", false))
	require.NoError(t, err)
	_, reply, err := api.PostMessage("C1", slack.MsgOptionText("reply", false), slack.MsgOptionTS(parent))
	require.NoError(t, err)
	_, _, err = api.PostMessage("C1", slack.MsgOptionText("reply to reply", false), slack.MsgOptionTS(reply))
	require.NoError(t, err)
	assert.Len(t, srv.Thread("C1", parent), 3, "default: a reply's ts threads under the parent")
	_, _, err = api.PostMessage("C1", slack.MsgOptionText(long, false))
	assert.Equal(t, "msg_too_long", slackErr(err))

	srv = newServer(t, Options{RateLimit: RateLimitOptions{Disabled: true},
		Assumptions: Assumptions{ErrReplyThreadTS: "invalid_thread_ts", TruncateLongText: true}})
	api = newAPI(srv)
	_, parent, err = api.PostMessage("C1", slack.MsgOptionText("parent", false))
	require.NoError(t, err)
	_, reply, err = api.PostMessage("C1", slack.MsgOptionText("reply", false), slack.MsgOptionTS(parent))
	require.NoError(t, err)
	_, _, err = api.PostMessage("C1", slack.MsgOptionText("reply to reply", false), slack.MsgOptionTS(reply))
	assert.Equal(t, "invalid_thread_ts", slackErr(err))
	_, ts, err := api.PostMessage("C1", slack.MsgOptionText(long, false))
	require.NoError(t, err)
	m, _ := srv.Message("C1", ts)
	assert.Len(t, m.Text, 40000)
}

// Mentions shows what Slack would render as a ping, so tests can catch user input
// interpolated into mrkdwn.
func TestMentions(t *testing.T) {
	srv := newServer(t, Options{RateLimit: RateLimitOptions{Disabled: true}})
	api := newAPI(srv)
	blocks := []slack.Block{
		section("Approvers: <@U2> <!subteam^S1|admins>, reason: <!channel> @here"),
		slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "verbatim @everyone &lt;!here&gt;", false, true), nil, nil),
		slack.NewSectionBlock(slack.NewTextBlockObject("plain_text", "plain <!channel>", false, false), nil, nil),
	}
	_, ts, err := api.PostMessage("C1", slack.MsgOptionText("<!here> fallback @channel <!date^1700000000^{date}|x>", false), slack.MsgOptionBlocks(blocks...))
	require.NoError(t, err)
	m, _ := srv.Message("C1", ts)
	assert.Equal(t, []string{"<!here>", "<@U2>", "<!subteam^S1>", "<!channel>", "@here"}, m.Mentions())

	_, ts, err = api.PostMessage("C1", slack.MsgOptionText("@channel", false), slack.MsgOptionLinkNames(true))
	require.NoError(t, err)
	m, _ = srv.Message("C1", ts)
	assert.Equal(t, []string{"@channel"}, m.Mentions(), "link_names parses the top-level text")
	_, _, _, err = api.UpdateMessage("C1", ts, slack.MsgOptionText("@channel", false))
	require.NoError(t, err)
	m, _ = srv.Message("C1", ts)
	assert.Empty(t, m.Mentions(), "chat.update resets link_names to none")

	_, err = api.PostEphemeral("C1", "U1", slack.MsgOptionText("hi <@U1>", false))
	require.NoError(t, err)
	assert.Equal(t, []string{"<@U1>"}, srv.Ephemerals("U1")[0].Mentions())
}

func TestBotTokenOnConnectionsOpenSwitchable(t *testing.T) {
	srv := newServer(t, Options{Assumptions: Assumptions{ErrBotTokenOnAppMethod: "not_allowed_token_type"}})
	tok := srv.Options().BotToken
	botAsApp := slack.New(tok, slack.OptionAPIURL(srv.APIURL()), slack.OptionAppLevelToken(tok))
	_, _, err := botAsApp.StartSocketModeContext(context.Background())
	assert.Equal(t, "not_allowed_token_type", slackErr(err))
}

// 1 message/s per channel counts a user id and its App Home DM as one channel.
func TestChannelRateLimitFollowsDM(t *testing.T) {
	srv := newServer(t, Options{})
	api := newAPI(srv)
	dm, _, err := api.PostMessage("U1", slack.MsgOptionText("1", false))
	require.NoError(t, err)
	_, _, err = api.PostMessage(dm, slack.MsgOptionText("2", false))
	require.NoError(t, err)
	_, _, err = api.PostMessage("U1", slack.MsgOptionText("3", false))
	require.NoError(t, err)
	_, _, err = api.PostMessage(dm, slack.MsgOptionText("4", false))
	require.NoError(t, err)
	// Calls 2-4 spent the DM's burst of 3 whichever id they named.
	_, _, err = api.PostMessage("U1", slack.MsgOptionText("5", false))
	var rl *slack.RateLimitedError
	require.ErrorAs(t, err, &rl, "the channel burst (3) is shared")
}

// FIDELITY.md's tables keep one cell per column: a "|" inside a cell (even in
// code) would split it.
func TestFidelityTablesHaveNoPipeInCells(t *testing.T) {
	raw, err := os.ReadFile("FIDELITY.md")
	require.NoError(t, err)
	cols := 0
	for i, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "|") {
			cols = 0
			continue
		}
		n := strings.Count(line, "|")
		if cols == 0 {
			cols = n
			continue
		}
		assert.Equal(t, cols, n, "FIDELITY.md:%d has %d cells, its table %d: %.80s", i+1, n-1, cols-1, line)
	}
	for _, url := range []string{"blocks/section-block", "blocks/context-block", "blocks/actions-block", "blocks/header-block",
		"blocks/divider-block", "blocks/input-block", "block-elements/button-element", "block-elements/plain-text-input-element",
		"block-elements/checkboxes-element", "composition-objects/text-object", "composition-objects/confirmation-dialog-object",
		"composition-objects/option-object"} {
		assert.Contains(t, string(raw), "https://docs.slack.dev/reference/block-kit/"+url, "a row per Block Kit object")
	}
	assert.Contains(t, string(raw), "https://docs.slack.dev/reference/views/modal-views")
}
