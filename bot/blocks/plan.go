package blocks

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"
)

// BlockPlanDetail prefixes the blocks of the full plan's thread messages.
const BlockPlanDetail = "plan_"

const planBlocksPerMessage = 40

// PlanDetail renders the full plan for the card's thread: every item of
// every group, as many messages as Slack's limits need.
func PlanDetail(requestID string, groups []ItemGroup) []Message {
	var sections []string
	for _, g := range groups {
		total := max(g.Total, len(g.Items))
		lines := []string{fmt.Sprintf("*%s* (%s)", escClip(g.Title, 100), count(total))}
		for _, it := range g.Items {
			lines = append(lines, "• "+escClip(it, 300))
		}
		if rest := total - len(g.Items); rest > 0 {
			lines = append(lines, fmt.Sprintf("+%s more (see `closebot plan`)", count(rest)))
		}
		sections = append(sections, chunkLines(strings.Join(lines, "\n"), maxChunk)...)
	}
	var out []Message
	for i := 0; i < len(sections); i += planBlocksPerMessage {
		part := sections[i:min(i+planBlocksPerMessage, len(sections))]
		bs := make([]slack.Block, 0, len(part))
		for j, s := range part {
			bs = append(bs, section(fmt.Sprintf("%s%d", BlockPlanDetail, i+j), s))
		}
		out = append(out, newMessage(fmt.Sprintf("%s · full plan (part %d)", Escape(requestID), len(out)+1), bs...))
	}
	if len(out) == 0 {
		out = append(out, Notice(requestID+" · the plan deletes nothing."))
	}
	return out
}
