package slacktest

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Block Kit limits as Slack documents them (sources in FIDELITY.md).
const (
	maxMessageBlocks   = 50
	maxModalBlocks     = 100
	maxSectionText     = 3000
	maxSectionFields   = 10
	maxFieldText       = 2000
	maxHeaderText      = 150
	maxID              = 255 // block_id, action_id, callback_id, external_id
	maxButtonText      = 75
	maxButtonValue     = 2000
	maxButtonURL       = 3000
	maxActionsElements = 25
	maxContextElements = 10
	maxConfirmTitle    = 100
	maxConfirmText     = 300
	maxConfirmButton   = 30
	maxMarkdownBlock   = 12000
	maxModalTitle      = 24 // also submit and close
	maxPrivateMetadata = 3000
	maxMessageText     = 40000
	maxUpdateText      = 4000
	maxViewBytes       = 250 * 1024
	maxInputLabel      = 2000
	maxOptions         = 10 // checkboxes / radio buttons
)

// limitError is a refusal: Slack's error name plus the detail it puts in "errors".
type limitError struct{ err, detail string }

func tooLong(err string, limit int, ptr string) *limitError {
	return &limitError{err, fmt.Sprintf("must be less than %d characters [json-pointer:%s]", limit+1, ptr)}
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// parseBlocks decodes a blocks parameter; Slack answers invalid_blocks on bad JSON.
func parseBlocks(raw string) ([]any, *limitError) {
	var v []any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return nil, &limitError{"invalid_blocks", "blocks must be a JSON array [json-pointer:/blocks]"}
	}
	return v, nil
}

// textObject returns the type and text of a composition text object.
func textObject(v any) (typ, text string, ok bool) {
	m, isMap := v.(map[string]any)
	if !isMap {
		return "", "", false
	}
	typ, _ = m["type"].(string)
	text, _ = m["text"].(string)
	return typ, text, typ == "plain_text" || typ == "mrkdwn"
}

func checkText(v any, limit int, ptr string, plainOnly bool) *limitError {
	typ, text, ok := textObject(v)
	if !ok || (plainOnly && typ != "plain_text") {
		return &limitError{"invalid_blocks", "must be a valid text object [json-pointer:" + ptr + "]"}
	}
	if runes(text) > limit {
		return tooLong("invalid_blocks", limit, ptr+"/text")
	}
	return nil
}

// checkSectionText is checkText plus the 1-character minimum of section text and fields.
func checkSectionText(v any, limit int, ptr string) *limitError {
	if le := checkText(v, limit, ptr, false); le != nil {
		return le
	}
	if _, text, _ := textObject(v); text == "" {
		return &limitError{"invalid_blocks", "must be more than 0 characters [json-pointer:" + ptr + "/text]"}
	}
	return nil
}

// checkBlocks validates a message's or a modal's blocks.
func (s *Server) checkBlocks(blocks []any, maxBlocks int, base string) *limitError {
	if len(blocks) > maxBlocks {
		return &limitError{s.as.ErrTooManyBlocks, fmt.Sprintf("no more than %d items allowed [json-pointer:%s]", maxBlocks, base)}
	}
	seen := map[string]bool{}
	for i, b := range blocks {
		ptr := fmt.Sprintf("%s/%d", base, i)
		m, isMap := b.(map[string]any)
		typ, _ := m["type"].(string)
		if !isMap || typ == "" {
			return &limitError{"invalid_blocks", "missing required field: type [json-pointer:" + ptr + "]"}
		}
		if id, has := m["block_id"].(string); has {
			if runes(id) > maxID {
				return tooLong("invalid_blocks", maxID, ptr+"/block_id")
			}
			if seen[id] {
				return &limitError{"invalid_blocks", "duplicate block_id [json-pointer:" + ptr + "/block_id]"}
			}
			seen[id] = true
		}
		if le := checkBlock(typ, m, ptr); le != nil {
			return le
		}
	}
	return nil
}

