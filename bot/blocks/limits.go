package blocks

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// Slack's Block Kit rules, checked by CheckMessage and CheckModal so tests
// (here and in the bot) catch a message Slack would refuse before Slack does:
// each object's required fields, the text types allowed in each place, and
// the limits, as the reference pages under
// docs.slack.dev/reference/block-kit/ (and reference/views/modal-views) give
// them. They also enforce this package's own rule that every mrkdwn object is
// verbatim.
const (
	limitMessageBlocks  = 50
	limitModalBlocks    = 100
	limitID             = 255
	limitButtonValue    = 2000
	limitButtonURL      = 3000
	limitAccessLabel    = 75
	limitActions        = 25
	limitContext        = 10
	limitFields         = 10
	limitOptions        = 10
	limitOptionValue    = 150
	limitPlaceholder    = 150
	limitInputLength    = 3000
	limitPrivateMeta    = 3000
	limitViewBytes      = 250 * 1024
	limitMarkdownBlock  = 12000
	limitContextElement = 3000
)

// The modelled elements each block's reference page lists as compatible.
var elementsIn = map[string][]string{
	"section": {"button", "checkboxes", "radio_buttons"},
	"actions": {"button", "checkboxes", "radio_buttons"},
	"input":   {"plain_text_input", "checkboxes", "radio_buttons"},
}

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
	if v.Type != slack.VTModal {
		c.failf("/view/type: %q, want modal", v.Type)
	}
	for _, f := range []struct {
		name     string
		t        *slack.TextBlockObject
		required bool
	}{{"title", v.Title, true}, {"close", v.Close, false}, {"submit", v.Submit, false}} {
		c.optText(map[string]any{f.name: toAny(f.t)}, f.name, f.required, maxModalTitle, "/view", true)
	}
	if v.Blocks.BlockSet == nil {
		c.failf("/view/blocks: missing")
	}
	for _, b := range v.Blocks.BlockSet {
		if b.BlockType() == slack.MBTInput && v.Submit == nil {
			c.failf("/view/submit: required when blocks contain an input")
			break
		}
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
	m, _ := toAny(v).(map[string]any)
	return m
}

// toAny is v as it goes on the wire (nil for a nil pointer).
func toAny(v any) any {
	raw, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(raw, &out)
	return out
}

func (c *checker) blocks(bs []slack.Block, limit int, ptr string) {
	if len(bs) > limit {
		c.failf("%s: %d blocks > %d", ptr, len(bs), limit)
	}
	seen := map[string]bool{}
	markdown := 0
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
		if m["type"] == "markdown" {
			t, _ := m["text"].(string)
			markdown += runeLen(t)
		}
		c.block(m, p)
	}
	if markdown > limitMarkdownBlock {
		c.failf("%s: markdown blocks have %d runes > %d", ptr, markdown, limitMarkdownBlock)
	}
}

// text checks a text object: type plain_text or mrkdwn (plain_text only where
// plainOnly), text 1..limit runes, emoji only on plain_text, verbatim only on
// mrkdwn (composition-objects/text-object).
func (c *checker) text(v any, limit int, ptr string, plainOnly bool) {
	m, isMap := v.(map[string]any)
	if !isMap {
		c.failf("%s: missing text object", ptr)
		return
	}
	typ, _ := m["type"].(string)
	text, _ := m["text"].(string)
	switch {
	case typ != "plain_text" && typ != "mrkdwn":
		c.failf("%s/type: %q is not a text object type", ptr, typ)
	case plainOnly && typ != "plain_text":
		c.failf("%s/type: must be plain_text", ptr)
	case text == "":
		c.failf("%s/text: missing or empty", ptr)
	case runeLen(text) > limit:
		c.failf("%s/text: %d runes > %d", ptr, runeLen(text), limit)
	}
	if _, has := m["emoji"]; has && typ != "plain_text" {
		c.failf("%s/emoji: only on plain_text", ptr)
	}
	if _, has := m["verbatim"]; has && typ != "mrkdwn" {
		c.failf("%s/verbatim: only on mrkdwn", ptr)
	}
	if typ == "mrkdwn" && m["verbatim"] != true {
		c.failf("%s: mrkdwn without verbatim", ptr)
	}
}

// optText checks m[key] as a text object that may be absent unless required.
func (c *checker) optText(m map[string]any, key string, required bool, limit int, ptr string, plainOnly bool) {
	if m[key] == nil {
		if required {
			c.failf("%s/%s: missing required field", ptr, key)
		}
		return
	}
	c.text(m[key], limit, ptr+"/"+key, plainOnly)
}

