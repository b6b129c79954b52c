package blocks

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/closebot/closebot/closure"
)

// Block ids of event replies, requester DMs, reminders and config notices.
const (
	BlockEvent      = "event"
	BlockEventAudit = "event_audit"
	BlockAnnounce   = "announce"
)

// Budgets of the one-line messages (runes).
const (
	maxLineText   = 2900 // an event line's section and audit context
	maxLineFallbk = 3900 // an event line's fallback text
	maxUserText   = 1500 // a reason or a failure quoted in a line
	maxDomainText = 300  // a tenant domain quoted in a line
)

// EventView is one audit event of a request, with what its thread reply
// says about it: the counts are the request's after the event.
type EventView struct {
	RequestID string
	Action    closure.EventAction
	Actor     string            // Slack user id, or "" / "closebot"
	Detail    map[string]string // the event's detail (user text, escaped here)

	Approvals     int // approvals that still count, after an approval
	Confirmations int // step 5 confirmations, after a confirmation
	Required      int // approvals (and confirmations) required

	RejectReason string // the request's, after a rejection
	FailReason   string // the request's, after a failed step

	Seq uint64 // the event's audit sequence number and MAC
	MAC string
}

// EventLine is what a thread reply says about the event (mrkdwn: user text
// is escaped, people are Mention of validated ids), or false for events the
// step, gate or card messages already show.
func EventLine(v EventView) (string, bool) {
	who := "closebot"
	if v.Actor != "" && v.Actor != "closebot" {
		who = Mention(v.Actor)
	}
	detail := func(k string) string { return escClipLine(v.Detail[k], maxUserText) }
	switch v.Action {
	case closure.EvApprove:
		return fmt.Sprintf("%s approved (%d of %d).", who, v.Approvals, v.Required), true
	case closure.EvReject:
		return fmt.Sprintf("%s rejected the request: %s", who, escClipLine(v.RejectReason, maxUserText)), true
	case closure.EvCancel:
		return who + " cancelled the request.", true
	case closure.EvPause:
		if v.Detail["why"] != "" {
			return who + " paused the closure: " + detail("why"), true
		}
		return who + " paused the closure.", true
	case closure.EvResume:
		return who + " resumed the closure.", true
	case closure.EvAbort:
		return who + " aborted the closure.", true
	case closure.EvRetry:
		return who + " asked to retry.", true
	case closure.EvConfirm:
		return fmt.Sprintf("%s approved step 5's point of no return (%d of %d).", who, v.Confirmations, v.Required), true
	case closure.EvPurge:
		return who + " asked to purge this request's deleted objects.", true
	case closure.EvRestore:
		return who + " asked to restore the deleted users.", true
	case closure.EvAttest:
		s := closure.Sentences[v.Detail["sentence"]]
		if s == "" {
			return who + " attested.", true
		}
		return fmt.Sprintf("%s attested “%s”.", who, Escape(s)), true
	case closure.EvExpire:
		return "The request expired without enough approvals.", true
	case closure.EvProofStart:
		return "The kept admin was sent a sign-in code by DM; nothing is deleted before their proof.", true
	case closure.EvProofPassed:
		return "The kept admin proved their sign-in with MFA; the abort window is open.", true
	case closure.EvProofFailed:
		return "The kept admin's sign-in proof failed: " + detail("why") + ". Approve again to retry.", true
	case closure.EvStepsStart:
		return "The abort window ended and the plan still matches: the steps start.", true
	case closure.EvDrift:
		var lines []string
		for i := 1; v.Detail["change."+fmt.Sprint(i)] != ""; i++ {
			lines = append(lines, "• "+detail("change."+fmt.Sprint(i)))
		}
		return "The plan changed since it was approved; the request is pending again:\n" + strings.Join(lines, "\n"), true
	case closure.EvStuck:
		return "A manual gate is long past its ETA: the request is stuck. Open a Microsoft support case and attach `closebot audit export " + Escape(v.RequestID) + "`.", true
	case closure.EvStepFailed:
		return "A step failed: " + escClipLine(v.FailReason, maxUserText), true
	case closure.EvSyncOff:
		return "closebot turned directory sync off (it was " + detail("previous") + ").", true
	case closure.EvRestoreDone:
		return "closebot restored the users this request deleted.", true
	case closure.EvPurgeDone:
		if v.Detail["note"] != "" && v.Detail["purged"] == "0" {
			return "closebot purged nothing: " + detail("note") + ".", true
		}
		return "closebot purged this request's deleted objects.", true
	case closure.EvWriteGranted:
		return "closebot's app holds its write access for this closure (" + detail("granted") + "), read from a token issued now: step 1 writes.", true
	}
	return "", false
}

