package slacktest

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"unicode/utf8"
)

// Block Kit rules as Slack's reference documents them, object by object (sources
// in FIDELITY.md, "Block Kit objects").
const (
	maxMessageBlocks      = 50
	maxModalBlocks        = 100
	maxTextObject         = 3000 // any text object: 1..3000 characters
	maxSectionText        = 3000
	maxSectionFields      = 10
	maxFieldText          = 2000
	maxHeaderText         = 150
	maxID                 = 255 // block_id, action_id, callback_id, external_id
	maxButtonText         = 75
	maxButtonValue        = 2000
	maxButtonURL          = 3000
	maxAccessibilityLabel = 75
	maxActionsElements    = 25
	maxContextElements    = 10
	maxConfirmTitle       = 100
	maxConfirmText        = 300
	maxConfirmButton      = 30 // confirm and deny
	maxMarkdownBlocks     = 12000
	maxModalTitle         = 24 // also submit and close
	maxPrivateMetadata    = 3000
	maxMessageText        = 40000
	maxUpdateText         = 4000
	maxViewBytes          = 250 * 1024
	maxInputLabel         = 2000
	maxHintText           = 2000
	maxOptions            = 10 // checkboxes / radio buttons
	maxOptionText         = 75
	maxOptionValue        = 150
	maxOptionDescription  = 75
	maxPlaceholder        = 150
	maxInputLength        = 3000 // plain_text_input min_length 0..3000, max_length 1..3000
)

// limitError is a refusal: Slack's error name plus the detail it puts in "errors".
type limitError struct{ err, detail string }

// at builds an invalid_blocks refusal whose detail names the JSON pointer, as Slack's do.
func at(detail, ptr string) *limitError {
	return &limitError{"invalid_blocks", detail + " [json-pointer:" + ptr + "]"}
}

func tooLong(err string, limit int, ptr string) *limitError {
	return &limitError{err, fmt.Sprintf("must be less than %d characters [json-pointer:%s]", limit+1, ptr)}
}

// missing refuses an object without a field its reference page marks Required;
// the pointer names the missing field.
func missing(ptr, key string) *limitError { return at("missing required field: "+key, ptr+"/"+key) }

func tooMany(limit int, ptr string) *limitError {
	return at(fmt.Sprintf("no more than %d items allowed", limit), ptr)
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// parseBlocks decodes a blocks parameter; Slack answers invalid_blocks on bad JSON.
func parseBlocks(raw string) ([]any, *limitError) {
	var v []any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return nil, at("blocks must be a JSON array", "/blocks")
	}
	return v, nil
}

// onlyFields refuses a field the object's reference page does not list.
func onlyFields(m map[string]any, ptr string, allowed ...string) *limitError {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(allowed, k) {
			return at("invalid additional property: "+k, ptr+"/"+k)
		}
	}
	return nil
}

// object returns m[key] as an object; present is false when the field is absent or null.
func object(m map[string]any, key, ptr string) (obj map[string]any, present bool, le *limitError) {
	v, has := m[key]
	if !has || v == nil {
		return nil, false, nil
	}
	obj, isMap := v.(map[string]any)
	if !isMap {
		return nil, true, at("must provide an object", ptr+"/"+key)
	}
	return obj, true, nil
}

// array returns m[key] as an array; present is false when the field is absent or null.
func array(m map[string]any, key, ptr string) (arr []any, present bool, le *limitError) {
	v, has := m[key]
	if !has || v == nil {
		return nil, false, nil
	}
	arr, isArr := v.([]any)
	if !isArr {
		return nil, true, at("must provide an array", ptr+"/"+key)
	}
	return arr, true, nil
}

// requiredArray reads a required, non-empty array field of at most max items.
func requiredArray(m map[string]any, key, ptr string, max int) ([]any, *limitError) {
	a, has, le := array(m, key, ptr)
	switch {
	case le != nil:
		return nil, le
	case !has || len(a) == 0:
		return nil, missing(ptr, key)
	case len(a) > max:
		return nil, tooMany(max, ptr+"/"+key)
	}
	return a, nil
}

