package blocks

import (
	"github.com/slack-go/slack"
)

// Limits this package renders within (slack-wire §5).
const (
	maxSectionText  = 3000
	maxFieldText    = 2000
	maxHeaderText   = 150
	maxButtonText   = 75
	maxFallbackText = 4000 // chat.update refuses more (msg_too_long)
	maxConfirmTitle = 100
	maxConfirmText  = 300
	maxConfirmBtn   = 30
	maxOptionText   = 75
	maxModalTitle   = 24
	maxInputLabel   = 2000
	maxHintText     = 2000
)

// Message is a rendered channel, thread, DM or ephemeral message.
type Message struct {
	// Text is the notification and screen-reader fallback. It is mrkdwn
	// for Slack, so user text in it is escaped too.
	Text   string        `json:"text"`
	Blocks []slack.Block `json:"blocks"`
}

// MsgOptions are the options for chat.postMessage / chat.update /
// chat.postEphemeral. Text is already escaped, so slack-go must not escape
// it again; no link_names, so nothing in it is auto-mentioned.
func (m Message) MsgOptions() []slack.MsgOption {
	return []slack.MsgOption{slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...)}
}

func newMessage(text string, blocks ...slack.Block) Message {
	return Message{Text: clip(text, maxFallbackText), Blocks: blocks}
}

// Button labels, exactly as DESIGN §8 names them.
const (
	LabelApprove = "Approve"
	LabelReject  = "Reject"
	LabelCancel  = "Cancel"
	LabelAbort   = "Abort"
	LabelPause   = "Pause"
	LabelResume  = "Resume"
	LabelRestore = "Restore"
	LabelRetry   = "Retry"
	LabelRecheck = "Re-check"
	LabelPurge   = "Purge deleted objects"
	// LabelClosed is what a closed request's card says.
	LabelClosed = "Closed"
	// LabelDeny is the deny button of every confirmation dialog.
	LabelDeny = "Cancel"
)

func button(actionID, label string, v Value) *slack.ButtonBlockElement {
	return slack.NewButtonBlockElement(actionID, v.String(), plain(label, maxButtonText))
}

// confirm builds a confirmation dialog whose confirm button repeats the
// button's own label and whose deny button says LabelDeny. Slack's reference
// (composition-objects/confirmation-dialog-object) marks title, text, confirm
// and deny all Required and plain_text; slack-go's deny is omitempty, so a nil
// deny would be dropped and Slack would refuse the message (invalid_blocks).
// The text is plain_text, so user text in it needs no escaping.
func confirm(title, text, yes string) *slack.ConfirmationBlockObject {
	return slack.NewConfirmationBlockObject(
		plain(title, maxConfirmTitle), plain(text, maxConfirmText), plain(yes, maxConfirmBtn), plain(LabelDeny, maxConfirmBtn))
}

func section(blockID, text string) *slack.SectionBlock {
	return slack.NewSectionBlock(md(text), nil, nil, slack.SectionBlockOptionBlockID(blockID))
}

func contextBlock(blockID string, texts ...string) *slack.ContextBlock {
	els := make([]slack.MixedElement, 0, len(texts))
	for _, t := range texts {
		if t != "" {
			els = append(els, md(t))
		}
	}
	return slack.NewContextBlock(blockID, els...)
}

func actions(blockID string, els ...*slack.ButtonBlockElement) *slack.ActionBlock {
	be := make([]slack.BlockElement, 0, len(els))
	for _, e := range els {
		be = append(be, e)
	}
	return slack.NewActionBlock(blockID, be...)
}
