package slacktest

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConversationsReplies reads a thread back through slack-go's own
// GetConversationRepliesContext: parent first, replies oldest first, other
// threads and deleted replies left out, cursor pagination with has_more,
// the parent's thread counters, and the documented errors.
func TestConversationsReplies(t *testing.T) {
	srv := newServer(t, Options{RateLimit: RateLimitOptions{Disabled: true}})
	api := newAPI(srv)
	ctx := context.Background()
	_, parent, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("card", false))
	require.NoError(t, err)
	_, other, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("another card", false))
	require.NoError(t, err)
	var replies []string
	for i := range 5 {
		_, ts, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("reply "+string(rune('a'+i)), false),
			slack.MsgOptionTS(parent), slack.MsgOptionBlocks(slack.NewContextBlock("event_audit",
				slack.NewTextBlockObject(slack.MarkdownType, "CT-1 · #"+string(rune('1'+i))+" · mac 1a2b3c4d", false, true))))
		require.NoError(t, err)
		replies = append(replies, ts)
		_, _, err = api.PostMessageContext(ctx, "C1", slack.MsgOptionText("elsewhere", false), slack.MsgOptionTS(other))
		require.NoError(t, err)
	}
	human, err := srv.PostAs("U1", "C1", parent, "a person writes #9 · mac deadbeef", nil)
	require.NoError(t, err)
	_, _, _, err = api.UpdateMessageContext(ctx, "C1", replies[1], slack.MsgOptionText("reply b, edited", false))
	require.NoError(t, err)
	srv.mu.Lock()
	srv.findMsg("C1", replies[2]).Deleted = true
	srv.mu.Unlock()

	// One page of everything.
	msgs, more, cursor, err := api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: "C1", Timestamp: parent})
	require.NoError(t, err)
	assert.False(t, more)
	assert.Empty(t, cursor)
	require.Len(t, msgs, 6, "parent, 4 live bot replies, the person's reply")
	assert.Equal(t, parent, msgs[0].Timestamp)
	assert.Equal(t, 5, msgs[0].ReplyCount)
	assert.Equal(t, parent, msgs[0].ThreadTimestamp)
	assert.Equal(t, human.TS, msgs[0].LatestReply)
	assert.ElementsMatch(t, []string{"U0BOT", "U1"}, msgs[0].ReplyUsers)
	assert.Equal(t, []string{replies[0], replies[1], replies[3], replies[4], human.TS},
		[]string{msgs[1].Timestamp, msgs[2].Timestamp, msgs[3].Timestamp, msgs[4].Timestamp, msgs[5].Timestamp})
	assert.Equal(t, "B0BOT", msgs[1].BotID)
	assert.Equal(t, "U0BOT", msgs[1].User)
	assert.Equal(t, parent, msgs[1].ThreadTimestamp)
	assert.Equal(t, "U0BOT", msgs[1].ParentUserId)
	assert.Equal(t, "reply b, edited", msgs[2].Text)
	require.Len(t, msgs[1].Blocks.BlockSet, 1, "blocks come back as posted")
	cb, ok := msgs[1].Blocks.BlockSet[0].(*slack.ContextBlock)
	require.True(t, ok)
	assert.Equal(t, "event_audit", cb.BlockID)
	assert.Empty(t, msgs[5].BotID, "a person's message has no bot_id")
	assert.Equal(t, "U1", msgs[5].User)

	// ts naming a reply gives the same thread.
	again, _, _, err := api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: "C1", Timestamp: replies[0]})
	require.NoError(t, err)
	assert.Len(t, again, 6)

	// Pages of 2: the cursor walks the thread without gaps or repeats.
	var seen []string
	params := &slack.GetConversationRepliesParameters{ChannelID: "C1", Timestamp: parent, Limit: 2}
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10)
		page, more, next, err := api.GetConversationRepliesContext(ctx, params)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page), 2)
		for _, m := range page {
			seen = append(seen, m.Timestamp)
		}
		if !more {
			assert.Empty(t, next)
			break
		}
		raw, err := base64.StdEncoding.DecodeString(next)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(string(raw), "next_ts:"), "documented cursor shape: %q", raw)
		params.Cursor = next
	}
	assert.Equal(t, []string{parent, replies[0], replies[1], replies[3], replies[4], human.TS}, seen)

	// An unthreaded message comes back alone.
	_, lone, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("alone", false))
	require.NoError(t, err)
	alone, _, _, err := api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: "C1", Timestamp: lone})
	require.NoError(t, err)
	require.Len(t, alone, 1)
	assert.Zero(t, alone[0].ReplyCount)

	for _, c := range []struct {
		params slack.GetConversationRepliesParameters
		want   string
	}{
		{slack.GetConversationRepliesParameters{ChannelID: "C1", Timestamp: "1.000001"}, "thread_not_found"},
		{slack.GetConversationRepliesParameters{ChannelID: "C404", Timestamp: parent}, "channel_not_found"},
		{slack.GetConversationRepliesParameters{ChannelID: "C1", Timestamp: parent, Cursor: "bm9wZQ=="}, "invalid_cursor"},
	} {
		_, _, _, err := api.GetConversationRepliesContext(ctx, &c.params)
		assert.Equal(t, c.want, slackErr(err), "%+v", c.params)
	}
}

func TestConversationsRepliesAssumptions(t *testing.T) {
	srv := newServer(t, Options{Assumptions: Assumptions{ErrRepliesInChannel: "missing_scope"}})
	srv.AddChannel(Channel{ID: "C2", Name: "elsewhere", NotMember: true})
	api := newAPI(srv)
	ctx := context.Background()
	_, parent, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("card", false))
	require.NoError(t, err)
	_, _, _, err = api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: "C1", Timestamp: parent})
	assert.Equal(t, "missing_scope", slackErr(err), "the docs' sentence: bot tokens cannot read channel threads")

	srv2 := newServer(t, Options{})
	srv2.AddChannel(Channel{ID: "C2", Name: "elsewhere", NotMember: true})
	_, _, _, err = newAPI(srv2).GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: "C2", Timestamp: "1.000001"})
	assert.Equal(t, "not_in_channel", slackErr(err))
}
