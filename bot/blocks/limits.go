package blocks

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// Slack's Block Kit limits (slack-wire §5), checked by CheckMessage and
// CheckModal so tests (here and in the bot) catch a message Slack would
// refuse before Slack does. They also enforce this package's own rule that
// every mrkdwn object is verbatim.
const (
	limitMessageBlocks  = 50
	limitModalBlocks    = 100
	limitID             = 255
	limitButtonValue    = 2000
	limitButtonURL      = 3000
	limitActions        = 25
	limitContext        = 10
	limitFields         = 10
	limitOptions        = 10
	limitOptionValue    = 150
	limitPrivateMeta    = 3000
	limitViewBytes      = 250 * 1024
	limitMarkdownBlock  = 12000
	limitContextElement = 3000
)

// ErrLimit is wrapped by every limit violation.
var ErrLimit = errors.New("blocks: over a Slack limit")

type checker struct{ errs []error }

func (c *checker) failf(format string, a ...any) {
	c.errs = append(c.errs, fmt.Errorf("%w: "+format, append([]any{ErrLimit}, a...)...))
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// CheckMessage checks a message against Slack's limits for chat.postMessage
// and chat.update (fallback text ≤ 4,000 so an update is never refused).
func CheckMessage(m Message) error {
	c := &checker{}
	if runeLen(m.Text) > maxFallbackText {
		c.failf("text has %d runes > %d", runeLen(m.Text), maxFallbackText)
	}
	if m.Text == "" {
		c.failf("no fallback text")
	}
	c.blocks(m.Blocks, limitMessageBlocks, "/blocks")
	return errors.Join(c.errs...)
}

// CheckModal checks a modal view against views.open's limits.
func CheckModal(v slack.ModalViewRequest) error {
	c := &checker{}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("blocks: marshal view: %w", err)
	}
	if len(raw) > limitViewBytes {
		c.failf("view is %d bytes > %d", len(raw), limitViewBytes)
	}
	for name, t := range map[string]*slack.TextBlockObject{"title": v.Title, "submit": v.Submit, "close": v.Close} {
		if t == nil {
			if name == "title" {
				c.failf("view has no title")
			}
			continue
		}
		c.text(toMap(t), maxModalTitle, "/view/"+name, true)
	}
	if runeLen(v.PrivateMetadata) > limitPrivateMeta {
		c.failf("private_metadata > %d", limitPrivateMeta)
	}
	if runeLen(v.CallbackID) > limitID || runeLen(v.ExternalID) > limitID {
		c.failf("callback_id or external_id > %d", limitID)
	}
	c.blocks(v.Blocks.BlockSet, limitModalBlocks, "/view/blocks")
	return errors.Join(c.errs...)
}