// str checks an optional (or required) string field's length in characters.
func str(m map[string]any, key, ptr string, required bool, minLen, maxLen int) *limitError {
	v, has := m[key]
	if !has || v == nil {
		if required {
			return missing(ptr, key)
		}
		return nil
	}
	s, isStr := v.(string)
	switch {
	case !isStr:
		return at("must be a string", ptr+"/"+key)
	case runes(s) < minLen:
		return at(fmt.Sprintf("must be more than %d characters", minLen-1), ptr+"/"+key)
	case runes(s) > maxLen:
		return tooLong("invalid_blocks", maxLen, ptr+"/"+key)
	}
	return nil
}

func boolean(m map[string]any, key, ptr string) *limitError {
	if v, has := m[key]; has {
		if _, isBool := v.(bool); !isBool {
			return at("must be a boolean", ptr+"/"+key)
		}
	}
	return nil
}

// integer checks an optional integer field's range.
func integer(m map[string]any, key, ptr string, lo, hi float64) *limitError {
	v, has := m[key]
	if !has {
		return nil
	}
	n, isNum := v.(float64)
	switch {
	case !isNum || n != math.Trunc(n):
		return at("must be an integer", ptr+"/"+key)
	case n < lo || n > hi:
		return at(fmt.Sprintf("must be between %d and %d", int(lo), int(hi)), ptr+"/"+key)
	}
	return nil
}

// style checks a button's or a confirmation dialog's optional style.
func style(m map[string]any, ptr string) *limitError {
	if v, has := m["style"]; has && v != "primary" && v != "danger" {
		return at("must be one of primary, danger", ptr+"/style")
	}
	return nil
}

// Where a text object may be mrkdwn (text objects reference: type "plain_text" or
// "mrkdwn"); plainOnly places are those whose reference says plain_text.
const (
	anyText   = false
	plainOnly = true
)

// text checks m[key], an optional or required text object.
func text(m map[string]any, key, ptr string, required, plain bool, limit int) *limitError {
	v, has := m[key]
	if !has || v == nil {
		if required {
			return missing(ptr, key)
		}
		return nil
	}
	return textObject(v, ptr+"/"+key, plain, limit)
}

// textObject checks a text object (composition-objects/text-object): type
// plain_text or mrkdwn, text 1..limit characters, emoji only with plain_text,
// verbatim only with mrkdwn.
func textObject(v any, p string, plain bool, limit int) *limitError {
	t, isMap := v.(map[string]any)
	if !isMap {
		return at("must be a valid text object", p)
	}
	typ, has := t["type"]
	if !has {
		return missing(p, "type")
	}
	var le *limitError
	switch {
	case typ == "plain_text":
		le = onlyFields(t, p, "type", "text", "emoji")
	case typ == "mrkdwn" && plain:
		return at("must be plain_text", p+"/type")
	case typ == "mrkdwn":
		le = onlyFields(t, p, "type", "text", "verbatim")
	default:
		return at(fmt.Sprintf("unsupported type: %v", typ), p+"/type")
	}
	if le != nil {
		return le
	}
	return first(
		func() *limitError { return str(t, "text", p, true, 1, limit) },
		func() *limitError { return boolean(t, "emoji", p) },
		func() *limitError { return boolean(t, "verbatim", p) })
}

// first returns the first refusal of checks run in order.
func first(checks ...func() *limitError) *limitError {
	for _, c := range checks {
		if le := c(); le != nil {
			return le
		}
	}
	return nil
}

