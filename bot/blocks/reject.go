package blocks

import (
	"strings"

	"github.com/slack-go/slack"
)

// The reject modal: Reject needs a reason (DESIGN §2).
const (
	CallbackReject     = "reject_closure"
	BlockRejectIntro   = "reject_intro"
	BlockRejectReason  = "reject_reason"
	ActionRejectReason = "reason"
)

// RejectModal asks an approver why they reject; private_metadata pins the
// request as the approval modal's does.
func RejectModal(m Metadata) slack.ModalViewRequest {
	return slack.ModalViewRequest{
		Type:   slack.VTModal,
		Title:  plain("Reject "+m.Request, maxModalTitle),
		Submit: plain(LabelReject, maxModalTitle),
		Close:  plain("Back", maxModalTitle),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			section(BlockRejectIntro, "Rejecting *"+escClip(m.Request, 20)+"* ends the request; the requester is told your reason."),
			slack.NewInputBlock(BlockRejectReason, plain("Reason", maxInputLabel), nil,
				slack.NewPlainTextInputBlockElement(plain("e.g. wrong tenant, see OPS-1234", 150), ActionRejectReason).
					WithMultiline(true).WithMinLength(3).WithMaxLength(1000)),
		}},
		PrivateMetadata: m.String(),
		CallbackID:      CallbackReject,
	}
}

// ValidateReject returns the typed reason, or inline errors.
func ValidateReject(values map[string]map[string]slack.BlockAction) (string, map[string]string) {
	reason := strings.TrimSpace(values[BlockRejectReason][ActionRejectReason].Value)
	if len([]rune(reason)) < 3 {
		return "", map[string]string{BlockRejectReason: "Say why you reject the request."}
	}
	return reason, nil
}
