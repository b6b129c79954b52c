package blocks

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/closebot/closebot/closure"
)

// StepView is one step's thread message, edited in place as it advances.
type StepView struct {
	RequestID string
	Version   uint64
	// State is the request's: step 5's buttons show only where the domain
	// accepts them (closure.Offers).
	State     closure.State
	Step      int // 1-5
	Status    closure.StepStatus
	Done      int
	Total     int
	Refused   int
	Note      string // result line; may name objects (user text)
	StartedAt time.Time
	// FinishedAt is set once the step is done or failed.
	FinishedAt time.Time

	// Seq and MAC are the audit event this edit mirrors.
	Seq uint64
	MAC string

	// Step 5's point of no return: the apps and service principals it will
	// delete, and the fresh approvals so far.
	AwaitingConfirmation bool
	Apps                 int
	ServicePrincipals    int
	Confirmations        []string // user ids
	Required             int
	// Purge offers "Purge deleted objects" at the step-5 gate.
	Purge bool
}

// statusWord is a step status in words; statusLabel adds an emoji code.
func statusWord(s closure.StepStatus) string {
	switch s {
	case closure.StepWaiting:
		return "waiting at a manual gate"
	case closure.StepPending, closure.StepRunning, closure.StepDone, closure.StepFailed:
		return string(s)
	}
	return Escape(string(s))
}

func statusLabel(s closure.StepStatus) string {
	emoji := map[closure.StepStatus]string{
		closure.StepPending: ":white_circle:", closure.StepRunning: ":arrows_counterclockwise:",
		closure.StepWaiting: ":raised_hand:", closure.StepDone: ":white_check_mark:", closure.StepFailed: ":x:",
	}[s]
	if emoji == "" {
		return statusWord(s)
	}
	return emoji + " " + statusWord(s)
}

// Step renders a step's thread message.
func Step(v StepView) Message {
	title := fmt.Sprintf("Step %d of %d · %s", v.Step, closure.NumSteps, stepName(v.Step))
	lines := []string{fmt.Sprintf("*%s*: %s", title, statusLabel(v.Status))}
	if c := stepCounters(v); c != "" {
		lines = append(lines, c)
	}
	if v.Note != "" {
		lines = append(lines, escClip(v.Note, 2000))
	}
	bs := []slack.Block{section(BlockStepStatus, strings.Join(lines, "\n"))}
	var btns []*slack.ButtonBlockElement
	val := Value{Request: v.RequestID, Version: v.Version}
	if v.Step == closure.StepDeleteDirectory && v.AwaitingConfirmation && closure.Offers(closure.ActConfirm, v.State) {
		bs = append(bs, section(BlockStepConfirm, fmt.Sprintf(
			"*Point of no return*: deleting %s app %s and %s service %s owned by this tenant. "+
				"Needs %d fresh %s from approvers other than the requester: *%d of %d*%s.",
			count(v.Apps), plural(v.Apps, "registration", "registrations"),
			count(v.ServicePrincipals), plural(v.ServicePrincipals, "principal", "principals"),
			v.Required, plural(v.Required, "approval", "approvals"), len(v.Confirmations), v.Required, approvedBy(v.Confirmations))))
		btns = append(btns, button(ActionConfirmStep5, LabelApprove, val).WithStyle(slack.StylePrimary).WithConfirm(confirm(
			"Delete the apps of "+v.RequestID+"?",
			fmt.Sprintf("%d app registrations and %d service principals owned by this tenant are deleted after a fresh plan check. This cannot be undone.",
				v.Apps, v.ServicePrincipals),
			LabelApprove)))
	}
	if v.Step == closure.StepDeleteDirectory && v.Purge && closure.Offers(closure.ActPurge, v.State) {
		btns = append(btns, button(ActionPurge, LabelPurge, val).WithStyle(slack.StyleDanger).WithConfirm(confirm(
			"Purge deleted objects?",
			"Permanently deletes the users and apps "+v.RequestID+" deleted, so the portal's tenant deletion can go ahead. They can no longer be restored.",
			LabelPurge)))
	}
	if len(btns) > 0 {
		bs = append(bs, actions(BlockStepActions, btns...))
	}
	if ref := auditRef(v.Seq, v.MAC); ref != "" {
		bs = append(bs, contextBlock(BlockStepAudit, v.RequestID+" · "+ref))
	}
	text := fmt.Sprintf("%s · %s: %s", v.RequestID, title, statusWord(v.Status))
	return newMessage(text, bs...)
}

func stepCounters(v StepView) string {
	var parts []string
	if v.Total > 0 || v.Done > 0 {
		parts = append(parts, fmt.Sprintf("%s of %s done", count(v.Done), count(v.Total)))
	}
	if v.Refused > 0 {
		parts = append(parts, fmt.Sprintf("%s refused", count(v.Refused)))
	}
	if !v.StartedAt.IsZero() && !v.FinishedAt.IsZero() {
		parts = append(parts, "took "+duration(v.FinishedAt.Sub(v.StartedAt)))
	} else if !v.StartedAt.IsZero() {
		parts = append(parts, "started "+Date(v.StartedAt))
	}
	return strings.Join(parts, " · ")
}

func approvedBy(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return " (" + mentions(ids) + ")"
}