// checkBlocks validates a message's or a modal's blocks.
func (s *Server) checkBlocks(blocks []any, maxBlocks int, base string) *limitError {
	if len(blocks) > maxBlocks {
		return &limitError{s.as.ErrTooManyBlocks, fmt.Sprintf("no more than %d items allowed [json-pointer:%s]", maxBlocks, base)}
	}
	seen := map[string]bool{}
	markdown := 0
	for i, b := range blocks {
		ptr := fmt.Sprintf("%s/%d", base, i)
		m, isMap := b.(map[string]any)
		if !isMap {
			return at("must provide an object", ptr)
		}
		typ, has := m["type"]
		if !has {
			return missing(ptr, "type")
		}
		if le := str(m, "block_id", ptr, false, 0, maxID); le != nil {
			return le
		}
		if id, has := m["block_id"].(string); has {
			if seen[id] {
				return at("duplicate block_id", ptr+"/block_id")
			}
			seen[id] = true
		}
		if le := checkBlock(typ, m, ptr); le != nil {
			return le
		}
		if typ == "markdown" {
			// The markdown block's limit is cumulative over the payload.
			if markdown += runes(m["text"].(string)); markdown > maxMarkdownBlocks {
				return tooLong("invalid_blocks", maxMarkdownBlocks, ptr+"/text")
			}
		}
	}
	return nil
}

// checkBlock applies one block's reference page (docs.slack.dev/reference/block-kit/blocks/…).
func checkBlock(typ any, m map[string]any, ptr string) *limitError {
	switch typ {
	case "section":
		return checkSection(m, ptr)
	case "header":
		return first(
			func() *limitError { return onlyFields(m, ptr, "type", "block_id", "text") },
			func() *limitError { return text(m, "text", ptr, true, plainOnly, maxHeaderText) })
	case "divider":
		return onlyFields(m, ptr, "type", "block_id")
	case "context":
		return checkContext(m, ptr)
	case "actions":
		return checkActions(m, ptr)
	case "input":
		return checkInput(m, ptr)
	case "markdown":
		return first(
			func() *limitError { return onlyFields(m, ptr, "type", "block_id", "text") },
			func() *limitError { return str(m, "text", ptr, true, 1, maxMarkdownBlocks) })
	}
	// Other block types (image, rich_text, file, video, table, …) are not modelled:
	// refused rather than passed unchecked.
	return at(fmt.Sprintf("unsupported type: %v", typ), ptr+"/type")
}

func checkSection(m map[string]any, ptr string) *limitError {
	if le := onlyFields(m, ptr, "type", "block_id", "text", "fields", "accessory", "expand"); le != nil {
		return le
	}
	fields, hasFields, le := array(m, "fields", ptr)
	if le != nil {
		return le
	}
	_, hasText, _ := object(m, "text", ptr)
	if !hasText && len(fields) == 0 {
		// text is "Preferred"; fields is "Required if no text is provided".
		return missing(ptr, "text")
	}
	if le := text(m, "text", ptr, false, anyText, maxSectionText); le != nil {
		return le
	}
	if hasFields && len(fields) > maxSectionFields {
		return tooMany(maxSectionFields, ptr+"/fields")
	}
	for j, f := range fields {
		if le := textObject(f, fmt.Sprintf("%s/fields/%d", ptr, j), anyText, maxFieldText); le != nil {
			return le
		}
	}
	if le := boolean(m, "expand", ptr); le != nil {
		return le
	}
	acc, hasAcc, le := object(m, "accessory", ptr)
	if le != nil || !hasAcc {
		return le
	}
	return checkElement(acc, ptr+"/accessory", "section")
}

func checkContext(m map[string]any, ptr string) *limitError {
	if le := onlyFields(m, ptr, "type", "block_id", "elements"); le != nil {
		return le
	}
	els, le := requiredArray(m, "elements", ptr, maxContextElements)
	if le != nil {
		return le
	}
	for j, e := range els {
		p := fmt.Sprintf("%s/elements/%d", ptr, j)
		em, isMap := e.(map[string]any)
		if !isMap {
			return at("must provide an object", p)
		}
		if em["type"] != "plain_text" && em["type"] != "mrkdwn" {
			// Image elements are allowed by Slack but not modelled here.
			return at(fmt.Sprintf("unsupported type: %v", em["type"]), p+"/type")
		}
		if le := textObject(e, p, anyText, maxTextObject); le != nil {
			return le
		}
	}
	return nil
}