func toMap(v any) map[string]any {
	raw, _ := json.Marshal(v)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

func (c *checker) blocks(bs []slack.Block, limit int, ptr string) {
	if len(bs) > limit {
		c.failf("%s: %d blocks > %d", ptr, len(bs), limit)
	}
	seen := map[string]bool{}
	for i, b := range bs {
		m := toMap(b)
		p := fmt.Sprintf("%s/%d", ptr, i)
		if id, _ := m["block_id"].(string); id != "" {
			if runeLen(id) > limitID {
				c.failf("%s/block_id > %d", p, limitID)
			}
			if seen[id] {
				c.failf("%s: duplicate block_id %q", p, id)
			}
			seen[id] = true
		}
		c.block(m, p)
	}
}

func (c *checker) text(v any, limit int, ptr string, plainOnly bool) {
	m, _ := v.(map[string]any)
	typ, _ := m["type"].(string)
	text, _ := m["text"].(string)
	switch {
	case typ != "plain_text" && typ != "mrkdwn":
		c.failf("%s: not a text object", ptr)
	case plainOnly && typ != "plain_text":
		c.failf("%s: must be plain_text", ptr)
	case text == "":
		c.failf("%s: empty text", ptr)
	case runeLen(text) > limit:
		c.failf("%s/text: %d runes > %d", ptr, runeLen(text), limit)
	}
	if typ == "mrkdwn" && m["verbatim"] != true {
		c.failf("%s: mrkdwn without verbatim", ptr)
	}
}

func (c *checker) block(m map[string]any, p string) {
	switch m["type"] {
	case "section":
		fields, _ := m["fields"].([]any)
		if m["text"] == nil && len(fields) == 0 {
			c.failf("%s: section without text or fields", p)
		}
		if m["text"] != nil {
			c.text(m["text"], maxSectionText, p+"/text", false)
		}
		if len(fields) > limitFields {
			c.failf("%s/fields: %d > %d", p, len(fields), limitFields)
		}
		for j, f := range fields {
			c.text(f, maxFieldText, fmt.Sprintf("%s/fields/%d", p, j), false)
		}
		if acc, ok := m["accessory"].(map[string]any); ok {
			c.element(acc, p+"/accessory")
		}
	case "header":
		c.text(m["text"], maxHeaderText, p+"/text", true)
	case "context":
		els, _ := m["elements"].([]any)
		if len(els) == 0 || len(els) > limitContext {
			c.failf("%s/elements: %d, want 1..%d", p, len(els), limitContext)
		}
		for j, e := range els {
			c.text(e, limitContextElement, fmt.Sprintf("%s/elements/%d", p, j), false)
		}
	case "actions":
		els, _ := m["elements"].([]any)
		if len(els) == 0 || len(els) > limitActions {
			c.failf("%s/elements: %d, want 1..%d", p, len(els), limitActions)
		}
		ids := map[string]bool{}
		for j, e := range els {
			em, _ := e.(map[string]any)
			id, _ := em["action_id"].(string)
			if ids[id] {
				c.failf("%s/elements/%d: duplicate action_id %q", p, j, id)
			}
			ids[id] = true
			c.element(em, fmt.Sprintf("%s/elements/%d", p, j))
		}
	case "input":
		c.text(m["label"], maxInputLabel, p+"/label", true)
		if m["hint"] != nil {
			c.text(m["hint"], maxHintText, p+"/hint", true)
		}
		el, ok := m["element"].(map[string]any)
		if !ok {
			c.failf("%s: input without element", p)
			return
		}
		c.element(el, p+"/element")
	case "markdown":
		if t, _ := m["text"].(string); runeLen(t) > limitMarkdownBlock {
			c.failf("%s/text > %d", p, limitMarkdownBlock)
		}
	case "divider":
	default:
		c.failf("%s: unexpected block type %v", p, m["type"])
	}
}

func (c *checker) element(m map[string]any, p string) {
	if id, _ := m["action_id"].(string); runeLen(id) > limitID {
		c.failf("%s/action_id > %d", p, limitID)
	}
	switch m["type"] {
	case "button":
		c.text(m["text"], maxButtonText, p+"/text", true)
		if v, _ := m["value"].(string); runeLen(v) > limitButtonValue {
			c.failf("%s/value > %d", p, limitButtonValue)
		}
		if u, _ := m["url"].(string); runeLen(u) > limitButtonURL {
			c.failf("%s/url > %d", p, limitButtonURL)
		}
	case "checkboxes", "radio_buttons":
		opts, _ := m["options"].([]any)
		if len(opts) == 0 || len(opts) > limitOptions {
			c.failf("%s/options: %d, want 1..%d", p, len(opts), limitOptions)
		}
		for j, o := range opts {
			om, _ := o.(map[string]any)
			op := fmt.Sprintf("%s/options/%d", p, j)
			c.text(om["text"], maxOptionText, op+"/text", false)
			if om["description"] != nil {
				c.text(om["description"], maxOptionText, op+"/description", false)
			}
			if v, _ := om["value"].(string); v == "" || runeLen(v) > limitOptionValue {
				c.failf("%s/value: empty or > %d", op, limitOptionValue)
			}
		}
	case "plain_text_input":
		if m["placeholder"] != nil {
			c.text(m["placeholder"], 150, p+"/placeholder", true)
		}
	}
	if cf, ok := m["confirm"].(map[string]any); ok {
		c.text(cf["title"], maxConfirmTitle, p+"/confirm/title", true)
		c.text(cf["text"], maxConfirmText, p+"/confirm/text", false)
		c.text(cf["confirm"], maxConfirmBtn, p+"/confirm/confirm", true)
		if cf["deny"] != nil {
			c.text(cf["deny"], maxConfirmBtn, p+"/confirm/deny", true)
		}
	}
}