func checkBlock(typ string, m map[string]any, ptr string) *limitError {
	switch typ {
	case "section":
		fields, _ := m["fields"].([]any)
		if m["text"] == nil && len(fields) == 0 {
			return &limitError{"invalid_blocks", "must provide text or fields [json-pointer:" + ptr + "]"}
		}
		if m["text"] != nil {
			if le := checkSectionText(m["text"], maxSectionText, ptr+"/text"); le != nil {
				return le
			}
		}
		if len(fields) > maxSectionFields {
			return &limitError{"invalid_blocks", fmt.Sprintf("no more than %d items allowed [json-pointer:%s/fields]", maxSectionFields, ptr)}
		}
		for j, f := range fields {
			if le := checkSectionText(f, maxFieldText, fmt.Sprintf("%s/fields/%d", ptr, j)); le != nil {
				return le
			}
		}
		if acc, has := m["accessory"].(map[string]any); has {
			return checkElement(acc, ptr+"/accessory")
		}
	case "header":
		return checkText(m["text"], maxHeaderText, ptr+"/text", true)
	case "actions", "context":
		limit := maxActionsElements
		if typ == "context" {
			limit = maxContextElements
		}
		els, _ := m["elements"].([]any)
		if len(els) > limit {
			return &limitError{"invalid_blocks", fmt.Sprintf("no more than %d items allowed [json-pointer:%s/elements]", limit, ptr)}
		}
		actionIDs := map[string]bool{}
		for j, e := range els {
			if em, isMap := e.(map[string]any); isMap && typ == "actions" {
				if le := checkElement(em, fmt.Sprintf("%s/elements/%d", ptr, j)); le != nil {
					return le
				}
				// action_id must be unique within its block (Block Kit reference).
				if id, _ := em["action_id"].(string); id != "" {
					if actionIDs[id] {
						return &limitError{"invalid_blocks", fmt.Sprintf("duplicate action_id [json-pointer:%s/elements/%d/action_id]", ptr, j)}
					}
					actionIDs[id] = true
				}
			}
		}
	case "input":
		if le := checkText(m["label"], maxInputLabel, ptr+"/label", true); le != nil {
			return le
		}
		if el, has := m["element"].(map[string]any); has {
			return checkElement(el, ptr+"/element")
		}
		return &limitError{"invalid_blocks", "missing required field: element [json-pointer:" + ptr + "]"}
	case "markdown":
		if t, _ := m["text"].(string); runes(t) > maxMarkdownBlock {
			return tooLong("invalid_blocks", maxMarkdownBlock, ptr+"/text")
		}
	}
	return nil
}

func checkElement(m map[string]any, ptr string) *limitError {
	if id, _ := m["action_id"].(string); runes(id) > maxID {
		return tooLong("invalid_blocks", maxID, ptr+"/action_id")
	}
	switch m["type"] {
	case "button":
		if le := checkText(m["text"], maxButtonText, ptr+"/text", true); le != nil {
			return le
		}
		if v, _ := m["value"].(string); runes(v) > maxButtonValue {
			return tooLong("invalid_blocks", maxButtonValue, ptr+"/value")
		}
		if u, _ := m["url"].(string); runes(u) > maxButtonURL {
			return tooLong("invalid_blocks", maxButtonURL, ptr+"/url")
		}
	case "checkboxes", "radio_buttons":
		if opts, _ := m["options"].([]any); len(opts) > maxOptions {
			return &limitError{"invalid_blocks", fmt.Sprintf("no more than %d items allowed [json-pointer:%s/options]", maxOptions, ptr)}
		}
	}
	if c, has := m["confirm"].(map[string]any); has {
		for _, f := range []struct {
			key   string
			limit int
			plain bool
		}{{"title", maxConfirmTitle, true}, {"text", maxConfirmText, false}, {"confirm", maxConfirmButton, true}, {"deny", maxConfirmButton, true}} {
			if c[f.key] == nil {
				continue
			}
			if le := checkText(c[f.key], f.limit, ptr+"/confirm/"+f.key, f.plain); le != nil {
				return le
			}
		}
	}
	return nil
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

// checkView validates a modal view object (views.open/push/update, response_action).
func (s *Server) checkView(raw json.RawMessage, base string) (map[string]any, *limitError) {
	if len(raw) > maxViewBytes {
		return nil, &limitError{"view_too_large", fmt.Sprintf("view exceeds %d bytes [json-pointer:%s]", maxViewBytes, base)}
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil || v == nil {
		return nil, &limitError{"invalid_arguments", "view must be an object [json-pointer:" + base + "]"}
	}
	inv := s.as.ErrViewInvalid
	if v["type"] != "modal" {
		return nil, &limitError{inv, "type must be modal [json-pointer:" + base + "/type]"}
	}
	if v["title"] == nil {
		return nil, &limitError{inv, "missing required field: title [json-pointer:" + base + "]"}
	}
	for _, k := range []string{"title", "submit", "close"} {
		if v[k] == nil {
			continue
		}
		if le := checkText(v[k], maxModalTitle, base+"/"+k, true); le != nil {
			le.err = inv
			return nil, le
		}
	}
	if pm, _ := v["private_metadata"].(string); runes(pm) > maxPrivateMetadata {
		return nil, tooLong(inv, maxPrivateMetadata, base+"/private_metadata")
	}
	for _, k := range []string{"callback_id", "external_id"} {
		if id, _ := v[k].(string); runes(id) > maxID {
			return nil, tooLong(inv, maxID, base+"/"+k)
		}
	}
	blocks, _ := v["blocks"].([]any)
	if le := s.checkBlocks(blocks, maxModalBlocks, base+"/blocks"); le != nil {
		if le.err == "invalid_blocks" {
			le.err = inv
		}
		return nil, le
	}
	for _, b := range blocks {
		if m, _ := b.(map[string]any); m["type"] == "input" && v["submit"] == nil {
			return nil, &limitError{inv, "submit is required when blocks contain an input [json-pointer:" + base + "/submit]"}
		}
	}
	assignBlockIDs(blocks)
	return v, nil
}