func checkActions(m map[string]any, ptr string) *limitError {
	if le := onlyFields(m, ptr, "type", "block_id", "elements"); le != nil {
		return le
	}
	els, le := requiredArray(m, "elements", ptr, maxActionsElements)
	if le != nil {
		return le
	}
	actionIDs := map[string]bool{}
	for j, e := range els {
		p := fmt.Sprintf("%s/elements/%d", ptr, j)
		em, isMap := e.(map[string]any)
		if !isMap {
			return at("must provide an object", p)
		}
		if le := checkElement(em, p, "actions"); le != nil {
			return le
		}
		// action_id "Should be unique among all other action_ids in the containing block".
		if id, _ := em["action_id"].(string); id != "" {
			if actionIDs[id] {
				return at("duplicate action_id", p+"/action_id")
			}
			actionIDs[id] = true
		}
	}
	return nil
}

func checkInput(m map[string]any, ptr string) *limitError {
	if le := first(
		func() *limitError {
			return onlyFields(m, ptr, "type", "block_id", "label", "element", "dispatch_action", "hint", "optional")
		},
		func() *limitError { return text(m, "label", ptr, true, plainOnly, maxInputLabel) },
		func() *limitError { return text(m, "hint", ptr, false, plainOnly, maxHintText) },
		func() *limitError { return boolean(m, "dispatch_action", ptr) },
		func() *limitError { return boolean(m, "optional", ptr) },
	); le != nil {
		return le
	}
	el, has, le := object(m, "element", ptr)
	switch {
	case le != nil:
		return le
	case !has:
		return missing(ptr, "element")
	}
	return checkElement(el, ptr+"/element", "input")
}

// elementsIn lists, per block, the modelled elements its reference page names as
// compatible. Other element types Slack has (selects, pickers, overflow, image, …)
// are not modelled and are refused.
var elementsIn = map[string][]string{
	"section": {"button", "checkboxes", "radio_buttons"},
	"actions": {"button", "checkboxes", "radio_buttons"},
	"input":   {"plain_text_input", "checkboxes", "radio_buttons"},
}

// checkElement applies one element's reference page (docs.slack.dev/reference/block-kit/block-elements/…).
func checkElement(m map[string]any, ptr, block string) *limitError {
	typ, has := m["type"]
	if !has {
		return missing(ptr, "type")
	}
	name, _ := typ.(string)
	if !slices.Contains(elementsIn[block], name) {
		return at(fmt.Sprintf("unsupported type: %v", typ), ptr+"/type")
	}
	if le := str(m, "action_id", ptr, false, 0, maxID); le != nil {
		return le
	}
	var le *limitError
	switch name {
	case "button":
		le = first(
			func() *limitError {
				return onlyFields(m, ptr, "type", "text", "action_id", "url", "value", "style", "confirm", "accessibility_label")
			},
			func() *limitError { return text(m, "text", ptr, true, plainOnly, maxButtonText) },
			func() *limitError { return str(m, "url", ptr, false, 0, maxButtonURL) },
			func() *limitError { return str(m, "value", ptr, false, 0, maxButtonValue) },
			func() *limitError { return style(m, ptr) },
			func() *limitError { return str(m, "accessibility_label", ptr, false, 0, maxAccessibilityLabel) })
	case "checkboxes", "radio_buttons":
		initial := "initial_options"
		if name == "radio_buttons" {
			initial = "initial_option"
		}
		le = first(
			func() *limitError {
				return onlyFields(m, ptr, "type", "action_id", "options", initial, "confirm", "focus_on_load")
			},
			func() *limitError { return checkOptions(m, ptr, initial) },
			func() *limitError { return boolean(m, "focus_on_load", ptr) })
	case "plain_text_input":
		le = first(
			func() *limitError {
				return onlyFields(m, ptr, "type", "action_id", "initial_value", "multiline", "min_length", "max_length",
					"dispatch_action_config", "focus_on_load", "placeholder")
			},
			func() *limitError { return str(m, "initial_value", ptr, false, 0, math.MaxInt) },
			func() *limitError { return boolean(m, "multiline", ptr) },
			func() *limitError { return integer(m, "min_length", ptr, 0, maxInputLength) },
			func() *limitError { return integer(m, "max_length", ptr, 1, maxInputLength) },
			func() *limitError { return boolean(m, "focus_on_load", ptr) },
			func() *limitError { return text(m, "placeholder", ptr, false, plainOnly, maxPlaceholder) },
			func() *limitError {
				_, _, le := object(m, "dispatch_action_config", ptr)
				return le
			})
	}
	if le != nil {
		return le
	}
	c, has, le := object(m, "confirm", ptr)
	if le != nil || !has {
		return le
	}
	return checkConfirm(c, ptr+"/confirm")
}

