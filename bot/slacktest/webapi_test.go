package slacktest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func section(text string) slack.Block {
	return slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", text, false, false), nil, nil)
}

func TestBlockKitLimitsRefused(t *testing.T) {
	srv := newServer(t, Options{RateLimit: RateLimitOptions{Disabled: true}})
	api := newAPI(srv)
	many := make([]slack.Block, 51)
	for i := range many {
		many[i] = section("x")
	}
	btn := func(value, text string) slack.Block {
		return slack.NewActionBlock("a", slack.NewButtonBlockElement("b", value, slack.NewTextBlockObject("plain_text", text, false, false)))
	}
	cases := []struct {
		name   string
		blocks []slack.Block
		text   string
		detail string
	}{
		{"51 blocks", many, "", "no more than 50 items allowed [json-pointer:/blocks]"},
		{"section 3001", []slack.Block{section(strings.Repeat("a", 3001))}, "", "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"},
		{"header 151", []slack.Block{slack.NewHeaderBlock(slack.NewTextBlockObject("plain_text", strings.Repeat("h", 151), false, false))}, "", "/blocks/0/text/text"},
		{"header mrkdwn", []slack.Block{slack.NewHeaderBlock(slack.NewTextBlockObject("mrkdwn", "h", false, false))}, "", "/blocks/0/text"},
		{"button value 2001", []slack.Block{btn(strings.Repeat("v", 2001), "ok")}, "", "/blocks/0/elements/0/value"},
		{"button text 76", []slack.Block{btn("v", strings.Repeat("t", 76))}, "", "/blocks/0/elements/0/text/text"},
	}
	for _, tc := range cases {
		_, _, err := api.PostMessage("C1", slack.MsgOptionText(tc.text, false), slack.MsgOptionBlocks(tc.blocks...))
		assert.Equal(t, "invalid_blocks", slackErr(err), tc.name)
		var se slack.SlackErrorResponse
		if assert.True(t, errors.As(err, &se), tc.name) && assert.Len(t, se.Errors, 1, tc.name) {
			assert.Contains(t, *se.Errors[0].Message, tc.detail, tc.name)
		}
	}
	_, _, err := api.PostMessage("C1", slack.MsgOptionText(strings.Repeat("t", 40001), false))
	assert.Equal(t, "msg_too_long", slackErr(err))

	// chat.update: text ≤ 4,000.
	_, ts, err := api.PostMessage("C1", slack.MsgOptionText(strings.Repeat("t", 4001), false))
	require.NoError(t, err, "chat.postMessage allows up to 40,000")
	_, _, _, err = api.UpdateMessage("C1", ts, slack.MsgOptionText(strings.Repeat("t", 4001), false))
	assert.Equal(t, "msg_too_long", slackErr(err))

	refusals := srv.Refusals()
	require.Len(t, refusals, len(cases)+2)
	for _, r := range refusals {
		assert.Equal(t, http.StatusOK, r.Status)
	}
	assert.Len(t, srv.Messages("C1"), 1, "refused messages are not stored")

	// Modal limits: title ≤ 24, private_metadata ≤ 3,000.
	env, err := srv.Slash("U1", "C1", "x")
	require.NoError(t, err)
	m := modal()
	m.Title = slack.NewTextBlockObject("plain_text", strings.Repeat("t", 25), false, false)
	_, err = api.OpenView(env.TriggerID, m)
	assert.Equal(t, "invalid_arguments", slackErr(err))
	m = modal()
	m.PrivateMetadata = strings.Repeat("p", 3001)
	_, err = api.OpenView(env.TriggerID, m)
	assert.Equal(t, "invalid_arguments", slackErr(err))
	_, err = api.OpenView(env.TriggerID, modal())
	assert.NoError(t, err, "a refused view does not spend the trigger")
}

func TestTooManyBlocksNameSwitchable(t *testing.T) {
	srv := newServer(t, Options{Assumptions: Assumptions{ErrTooManyBlocks: "too_many_blocks"}})
	many := make([]slack.Block, 51)
	for i := range many {
		many[i] = section("x")
	}
	_, _, err := newAPI(srv).PostMessage("C1", slack.MsgOptionBlocks(many...))
	assert.Equal(t, "too_many_blocks", slackErr(err))
}

