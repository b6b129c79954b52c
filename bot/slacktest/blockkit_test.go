package slacktest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// answer is a Web API reply as it comes over the wire.
type answer struct {
	Status int
	OK     bool     `json:"ok"`
	Error  string   `json:"error"`
	Errors []string `json:"errors"`
}

// callJSON posts a JSON body to a Web API method with the bot token.
func callJSON(t *testing.T, srv *Server, method string, body map[string]any) answer {
	t.Helper()
	raw, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, srv.APIURL()+method, bytes.NewReader(raw))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+srv.Options().BotToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	a := answer{Status: resp.StatusCode}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&a))
	return a
}

func obj(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func pt(s string) map[string]any { return obj("type", "plain_text", "text", s) }
func mk(s string) map[string]any { return obj("type", "mrkdwn", "text", s) }

func dialog(deny bool) map[string]any {
	c := obj("title", pt("Sure?"), "text", pt("Really."), "confirm", pt("Do it"))
	if deny {
		c["deny"] = pt("Cancel")
	}
	return c
}

func actionsWith(els ...any) []any { return []any{obj("type", "actions", "elements", els)} }

func inputWith(el any) []any {
	return []any{obj("type", "input", "block_id", "i", "label", pt("Label"), "element", el)}
}

func checkboxes(opts ...any) map[string]any {
	return obj("type", "checkboxes", "action_id", "c", "options", opts)
}

// Each object's Required fields, types and places, as Slack's reference gives
// them, are refused with Slack's shape: HTTP 200, ok:false, invalid_blocks and one
// detail naming the JSON pointer.
func TestBlockKitReferenceRulesRefused(t *testing.T) {
	srv := newServer(t, Options{RateLimit: RateLimitOptions{Disabled: true}})
	okBtn := obj("type", "button", "action_id", "ok", "text", pt("OK"))
	cases := []struct {
		name   string
		blocks []any
		detail string
	}{
		{"confirm without deny", actionsWith(okBtn, obj("type", "button", "action_id", "b", "text", pt("Go"), "confirm", dialog(false))),
			"missing required field: deny [json-pointer:/blocks/0/elements/1/confirm/deny]"},
		{"confirm text mrkdwn", actionsWith(obj("type", "button", "text", pt("Go"),
			"confirm", obj("title", pt("t"), "text", mk("x"), "confirm", pt("y"), "deny", pt("n")))),
			"must be plain_text [json-pointer:/blocks/0/elements/0/confirm/text/type]"},
		{"section without text or fields", []any{obj("type", "section", "block_id", "s")},
			"missing required field: text [json-pointer:/blocks/0/text]"},
		{"header with mrkdwn", []any{obj("type", "header", "text", mk("h"))},
			"must be plain_text [json-pointer:/blocks/0/text/type]"},
		{"header without text", []any{obj("type", "header")},
			"missing required field: text [json-pointer:/blocks/0/text]"},
		{"option without value", inputWith(checkboxes(obj("text", pt("one")))),
			"missing required field: value [json-pointer:/blocks/0/element/options/0/value]"},
		{"option text 76", inputWith(checkboxes(obj("text", mk(string(bytes.Repeat([]byte("o"), 76))), "value", "v"))),
			"must be less than 76 characters [json-pointer:/blocks/0/element/options/0/text/text]"},
		{"option with url", inputWith(checkboxes(obj("text", pt("one"), "value", "v", "url", "https://x.example"))),
			"invalid additional property: url [json-pointer:/blocks/0/element/options/0/url]"},
		{"checkboxes without options", inputWith(obj("type", "checkboxes", "action_id", "c")),
			"missing required field: options [json-pointer:/blocks/0/element/options]"},
		{"unknown element type", actionsWith(obj("type", "fancy_button", "text", pt("x"))),
			"unsupported type: fancy_button [json-pointer:/blocks/0/elements/0/type]"},
		{"input element in actions", actionsWith(obj("type", "plain_text_input", "action_id", "t")),
			"unsupported type: plain_text_input [json-pointer:/blocks/0/elements/0/type]"},
		{"unknown block type", []any{obj("type", "carousel")},
			"unsupported type: carousel [json-pointer:/blocks/0/type]"},
		{"block without type", []any{obj("block_id", "x")},
			"missing required field: type [json-pointer:/blocks/0/type]"},
		{"button without text", actionsWith(obj("type", "button", "action_id", "b")),
			"missing required field: text [json-pointer:/blocks/0/elements/0/text]"},
		{"text object without type", []any{obj("type", "section", "text", obj("text", "x"))},
			"missing required field: type [json-pointer:/blocks/0/text/type]"},
		{"text object without text", []any{obj("type", "section", "text", obj("type", "mrkdwn"))},
			"missing required field: text [json-pointer:/blocks/0/text/text]"},
		{"text object of another type", []any{obj("type", "section", "text", obj("type", "markdown", "text", "x"))},
			"unsupported type: markdown [json-pointer:/blocks/0/text/type]"},
		{"emoji on mrkdwn", []any{obj("type", "section", "text", obj("type", "mrkdwn", "text", "x", "emoji", true))},
			"invalid additional property: emoji [json-pointer:/blocks/0/text/emoji]"},
		{"context without elements", []any{obj("type", "context")},
			"missing required field: elements [json-pointer:/blocks/0/elements]"},
		{"actions without elements", []any{obj("type", "actions", "elements", []any{})},
			"missing required field: elements [json-pointer:/blocks/0/elements]"},
		{"input without label", []any{obj("type", "input", "element", obj("type", "plain_text_input"))},
			"missing required field: label [json-pointer:/blocks/0/label]"},
		{"input without element", []any{obj("type", "input", "label", pt("L"))},
			"missing required field: element [json-pointer:/blocks/0/element]"},
		{"placeholder 151", inputWith(obj("type", "plain_text_input", "placeholder", pt(string(bytes.Repeat([]byte("p"), 151))))),
			"must be less than 151 characters [json-pointer:/blocks/0/element/placeholder/text]"},
		{"max_length 3001", inputWith(obj("type", "plain_text_input", "max_length", 3001)),
			"must be between 1 and 3000 [json-pointer:/blocks/0/element/max_length]"},
		{"initial option not among options", inputWith(obj("type", "checkboxes", "options", []any{obj("text", pt("a"), "value", "a")},
			"initial_options", []any{obj("text", pt("b"), "value", "b")})),
			"must match one of the options [json-pointer:/blocks/0/element/initial_options/0]"},
		{"duplicate option value", inputWith(checkboxes(obj("text", pt("a"), "value", "v"), obj("text", pt("b"), "value", "v"))),
			"duplicate option value [json-pointer:/blocks/0/element/options/1/value]"},
		{"button style", actionsWith(obj("type", "button", "text", pt("x"), "style", "green")),
			"must be one of primary, danger [json-pointer:/blocks/0/elements/0/style]"},
		{"block_id on an element", actionsWith(obj("type", "button", "text", pt("x"), "block_id", "b")),
			"invalid additional property: block_id [json-pointer:/blocks/0/elements/0/block_id]"},
	}
	for _, tc := range cases {
		a := callJSON(t, srv, "chat.postMessage", obj("channel", "C1", "text", "fallback", "blocks", tc.blocks))
		assert.Equal(t, http.StatusOK, a.Status, tc.name)
		assert.False(t, a.OK, tc.name)
		assert.Equal(t, "invalid_blocks", a.Error, tc.name)
		assert.Equal(t, []string{tc.detail}, a.Errors, tc.name)
		// The same rules through the exported validator the proof tests use.
		raw, _ := json.Marshal(tc.blocks)
		err := CheckMessageBlocks(raw)
		var bke *BlockKitError
		if assert.ErrorAs(t, err, &bke, tc.name) {
			assert.Equal(t, tc.detail, bke.Detail, tc.name)
		}
	}
	assert.Len(t, srv.Refusals(), len(cases))
	assert.Empty(t, srv.Messages("C1"), "refused messages are not stored")

	// The valid versions pass.
	for _, blocks := range [][]any{
		actionsWith(okBtn, obj("type", "button", "action_id", "b", "text", pt("Go"), "confirm", dialog(true), "style", "danger")),
		inputWith(checkboxes(obj("text", mk("*one*"), "value", "v", "description", mk("more")))),
		{obj("type", "section", "fields", []any{mk("a"), pt("b")}), obj("type", "divider"), obj("type", "header", "text", pt("H")),
			obj("type", "context", "elements", []any{mk("c")})},
	} {
		a := callJSON(t, srv, "chat.postMessage", obj("channel", "C1", "text", "fallback", "blocks", blocks))
		assert.True(t, a.OK, "%v %v", a.Error, a.Errors)
	}
}

// Views: the same rules, refused with invalid_arguments and pointers under /view.
func TestViewReferenceRulesRefused(t *testing.T) {
	srv := newServer(t, Options{RateLimit: RateLimitOptions{Disabled: true}})
	base := func() map[string]any {
		return obj("type", "modal", "title", pt("Approve"), "submit", pt("Approve"), "close", pt("Back"),
			"blocks", inputWith(checkboxes(obj("text", pt("one"), "value", "v"))))
	}
	cases := []struct {
		name   string
		change func(v map[string]any)
		detail string
	}{
		{"modal without title", func(v map[string]any) { delete(v, "title") }, "missing required field: title [json-pointer:/view/title]"},
		{"modal without type", func(v map[string]any) { delete(v, "type") }, "missing required field: type [json-pointer:/view/type]"},
		{"modal without blocks", func(v map[string]any) { delete(v, "blocks") }, "missing required field: blocks [json-pointer:/view/blocks]"},
		{"title mrkdwn", func(v map[string]any) { v["title"] = mk("t") }, "must be plain_text [json-pointer:/view/title/type]"},
		{"close 25", func(v map[string]any) { v["close"] = pt("0123456789012345678901234") },
			"must be less than 25 characters [json-pointer:/view/close/text]"},
		{"input without submit", func(v map[string]any) { delete(v, "submit") },
			"submit is required when blocks contain an input [json-pointer:/view/submit]"},
		{"callback_id 256", func(v map[string]any) { v["callback_id"] = string(bytes.Repeat([]byte("c"), 256)) },
			"must be less than 256 characters [json-pointer:/view/callback_id]"},
		{"option without value", func(v map[string]any) { v["blocks"] = inputWith(checkboxes(obj("text", pt("one")))) },
			"missing required field: value [json-pointer:/view/blocks/0/element/options/0/value]"},
		{"hint mrkdwn", func(v map[string]any) {
			v["blocks"] = []any{obj("type", "input", "label", pt("L"), "hint", mk("h"), "element", obj("type", "plain_text_input"))}
		}, "must be plain_text [json-pointer:/view/blocks/0/hint/type]"},
		{"unknown view field", func(v map[string]any) { v["colour"] = "red" }, "invalid additional property: colour [json-pointer:/view/colour]"},
	}
	for _, tc := range cases {
		env, err := srv.Slash("U1", "C1", "x")
		require.NoError(t, err)
		v := base()
		tc.change(v)
		a := callJSON(t, srv, "views.open", obj("trigger_id", env.TriggerID, "view", v))
		assert.Equal(t, http.StatusOK, a.Status, tc.name)
		assert.Equal(t, "invalid_arguments", a.Error, tc.name)
		assert.Equal(t, []string{tc.detail}, a.Errors, tc.name)
		raw, _ := json.Marshal(v)
		var bke *BlockKitError
		if assert.ErrorAs(t, CheckView(raw), &bke, tc.name) {
			assert.Equal(t, "invalid_arguments", bke.Err, tc.name)
			assert.Equal(t, tc.detail, bke.Detail, tc.name)
		}
		a = callJSON(t, srv, "views.open", obj("trigger_id", env.TriggerID, "view", base()))
		assert.True(t, a.OK, "%s: the valid view opens: %v %v", tc.name, a.Error, a.Errors)
	}
}

// Every path a message or a view reaches Slack by is checked: chat.update,
// chat.postEphemeral, response_url, a slash command's ack payload, views.push,
// views.update and a view_submission ack's update/push.
func TestEveryPathValidates(t *testing.T) {
	srv := newServer(t, Options{RateLimit: RateLimitOptions{Disabled: true}})
	api := newAPI(srv)
	noDeny := []slack.Block{slack.NewActionBlock("a", slack.NewButtonBlockElement("b", "v",
		slack.NewTextBlockObject("plain_text", "Go", false, false)).WithConfirm(slack.NewConfirmationBlockObject(
		slack.NewTextBlockObject("plain_text", "Sure?", false, false), slack.NewTextBlockObject("plain_text", "Really.", false, false),
		slack.NewTextBlockObject("plain_text", "Go", false, false), nil)))}
	const detail = "missing required field: deny [json-pointer:/blocks/0/elements/0/confirm/deny]"
	refused := func(method string) {
		t.Helper()
		rs := srv.Refusals()
		require.NotEmpty(t, rs, method)
		last := rs[len(rs)-1]
		assert.Equal(t, method, last.Method)
		assert.Equal(t, "invalid_blocks", last.Error, method)
		assert.Equal(t, detail, last.Detail, method)
	}

	_, ts, err := api.PostMessage("C1", slack.MsgOptionText("card", false))
	require.NoError(t, err)
	_, _, _, err = api.UpdateMessage("C1", ts, slack.MsgOptionText("card", false), slack.MsgOptionBlocks(noDeny...))
	assert.Equal(t, "invalid_blocks", slackErr(err))
	refused("chat.update")
	_, err = api.PostEphemeral("C1", "U1", slack.MsgOptionText("x", false), slack.MsgOptionBlocks(noDeny...))
	assert.Equal(t, "invalid_blocks", slackErr(err))
	refused("chat.postEphemeral")
	c := newClient(t, srv)
	env, err := srv.Slash("U1", "C1", "x")
	require.NoError(t, err)
	require.NoError(t, c.sm.Ack(*c.next(t, socketmode.EventTypeSlashCommand).Request))
	_, _, err = api.PostMessage("", slack.MsgOptionText("x", false), slack.MsgOptionBlocks(noDeny...),
		slack.MsgOptionResponseURL(env.ResponseURL, slack.ResponseTypeEphemeral))
	assert.Equal(t, "invalid_blocks", slackErr(err))
	refused("response_url")

	// Acks go over the socket.
	env, err = srv.Slash("U1", "C1", "y")
	require.NoError(t, err)
	ev := c.next(t, socketmode.EventTypeSlashCommand)
	require.NoError(t, c.sm.Ack(*ev.Request, map[string]any{"text": "x", "blocks": noDeny}))
	_, err = env.WaitAck(2 * time.Second)
	require.NoError(t, err)
	refused("slash_commands.ack")
	assert.Empty(t, srv.Ephemerals("U1"), "a refused ack payload shows nothing")

	// Views: views.update and a view_submission ack's update.
	bad := modal()
	bad.Title = nil
	env, err = srv.Slash("U1", "C1", "z")
	require.NoError(t, err)
	ev = c.next(t, socketmode.EventTypeSlashCommand)
	require.NoError(t, c.sm.Ack(*ev.Request))
	resp, err := api.OpenView(env.TriggerID, modal())
	require.NoError(t, err)
	_, err = api.UpdateView(bad, "", "", resp.ID)
	assert.Equal(t, "invalid_arguments", slackErr(err))
	sub, err := srv.Submit("U1", resp.ID, nil)
	require.NoError(t, err)
	ev = c.next(t, socketmode.EventTypeInteractive)
	require.NoError(t, c.sm.Ack(*ev.Request, slack.NewUpdateViewSubmissionResponse(&bad)))
	_, err = sub.WaitAck(2 * time.Second)
	require.NoError(t, err)
	rs := srv.Refusals()
	last := rs[len(rs)-1]
	assert.Equal(t, "view_submission.ack", last.Method)
	assert.Equal(t, "invalid_arguments", last.Error)
	assert.Equal(t, "missing required field: title [json-pointer:/view/title]", last.Detail)
}