// checkConfirm applies composition-objects/confirmation-dialog-object: title, text,
// confirm and deny are all Required plain_text objects.
func checkConfirm(c map[string]any, ptr string) *limitError {
	return first(
		func() *limitError { return onlyFields(c, ptr, "title", "text", "confirm", "deny", "style") },
		func() *limitError { return text(c, "title", ptr, true, plainOnly, maxConfirmTitle) },
		func() *limitError { return text(c, "text", ptr, true, plainOnly, maxConfirmText) },
		func() *limitError { return text(c, "confirm", ptr, true, plainOnly, maxConfirmButton) },
		func() *limitError { return text(c, "deny", ptr, true, plainOnly, maxConfirmButton) },
		func() *limitError { return style(c, ptr) })
}

// checkOptions applies the checkboxes / radio buttons options and their option
// objects (composition-objects/option-object; text and description may be mrkdwn
// there, url is only for overflow menus).
func checkOptions(m map[string]any, ptr, initial string) *limitError {
	opts, le := requiredArray(m, "options", ptr, maxOptions)
	if le != nil {
		return le
	}
	values := map[any]bool{}
	for j, o := range opts {
		p := fmt.Sprintf("%s/options/%d", ptr, j)
		if le := checkOption(o, p); le != nil {
			return le
		}
		// value: "A unique string value".
		v := o.(map[string]any)["value"]
		if values[v] {
			return at("duplicate option value", p+"/value")
		}
		values[v] = true
	}
	var chosen []any
	if initial == "initial_option" {
		if o, has, le := object(m, initial, ptr); le != nil {
			return le
		} else if has {
			chosen = []any{o}
		}
	} else if chosen, _, le = array(m, initial, ptr); le != nil {
		return le
	}
	for j, o := range chosen {
		p := ptr + "/" + initial
		if initial == "initial_options" {
			p = fmt.Sprintf("%s/%d", p, j)
		}
		if le := checkOption(o, p); le != nil {
			return le
		}
		// "exactly matches one or more of the options within options".
		if !slices.ContainsFunc(opts, func(x any) bool { return reflect.DeepEqual(x, o) }) {
			return at("must match one of the options", p)
		}
	}
	return nil
}

func checkOption(o any, p string) *limitError {
	om, isMap := o.(map[string]any)
	if !isMap {
		return at("must provide an object", p)
	}
	return first(
		func() *limitError { return onlyFields(om, p, "text", "value", "description") },
		func() *limitError { return text(om, "text", p, true, anyText, maxOptionText) },
		func() *limitError { return str(om, "value", p, true, 1, maxOptionValue) },
		func() *limitError { return text(om, "description", p, false, anyText, maxOptionDescription) })
}

// assignBlockIDs gives each block without a block_id a random one, as Slack does, so
// clicks always carry a string block_id.
func assignBlockIDs(blocks []any) {
	for _, b := range blocks {
		if m, isMap := b.(map[string]any); isMap {
			if _, has := m["block_id"].(string); !has {
				m["block_id"] = randHex(3)
			}
		}
	}
}