func TestRateLimits(t *testing.T) {
	srv := newServer(t, Options{})
	api := newAPI(srv)
	srv.AddUserGroup("S1", "U1")
	srv.AddChannel(Channel{ID: "C2", Name: "other"})

	// Tier 2 (20/min, bucket of 5): the 6th call in a burst is refused.
	var rl *slack.RateLimitedError
	for i := 0; i < 5; i++ {
		_, err := api.GetUserGroupMembers("S1")
		require.NoError(t, err, i)
	}
	_, err := api.GetUserGroupMembers("S1")
	require.ErrorAs(t, err, &rl)
	assert.GreaterOrEqual(t, rl.RetryAfter, time.Second)

	// chat.postMessage: 1/s per channel with a burst of 3; another channel is unaffected.
	for i := 0; i < 3; i++ {
		_, _, err := api.PostMessage("C1", slack.MsgOptionText("p", false))
		require.NoError(t, err, i)
	}
	_, _, err = api.PostMessage("C1", slack.MsgOptionText("p", false))
	require.ErrorAs(t, err, &rl)
	assert.Equal(t, time.Second, rl.RetryAfter)
	_, _, err = api.PostMessage("C2", slack.MsgOptionText("p", false))
	require.NoError(t, err)

	// Injection: the next 2 auth.test calls answer 429 with Retry-After 7.
	srv.InjectRateLimit("auth.test", 2, 7)
	for i := 0; i < 2; i++ {
		_, err = api.AuthTest()
		require.ErrorAs(t, err, &rl)
		assert.Equal(t, 7*time.Second, rl.RetryAfter)
	}
	_, err = api.AuthTest()
	require.NoError(t, err)
	srv.InjectError("users.info", 1, "internal_error")
	_, err = api.GetUserInfo("U1")
	assert.Equal(t, "internal_error", slackErr(err))

	var n429 int
	for _, r := range srv.Refusals() {
		if r.Status == http.StatusTooManyRequests {
			assert.Equal(t, "ratelimited", r.Error)
			n429++
		}
	}
	assert.Equal(t, 4, n429)

	// Switched off.
	off := newServer(t, Options{RateLimit: RateLimitOptions{Disabled: true}})
	offAPI := newAPI(off)
	for i := 0; i < 10; i++ {
		_, _, err := offAPI.PostMessage("C1", slack.MsgOptionText("p", false))
		require.NoError(t, err)
	}
}

func TestTriggerExpiryAndSingleUse(t *testing.T) {
	srv := newServer(t, Options{TriggerTTL: 100 * time.Millisecond})
	api := newAPI(srv)
	env, err := srv.Slash("U1", "C1", "x")
	require.NoError(t, err)
	_, err = api.OpenView(env.TriggerID, modal())
	require.NoError(t, err)
	_, err = api.OpenView(env.TriggerID, modal())
	assert.Equal(t, "exchanged_trigger_id", slackErr(err))
	_, err = api.OpenView("1.2.deadbeef", modal())
	assert.Equal(t, "invalid_trigger_id", slackErr(err))

	env, err = srv.Slash("U1", "C1", "x")
	require.NoError(t, err)
	time.Sleep(150 * time.Millisecond) // past the shortened trigger lifetime on purpose
	_, err = api.OpenView(env.TriggerID, modal())
	assert.Equal(t, "expired_trigger_id", slackErr(err))
	assert.Equal(t, 3*time.Second, New(Options{}).Options().TriggerTTL, "default is Slack's 3 s")
}

func TestViewsUpdateHashConflict(t *testing.T) {
	srv := newServer(t, Options{})
	api := newAPI(srv)
	env, _ := srv.Slash("U1", "C1", "x")
	v, err := api.OpenView(env.TriggerID, modal())
	require.NoError(t, err)
	u, err := api.UpdateView(modal(), "", v.Hash, v.ID)
	require.NoError(t, err)
	assert.NotEqual(t, v.Hash, u.Hash)
	_, err = api.UpdateView(modal(), "", v.Hash, v.ID)
	assert.Equal(t, "hash_conflict", slackErr(err))
	_, err = api.UpdateView(modal(), "", "", "V404")
	assert.Equal(t, "not_found", slackErr(err))
}

