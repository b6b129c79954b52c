package blocks

import "github.com/slack-go/slack"

// Block id of a modal that only says something.
const BlockModalNote = "modal_note"

// NoteModal is a modal that only says something (no inputs, no submit):
// opened at once inside a click's 3 s trigger while closebot reads the
// tenant again, then updated to the approval modal or to why not.
func NoteModal(title, text string) slack.ModalViewRequest {
	return slack.ModalViewRequest{
		Type:   slack.VTModal,
		Title:  plain(title, maxModalTitle),
		Close:  plain("Close", maxModalTitle),
		Blocks: slack.Blocks{BlockSet: []slack.Block{section(BlockModalNote, escClip(text, 2900))}},
	}
}
