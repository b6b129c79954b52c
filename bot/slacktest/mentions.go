package slacktest

import (
	"encoding/json"
	"regexp"
)

// Slack's mention syntax (formatting-message-text): users, user groups and the
// broadcasts. <!date^…> and links are not mentions.
var (
	explicitMention = regexp.MustCompile(`<(@[UW][A-Z0-9]+|!(?:here|channel|everyone)|!subteam\^[A-Z0-9]+)(?:\|[^>]*)?>`)
	// Automatic parsing turns plain @here/@channel/@everyone into broadcasts.
	autoMention = regexp.MustCompile(`(?:^|[^\w@])(@(?:here|channel|everyone))\b`)
)

func textMentions(text string, auto bool) []string {
	var out []string
	for _, m := range explicitMention.FindAllStringSubmatch(text, -1) {
		out = append(out, "<"+m[1]+">")
	}
	if auto {
		for _, m := range autoMention.FindAllStringSubmatch(text, -1) {
			out = append(out, m[1])
		}
	}
	return out
}

// blockMentions walks blocks for mrkdwn text objects (automatic parsing unless
// verbatim) and rich_text user, usergroup and broadcast elements.
func blockMentions(v any) []string {
	var out []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			out = append(out, blockMentions(e)...)
		}
	case map[string]any:
		switch x["type"] {
		case "mrkdwn":
			text, _ := x["text"].(string)
			verbatim, _ := x["verbatim"].(bool)
			return textMentions(text, !verbatim)
		case "user":
			if id, _ := x["user_id"].(string); id != "" {
				return []string{"<@" + id + ">"}
			}
		case "usergroup":
			if id, _ := x["usergroup_id"].(string); id != "" {
				return []string{"<!subteam^" + id + ">"}
			}
		case "broadcast":
			if r, _ := x["range"].(string); r != "" {
				return []string{"<!" + r + ">"}
			}
		}
		for _, e := range x {
			out = append(out, blockMentions(e)...)
		}
	}
	return out
}

// mentions lists what Slack would render as mentions in a message: the top-level
// text (notifications use it; automatic parsing only with link_names) and mrkdwn
// in blocks. plain_text is left out (whether it notifies is unverified).
func mentions(text string, linkNames bool, blocks json.RawMessage) []string {
	out := textMentions(text, linkNames)
	var v any
	if len(blocks) > 0 && json.Unmarshal(blocks, &v) == nil {
		out = append(out, blockMentions(v)...)
	}
	return out
}

// Mentions returns the mentions Slack would render in the message, e.g. "<@U1>",
// "<!channel>", "<!subteam^S1>" or "@here" (automatic parsing), in order found.
// Use it to check that user input interpolated into a message pings nobody.
func (m Message) Mentions() []string { return mentions(m.Text, m.LinkNames, m.Blocks) }

// Mentions is Message.Mentions for an ephemeral message.
func (e Ephemeral) Mentions() []string { return mentions(e.Text, false, e.Blocks) }