func TestResponseURL(t *testing.T) {
	clock := &manualClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	srv := newServer(t, Options{RateLimit: RateLimitOptions{Disabled: true}, Clock: clock})
	api := newAPI(srv)
	env, err := srv.Slash("U1", "C1", "x")
	require.NoError(t, err)
	for i := 0; i < 5; i++ {
		_, _, err := api.PostMessage("", slack.MsgOptionText("working", false), slack.MsgOptionResponseURL(env.ResponseURL, slack.ResponseTypeEphemeral))
		require.NoError(t, err, i)
	}
	_, _, err = api.PostMessage("", slack.MsgOptionText("sixth", false), slack.MsgOptionResponseURL(env.ResponseURL, slack.ResponseTypeEphemeral))
	assert.Equal(t, "expired_url", slackErr(err))
	assert.Len(t, srv.Ephemerals("U1"), 5)

	// in_channel posts to the channel; 30 minutes later the URL is dead.
	env, err = srv.Slash("U1", "C1", "y")
	require.NoError(t, err)
	_, _, err = api.PostMessage("", slack.MsgOptionText("visible", false), slack.MsgOptionResponseURL(env.ResponseURL, slack.ResponseTypeInChannel))
	require.NoError(t, err)
	require.Len(t, srv.Messages("C1"), 1)
	assert.Equal(t, "visible", srv.Messages("C1")[0].Text)
	clock.Advance(31 * time.Minute)
	_, _, err = api.PostMessage("", slack.MsgOptionText("late", false), slack.MsgOptionResponseURL(env.ResponseURL, slack.ResponseTypeInChannel))
	assert.Equal(t, "expired_url", slackErr(err))

	// replace_original / delete_original act on the clicked message.
	_, ts, err := api.PostMessage("C1", slack.MsgOptionText("card", false), slack.MsgOptionBlocks(requestBlocks()...))
	require.NoError(t, err)
	click, err := srv.Click("U2", MessageRef{"C1", ts}, "reject")
	require.NoError(t, err)
	_, _, err = api.PostMessage("", slack.MsgOptionText("rejected", false), slack.MsgOptionReplaceOriginal(click.ResponseURL))
	require.NoError(t, err)
	m, _ := srv.Message("C1", ts)
	assert.Equal(t, "rejected", m.Text)
	assert.Empty(t, m.Blocks)
	_, _, err = api.PostMessage("", slack.MsgOptionDeleteOriginal(click.ResponseURL))
	require.NoError(t, err)
	m, _ = srv.Message("C1", ts)
	assert.True(t, m.Deleted)
}

func TestDMToUserID(t *testing.T) {
	srv := newServer(t, Options{RateLimit: RateLimitOptions{Disabled: true}})
	api := newAPI(srv)
	ch, ts, err := api.PostMessage("U1", slack.MsgOptionText("sign in", false), slack.MsgOptionBlocks(requestBlocks()...))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(ch, "D"), ch)
	d, found := srv.DMChannel("U1")
	require.True(t, found)
	assert.Equal(t, d, ch)
	require.Len(t, srv.DMs("U1"), 1)
	ch2, _, err := api.PostMessage("U1", slack.MsgOptionText("again", false))
	require.NoError(t, err)
	assert.Equal(t, ch, ch2, "the same DM is reused")

	_, _, _, err = api.UpdateMessage("U1", ts, slack.MsgOptionText("x", false))
	assert.Equal(t, "channel_not_found", slackErr(err))
	_, _, _, err = api.UpdateMessage(ch, ts, slack.MsgOptionText("x", false))
	require.NoError(t, err)
	_, err = srv.Click("U1", MessageRef{ch, ts}, "approve")
	assert.NoError(t, err, "text without blocks keeps the previous blocks (chat.update docs)")
	m, _ := srv.Message(ch, ts)
	assert.Equal(t, "x", m.Text)
	_, _, _, err = api.UpdateMessage(ch, ts, slack.MsgOptionText("y", false), slack.MsgOptionBlocks())
	require.NoError(t, err)
	_, err = srv.Click("U1", MessageRef{ch, ts}, "approve")
	assert.ErrorIs(t, err, ErrNotFound, "blocks=[] removes them")
}