// Event is the thread reply mirroring the event, with its seq and mac, or
// false when EventLine has nothing to say about it.
func Event(v EventView) (Message, bool) {
	line, ok := EventLine(v)
	if !ok {
		return Message{}, false
	}
	return auditedLine(v.RequestID, line, v.Seq, v.MAC), true
}

// escClipLine escapes s clipped to n runes (clipped first, as the lines
// always did).
func escClipLine(s string, n int) string { return Escape(clip(s, n)) }

// auditedLine is a one-line message (line is mrkdwn, already escaped) with
// the request's "CT-n · #seq · mac xxxxxxxx" under it.
func auditedLine(reqID, line string, seq uint64, mac string) Message {
	audit := fmt.Sprintf("%s · #%d · mac %s", Escape(reqID), seq, MACPrefix(mac))
	return Message{
		Text: clip(Escape(reqID)+": "+line, maxLineFallbk),
		Blocks: []slack.Block{
			slack.NewSectionBlock(md(clip(line, maxLineText)), nil, nil, slack.SectionBlockOptionBlockID(BlockEvent)),
			slack.NewContextBlock(BlockEventAudit, md(clip(audit, maxLineText))),
		},
	}
}

// RequesterDMView is a request that ended (or failed), for its requester.
type RequesterDMView struct {
	RequestID    string
	TenantDomain string
	To           closure.State // the state it moved to
	RejectReason string
	FailReason   string
	Channel      string // the request's channel; linked when it is a channel id
	Seq          uint64 // the event that moved it
	MAC          string
}

var channelPattern = regexp.MustCompile(`^[CG][A-Z0-9]{2,20}$`)

// RequesterDM tells the requester their request ended (or failed).
func RequesterDM(v RequesterDMView) Message {
	line := fmt.Sprintf("Your request %s to close %s is now *%s*.", Escape(v.RequestID),
		escClipLine(v.TenantDomain, maxDomainText), StateLabel(v.To))
	switch v.To {
	case closure.StateRejected:
		line += " Reason: " + escClipLine(v.RejectReason, maxUserText)
	case closure.StateFailed:
		line += " " + escClipLine(v.FailReason, maxUserText) + " An approver may Retry; anyone may Abort."
	}
	if channelPattern.MatchString(v.Channel) {
		line += " See the thread in <#" + v.Channel + ">."
	}
	return auditedLine(v.RequestID, line, v.Seq, v.MAC)
}

// ReminderView is an open gate whose assignee is reminded.
type ReminderView struct {
	RequestID    string
	TenantDomain string
	Assignee     string // Slack user id; anything else reads "The kept admin"
	Step         int
	GateTitle    string // closure.InstructionFor(gate).Title
	OpenedAt     time.Time
	Seq          uint64 // the request's newest audit event
	MAC          string
}

// Reminder is the daily reminder of an open gate (thread reply and DM).
func Reminder(v ReminderView) Message {
	who := "The kept admin"
	if ValidUserID(v.Assignee) {
		who = Mention(v.Assignee)
	}
	line := fmt.Sprintf("Reminder: %s, step %d's gate “%s” of %s (%s) is still open since %s. The instructions are in the thread; press Re-check when done.",
		who, v.Step, Escape(v.GateTitle), Escape(v.RequestID), escClipLine(v.TenantDomain, maxDomainText), Date(v.OpenedAt))
	return auditedLine(v.RequestID, line, v.Seq, v.MAC)
}

// ConfigChanges is the channel notice of what changed in the authorisation
// config since closebot last ran (lines from config.DiffSnapshots). Slack
// ids in the lines become mentions; every other word is escaped.
func ConfigChanges(lines []string) Message {
	var b strings.Builder
	b.WriteString("*Since closebot last ran:*")
	budget := 2800
	for i, l := range lines {
		item := "\n• " + mentionIDs(l)
		if b.Len()+len(item) > budget {
			fmt.Fprintf(&b, "\n+%d more (see `closebot config check`)", len(lines)-i)
			break
		}
		b.WriteString(item)
	}
	text := "Since closebot last ran: " + escClipLine(strings.Join(lines, "; "), 3000)
	return Message{Text: text, Blocks: []slack.Block{
		slack.NewSectionBlock(md(clip(b.String(), maxLineText)), nil, nil, slack.SectionBlockOptionBlockID(BlockAnnounce)),
	}}
}

// mentionIDs escapes a config line word by word, turning valid Slack user
// and group ids into mentions.
func mentionIDs(line string) string {
	words := strings.Split(line, " ")
	for i, w := range words {
		core := strings.TrimRight(w, ",;:")
		if ValidUserID(core) || ValidGroupID(core) {
			words[i] = Mention(core) + Escape(w[len(core):])
			continue
		}
		words[i] = Escape(w)
	}
	return strings.Join(words, " ")
}
