package blocks

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/closebot/closebot/closure"
)

// Block ids of the closing summary.
const (
	BlockSummaryHead   = "summary_head"
	BlockSummarySteps  = "summary_steps"
	BlockSummaryPeople = "summary_people"
	BlockSummaryAudit  = "summary_audit"
)

// SummaryView is the closing summary: closure's Summary plus the tenant id.
type SummaryView struct {
	closure.Summary
	TenantID string
}

// ClosingSummary renders the summary posted when the tenant is gone:
// durations, counts, who did what, and the audit chain head.
func ClosingSummary(v SummaryView) Message {
	s := v.Summary
	head := fmt.Sprintf("*%s · %s*: tenant %s", Escape(s.Request), LabelClosed, escClip(s.Tenant, 300))
	if v.TenantID != "" {
		head += " (" + escClip(v.TenantID, 64) + ")"
	}
	head += fmt.Sprintf(" no longer exists. Took %s, from %s to %s.", duration(s.Duration), Date(s.Opened), Date(s.Closed))

	var steps strings.Builder
	steps.WriteString("*Steps*")
	for i := range closure.NumSteps {
		fmt.Fprintf(&steps, "\n%d. %s: %s done · %s", i+1, closure.StepNames[i], count(s.StepCounts[i]), duration(s.StepDurations[i]))
	}

	people := []string{"Requested by " + Mention(s.Requester) + "."}
	if len(s.Approvers) > 0 {
		people = append(people, "Approved by "+mentions(s.Approvers)+".")
	}
	if len(s.Confirmers) > 0 {
		people = append(people, "Step 5's point of no return approved by "+mentions(s.Confirmers)+".")
	}
	people = append(people, attestedLines(attestationViews(s.Attestations)))

	bs := []slack.Block{
		section(BlockSummaryHead, head),
		section(BlockSummarySteps, steps.String()),
		section(BlockSummaryPeople, strings.TrimSpace(strings.Join(people, "\n"))),
		contextBlock(BlockSummaryAudit, fmt.Sprintf("Audit chain head %s · check with `closebot audit verify`, export with `closebot audit export %s`",
			chainHead(s.ChainHead), Escape(s.Request))),
	}
	text := fmt.Sprintf("%s · %s: tenant %s no longer exists (took %s)", Escape(s.Request), LabelClosed, Escape(s.Tenant), duration(s.Duration))
	return newMessage(text, bs...)
}

func chainHead(ev closure.Event) string {
	if ev.Seq == 0 {
		return "unknown"
	}
	return auditRef(ev.Seq, ev.MAC)
}

func attestationViews(as []closure.Attestation) []AttestationView {
	out := make([]AttestationView, 0, len(as))
	for _, a := range as {
		out = append(out, AttestationView{Sentence: a.Sentence, By: a.By, At: a.At})
	}
	return out
}