func (c *checker) block(m map[string]any, p string) {
	switch m["type"] {
	case "section":
		fields, _ := m["fields"].([]any)
		if m["text"] == nil && len(fields) == 0 {
			c.failf("%s: section without text or fields", p)
		}
		c.optText(m, "text", false, maxSectionText, p, false)
		if len(fields) > limitFields {
			c.failf("%s/fields: %d > %d", p, len(fields), limitFields)
		}
		for j, f := range fields {
			c.text(f, maxFieldText, fmt.Sprintf("%s/fields/%d", p, j), false)
		}
		if acc, ok := m["accessory"].(map[string]any); ok {
			c.element(acc, p+"/accessory", "section")
		}
	case "header":
		c.optText(m, "text", true, maxHeaderText, p, true)
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
			c.element(em, fmt.Sprintf("%s/elements/%d", p, j), "actions")
		}
	case "input":
		c.optText(m, "label", true, maxInputLabel, p, true)
		c.optText(m, "hint", false, maxHintText, p, true)
		el, ok := m["element"].(map[string]any)
		if !ok {
			c.failf("%s/element: missing required field", p)
			return
		}
		c.element(el, p+"/element", "input")
	case "markdown":
		if t, _ := m["text"].(string); t == "" {
			c.failf("%s/text: missing required field", p)
		}
	case "divider":
	default:
		c.failf("%s: unexpected block type %v", p, m["type"])
	}
}

func (c *checker) element(m map[string]any, p, block string) {
	typ, _ := m["type"].(string)
	if !slices.Contains(elementsIn[block], typ) {
		c.failf("%s/type: %q is not an element a %s block takes", p, typ, block)
		return
	}
	if id, _ := m["action_id"].(string); runeLen(id) > limitID {
		c.failf("%s/action_id > %d", p, limitID)
	}
	switch typ {
	case "button":
		c.optText(m, "text", true, maxButtonText, p, true)
		if v, _ := m["value"].(string); runeLen(v) > limitButtonValue {
			c.failf("%s/value > %d", p, limitButtonValue)
		}
		if u, _ := m["url"].(string); runeLen(u) > limitButtonURL {
			c.failf("%s/url > %d", p, limitButtonURL)
		}
		if l, _ := m["accessibility_label"].(string); runeLen(l) > limitAccessLabel {
			c.failf("%s/accessibility_label > %d", p, limitAccessLabel)
		}
		c.style(m, p)
	case "checkboxes", "radio_buttons":
		opts, _ := m["options"].([]any)
		if len(opts) == 0 || len(opts) > limitOptions {
			c.failf("%s/options: %d, want 1..%d", p, len(opts), limitOptions)
		}
		values := map[any]bool{}
		for j, o := range opts {
			c.option(o, fmt.Sprintf("%s/options/%d", p, j))
			if om, ok := o.(map[string]any); ok {
				if values[om["value"]] {
					c.failf("%s/options/%d/value: duplicate %v", p, j, om["value"])
				}
				values[om["value"]] = true
			}
		}
		initial, _ := m["initial_options"].([]any)
		if o, ok := m["initial_option"]; ok {
			initial = append(initial, o)
		}
		for j, o := range initial {
			if !slices.ContainsFunc(opts, func(x any) bool { return reflect.DeepEqual(x, o) }) {
				c.failf("%s: initial option %d is not one of options", p, j)
			}
		}
	case "plain_text_input":
		c.optText(m, "placeholder", false, limitPlaceholder, p, true)
		minLen, hasMin := m["min_length"].(float64)
		maxLen, hasMax := m["max_length"].(float64)
		if hasMin && (minLen < 0 || minLen > limitInputLength) {
			c.failf("%s/min_length: %v, want 0..%d", p, minLen, limitInputLength)
		}
		if hasMax && (maxLen < 1 || maxLen > limitInputLength) {
			c.failf("%s/max_length: %v, want 1..%d", p, maxLen, limitInputLength)
		}
		if hasMin && hasMax && minLen > maxLen {
			c.failf("%s: min_length %v > max_length %v", p, minLen, maxLen)
		}
		if iv, _ := m["initial_value"].(string); hasMax && float64(runeLen(iv)) > maxLen {
			c.failf("%s/initial_value: longer than max_length", p)
		}
	}
	if cf, ok := m["confirm"].(map[string]any); ok {
		// Confirmation dialog: title, text, confirm and deny are all Required plain_text.
		cp := p + "/confirm"
		c.optText(cf, "title", true, maxConfirmTitle, cp, true)
		c.optText(cf, "text", true, maxConfirmText, cp, true)
		c.optText(cf, "confirm", true, maxConfirmBtn, cp, true)
		c.optText(cf, "deny", true, maxConfirmBtn, cp, true)
		c.style(cf, cp)
	} else if m["confirm"] != nil {
		c.failf("%s/confirm: not an object", p)
	}
}

// option checks an option object of checkboxes or radio buttons: text
// (plain_text or mrkdwn) ≤ 75, value 1..150, description ≤ 75, no url (only
// overflow menus take one).
func (c *checker) option(o any, p string) {
	om, _ := o.(map[string]any)
	c.optText(om, "text", true, maxOptionText, p, false)
	c.optText(om, "description", false, maxOptionText, p, false)
	if v, _ := om["value"].(string); v == "" || runeLen(v) > limitOptionValue {
		c.failf("%s/value: missing, empty or > %d", p, limitOptionValue)
	}
	if _, has := om["url"]; has {
		c.failf("%s/url: only overflow menus take a url", p)
	}
}

func (c *checker) style(m map[string]any, p string) {
	if s, has := m["style"]; has && s != "primary" && s != "danger" {
		c.failf("%s/style: %v, want primary or danger", p, s)
	}
}