// checkView validates a modal view object (views.open/push/update, response_action)
// against reference/views/modal-views; refusals name pointers under base.
func (s *Server) checkView(raw json.RawMessage, base string) (map[string]any, *limitError) {
	if len(raw) > maxViewBytes {
		return nil, &limitError{"view_too_large", fmt.Sprintf("view exceeds %d bytes [json-pointer:%s]", maxViewBytes, base)}
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil || v == nil {
		return nil, &limitError{"invalid_arguments", "view must be an object [json-pointer:" + base + "]"}
	}
	if le := s.viewRules(v, base); le != nil {
		if le.err == "invalid_blocks" {
			le.err = s.as.ErrViewInvalid
		}
		return nil, le
	}
	blocks, _ := v["blocks"].([]any)
	assignBlockIDs(blocks)
	return v, nil
}

func (s *Server) viewRules(v map[string]any, base string) *limitError {
	typ, hasType := v["type"]
	switch {
	case !hasType:
		return missing(base, "type")
	case typ != "modal":
		return at("type must be modal", base+"/type")
	}
	if le := first(
		func() *limitError {
			return onlyFields(v, base, "type", "title", "blocks", "close", "submit", "private_metadata", "callback_id",
				"clear_on_close", "notify_on_close", "external_id", "submit_disabled")
		},
		func() *limitError { return text(v, "title", base, true, plainOnly, maxModalTitle) },
		func() *limitError { return text(v, "close", base, false, plainOnly, maxModalTitle) },
		func() *limitError { return text(v, "submit", base, false, plainOnly, maxModalTitle) },
		func() *limitError { return boolean(v, "clear_on_close", base) },
		func() *limitError { return boolean(v, "notify_on_close", base) },
		func() *limitError { return boolean(v, "submit_disabled", base) },
	); le != nil {
		return le
	}
	if le := first(
		func() *limitError { return str(v, "private_metadata", base, false, 0, maxPrivateMetadata) },
		func() *limitError { return str(v, "callback_id", base, false, 0, maxID) },
		func() *limitError { return str(v, "external_id", base, false, 0, maxID) },
	); le != nil {
		return le
	}
	blocks, has, le := array(v, "blocks", base)
	switch {
	case le != nil:
		return le
	case !has:
		return missing(base, "blocks")
	}
	if le := s.checkBlocks(blocks, maxModalBlocks, base+"/blocks"); le != nil {
		return le
	}
	for _, b := range blocks {
		if m, _ := b.(map[string]any); m["type"] == "input" && v["submit"] == nil {
			return at("submit is required when blocks contain an input", base+"/submit")
		}
	}
	return nil
}

// BlockKitError is a refusal by CheckMessageBlocks or CheckView: Slack's error name
// and the detail it puts in "errors" (with the JSON pointer).
type BlockKitError struct{ Err, Detail string }

func (e *BlockKitError) Error() string { return e.Err + ": " + e.Detail }

// CheckMessageBlocks applies the rules the emulator applies to every message's
// blocks (chat.postMessage, chat.update, chat.postEphemeral, response_url, slash
// command ack payloads), with the default assumptions.
func CheckMessageBlocks(raw json.RawMessage) error {
	blocks, le := parseBlocks(string(raw))
	if le == nil {
		le = (&Server{as: DefaultAssumptions()}).checkBlocks(blocks, maxMessageBlocks, "/blocks")
	}
	if le != nil {
		return &BlockKitError{le.err, le.detail}
	}
	return nil
}

// CheckView applies the rules the emulator applies to every modal view
// (views.open, views.push, views.update, view_submission update/push acks), with
// the default assumptions.
func CheckView(raw json.RawMessage) error {
	if _, le := (&Server{as: DefaultAssumptions()}).checkView(raw, "/view"); le != nil {
		return &BlockKitError{le.err, le.detail}
	}
	return nil
}