func TestChatRulesAndDirectory(t *testing.T) {
	srv := newServer(t, Options{RateLimit: RateLimitOptions{Disabled: true}})
	api := newAPI(srv)
	srv.AddUser(User{ID: "U3", Name: "gone", Deleted: true})
	srv.AddUser(User{ID: "U4", Name: "guest", IsRestricted: true})
	srv.AddUser(User{ID: "U5", Name: "single", IsRestricted: true, IsUltraRestricted: true})
	srv.AddUser(User{ID: "U6", Name: "other", TeamID: "T9"})
	srv.AddChannel(Channel{ID: "C7", Name: "shared", IsExtShared: true})
	srv.AddChannel(Channel{ID: "C8", Name: "old", IsArchived: true})
	srv.AddChannel(Channel{ID: "G1", Name: "secret", IsPrivate: true, Members: []string{"U1"}})
	srv.AddUserGroup("S1", "U1", "U2")

	at, err := api.AuthTest()
	require.NoError(t, err)
	assert.Equal(t, srv.Options().BotID, at.BotID)
	assert.Equal(t, srv.Options().TeamID, at.TeamID)

	u, err := api.GetUserInfo("U3")
	require.NoError(t, err)
	assert.True(t, u.Deleted)
	u, _ = api.GetUserInfo("U5")
	assert.True(t, u.IsRestricted && u.IsUltraRestricted)
	u, _ = api.GetUserInfo("U6")
	assert.Equal(t, "T9", u.TeamID)
	u, _ = api.GetUserInfo(srv.Options().BotUserID)
	assert.True(t, u.IsBot)
	_, err = api.GetUserInfo("U404")
	assert.Equal(t, "user_not_found", slackErr(err))

	members, err := api.GetUserGroupMembers("S1")
	require.NoError(t, err)
	assert.Equal(t, []string{"U1", "U2"}, members)
	_, err = api.GetUserGroupMembers("S404")
	assert.Equal(t, "no_such_subteam", slackErr(err))

	c, err := api.GetConversationInfo(&slack.GetConversationInfoInput{ChannelID: "C7"})
	require.NoError(t, err)
	assert.True(t, c.IsExtShared)
	c, _ = api.GetConversationInfo(&slack.GetConversationInfoInput{ChannelID: "C8"})
	assert.True(t, c.IsArchived)
	_, err = api.GetConversationInfo(&slack.GetConversationInfoInput{ChannelID: "C404"})
	assert.Equal(t, "channel_not_found", slackErr(err))
	_, _, err = api.PostMessage("C8", slack.MsgOptionText("x", false))
	assert.Equal(t, "is_archived", slackErr(err))

	// Threads need an existing parent; reply_broadcast shows in the channel too.
	_, _, err = api.PostMessage("C1", slack.MsgOptionText("x", false), slack.MsgOptionTS("1.000001"))
	assert.Equal(t, "thread_not_found", slackErr(err))
	_, parent, err := api.PostMessage("C1", slack.MsgOptionText("parent", false))
	require.NoError(t, err)
	_, _, err = api.PostMessage("C1", slack.MsgOptionText("done", false), slack.MsgOptionTS(parent), slack.MsgOptionBroadcast())
	require.NoError(t, err)
	assert.Len(t, srv.Messages("C1"), 2)
	assert.Len(t, srv.Thread("C1", parent), 2)

	// chat.update: only the bot's own, existing messages.
	_, _, _, err = api.UpdateMessage("C1", "1.000001", slack.MsgOptionText("x", false))
	assert.Equal(t, "message_not_found", slackErr(err))
	env, _ := srv.Slash("U1", "C1", "x")
	_ = env
	_, _, err = api.PostMessage("", slack.MsgOptionText("in channel", false), slack.MsgOptionResponseURL(env.ResponseURL, slack.ResponseTypeInChannel))
	require.NoError(t, err)

	// Ephemerals, permalinks.
	_, err = api.PostEphemeral("G1", "U1", slack.MsgOptionText("only you", false))
	require.NoError(t, err)
	_, err = api.PostEphemeral("G1", "U2", slack.MsgOptionText("only you", false))
	assert.Equal(t, "user_not_in_channel", slackErr(err))
	assert.Len(t, srv.Ephemerals("U1"), 1)
	link, err := api.GetPermalink(&slack.PermalinkParameters{Channel: "C1", Ts: parent})
	require.NoError(t, err)
	assert.Contains(t, link, "/archives/C1/p"+strings.ReplaceAll(parent, ".", ""))

	// Tokens.
	bad := slack.New("xoxb-wrong", slack.OptionAPIURL(srv.APIURL()))
	_, err = bad.AuthTest()
	assert.Equal(t, "invalid_auth", slackErr(err))
	_, _, err = api.StartSocketModeContext(context.Background())
	require.NoError(t, err)
	botAsApp := slack.New(srv.Options().BotToken, slack.OptionAPIURL(srv.APIURL()), slack.OptionAppLevelToken(srv.Options().BotToken))
	_, _, err = botAsApp.StartSocketModeContext(context.Background())
	assert.Equal(t, "invalid_auth", slackErr(err))
}

func TestFileUpload(t *testing.T) {
	srv := newServer(t, Options{})
	api := newAPI(srv)
	_, parent, err := api.PostMessage("C1", slack.MsgOptionText("parent", false))
	require.NoError(t, err)
	f, err := api.UploadFileContext(context.Background(), slack.UploadFileParameters{
		Filename: "audit.jsonl", FileSize: 5, Content: "hello", Channel: "C1", ThreadTimestamp: parent, Title: "Audit"})
	require.NoError(t, err)
	files := srv.Files()
	require.Len(t, files, 1)
	assert.Equal(t, f.ID, files[0].ID)
	assert.Equal(t, "hello", string(files[0].Content))
	assert.True(t, files[0].Shared)
	assert.Len(t, srv.Thread("C1", parent), 2)
}
