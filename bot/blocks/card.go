package blocks

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/closebot/closebot/closure"
)

// CardView is what the request card shows; the bot fills it from the
// stored request, its plan and the config.
type CardView struct {
	RequestID    string
	Version      uint64
	PlanDigest   string
	TenantDomain string // initial *.onmicrosoft.com domain (config)
	TenantID     string
	TenantName   string // display name from Graph: user text
	Requester    string // Slack user id
	Reason       string // user text
	State        closure.State
	CreatedAt    time.Time
	ExpiresAt    time.Time
	// Now decides whether Restore is still offered; the bot passes its clock.
	Now time.Time

	// Summary is the plan in counts (e.g. 1,234 users to delete); Top the
	// first items of each kind with their totals; the full plan goes in the
	// thread (PlanDetail).
	Summary  []Line
	Top      []ItemGroup
	Warnings []Warning
	// DriftLines say why the request went back to pending.
	DriftLines []string

	Approvers []string // slack.approvers entries: U…/W… users, S… groups
	Approvals []string // user ids that approved in this round
	Required  int

	Step            int           // current step (1-5)
	PausedFrom      closure.State // for paused
	WindowEndsAt    time.Time     // waiting_window
	ProofError      string        // proving: why the last proof failed
	RejectReason    string        // user text
	RejectedBy      string        // user id
	FailReason      string        // from Graph: user text
	RestoreDeadline time.Time
	RestoredAt      time.Time
	ClosedAt        time.Time
}

// Line is one count of the plan summary, e.g. {"users to delete", 1234,
// "1,100 members, 120 guests, 10 synced, 4 privileged"}.
type Line struct {
	Label  string
	Count  int
	Detail string
}

// ItemGroup is one kind of object with its first items by name (user
// text) and how many there are in all.
type ItemGroup struct {
	Title string
	Items []string
	Total int
}

// WarningKind names a warning the card explains in its own words.
type WarningKind string

// Warning kinds (DESIGN §2, §5).
const (
	WarnMultiTenantApps     WarningKind = "multi_tenant_apps"
	WarnBlockingCAPolicies  WarningKind = "blocking_ca_policies"
	WarnSecurityDefaults    WarningKind = "security_defaults"
	WarnSyncOn              WarningKind = "sync_on"
	WarnRestrictedUnits     WarningKind = "restricted_units"
	WarnEligibleGlobalAdmin WarningKind = "eligible_global_admins"
	WarnOther               WarningKind = "other" // Text, escaped
)

// Warning is one thing worth a human look; Items are names (user text),
// Total how many there are (the card shows a few and "+k more").
type Warning struct {
	Kind  WarningKind
	Items []string
	Total int
	Text  string // WarnOther only
}

const (
	topItems    = 5 // items shown per group on the card
	topGroups   = 8 // groups with their own section; the rest are folded
	cardWarnMax = 6 // items named per warning
)

// StateLabel is how a state reads on the card.
func StateLabel(s closure.State) string {
	switch s {
	case closure.StatePending:
		return "Pending approval"
	case closure.StateApproved:
		return "Approved"
	case closure.StateProving:
		return "Waiting for the kept admin's sign-in"
	case closure.StateWaitingWindow:
		return "Abort window"
	case closure.StateRunning:
		return "Running"
	case closure.StateGate:
		return "Waiting at a manual gate"
	case closure.StatePaused:
		return "Paused"
	case closure.StateFailed:
		return "Failed"
	case closure.StateStuck:
		return "Stuck"
	case closure.StateClosed:
		return LabelClosed
	case closure.StateRejected:
		return "Rejected"
	case closure.StateCancelled:
		return "Cancelled"
	case closure.StateExpired:
		return "Expired"
	case closure.StateAborted:
		return "Aborted"
	}
	return string(s)
}

// Card renders the request card.
func Card(v CardView) Message {
	bs := []slack.Block{
		slack.NewHeaderBlock(plain(cardTitle(v), maxHeaderText), slack.HeaderBlockOptionBlockID(BlockCardHeader)),
		cardFacts(v),
		section(BlockCardReason, "*Reason*\n"+escClip(v.Reason, 2500)),
		section(BlockCardState, cardState(v)),
	}
	if len(v.DriftLines) > 0 && v.State == closure.StatePending {
		bs = append(bs, section(BlockCardDrift, "*The plan changed since it was approved; approve again:*\n"+bulletList(v.DriftLines, 2800)))
	}
	if v.State != closure.StateClosed {
		bs = append(bs, slack.NewDividerBlock())
		bs = append(bs, section(BlockCardPlan, cardSummary(v.Summary)))
		bs = append(bs, cardTop(v.Top)...)
		if len(v.Warnings) > 0 {
			bs = append(bs, section(BlockCardWarnings, cardWarnings(v.Warnings)))
		}
	}
	if p := cardPeople(v); p != "" {
		bs = append(bs, section(BlockCardPeople, p))
	}
	if btns := cardButtons(v); len(btns) > 0 {
		bs = append(bs, actions(BlockCardActions, btns...))
	}
	bs = append(bs, contextBlock(BlockCardFooter, cardFooter(v)))
	text := fmt.Sprintf("%s · close tenant %s · %s", v.RequestID, Escape(v.TenantDomain), StateLabel(v.State))
	if v.State == closure.StatePending {
		text += fmt.Sprintf(" (%d of %d approvals)", len(v.Approvals), v.Required)
	}
	return newMessage(text, bs...)
}

func cardTitle(v CardView) string {
	if v.State == closure.StateClosed {
		return v.RequestID + " · " + LabelClosed + " · " + v.TenantDomain
	}
	return v.RequestID + " · Close tenant " + v.TenantDomain
}

func cardFacts(v CardView) *slack.SectionBlock {
	tenant := "*Tenant*\n"
	if v.TenantName != "" {
		tenant += escClip(v.TenantName, 200) + "\n"
	}
	tenant += escClip(v.TenantDomain, 300) + "\n" + escClip(v.TenantID, 64)
	fields := []*slack.TextBlockObject{
		md(tenant),
		md("*Requested by*\n" + Mention(v.Requester) + "\n" + Date(v.CreatedAt)),
		md("*State*\n" + StateLabel(v.State)),
	}
	if v.State == closure.StatePending && !v.ExpiresAt.IsZero() {
		fields = append(fields, md("*Expires*\n"+Date(v.ExpiresAt)))
	}
	return slack.NewSectionBlock(nil, fields, nil, slack.SectionBlockOptionBlockID(BlockCardFacts))
}

func stepName(n int) string {
	if n < 1 || n > closure.NumSteps {
		return ""
	}
	return closure.StepNames[n-1]
}

func stepRef(n int) string {
	if name := stepName(n); name != "" {
		return fmt.Sprintf("step %d of %d, %s", n, closure.NumSteps, name)
	}
	return "before the steps"
}

func cardState(v CardView) string {
	switch v.State {
	case closure.StatePending:
		s := fmt.Sprintf("*%s*: %d of %d approvals from approvers other than the requester.", StateLabel(v.State), len(v.Approvals), v.Required)
		if len(v.Approvals) > 0 {
			s += " Approved by " + mentions(v.Approvals) + "."
		}
		return s
	case closure.StateApproved:
		return "*Approved*: the kept admin proves their sign-in next; nothing is deleted before that and the abort window."
	case closure.StateProving:
		s := "*" + StateLabel(v.State) + "*: a sign-in code was sent to the kept admin by DM."
		if v.ProofError != "" {
			s += "\nLast attempt failed: " + escClip(v.ProofError, 500)
		}
		return s
	case closure.StateWaitingWindow:
		return "*Abort window*: the steps start " + Date(v.WindowEndsAt) + ". Pause or Abort until then."
	case closure.StateRunning:
		return "*Running* " + stepRef(v.Step) + ". Progress in the thread."
	case closure.StateGate:
		return "*" + StateLabel(v.State) + "* in " + stepRef(v.Step) + ": instructions in the thread."
	case closure.StatePaused:
		return fmt.Sprintf("*Paused* in %s; Resume returns to %s.", stepRef(v.Step), StateLabel(v.PausedFrom))
	case closure.StateFailed:
		return "*Failed* in " + stepRef(v.Step) + ": " + escClip(v.FailReason, 1500) + "\nAn approver may Retry; anyone may Abort."
	case closure.StateStuck:
		return "*Stuck* in " + stepRef(v.Step) + ": a manual gate is long past its ETA. The thread says how to open a Microsoft support case."
	case closure.StateClosed:
		return "*Closed* " + Date(v.ClosedAt) + ": the tenant no longer exists. Summary in the thread."
	case closure.StateRejected:
		s := "*Rejected*"
		if v.RejectedBy != "" {
			s += " by " + Mention(v.RejectedBy)
		}
		return s + ": " + escClip(v.RejectReason, 1500)
	case closure.StateCancelled:
		return "*Cancelled* by the requester."
	case closure.StateExpired:
		return "*Expired* " + Date(v.ExpiresAt) + " without enough approvals."
	case closure.StateAborted:
		return "*Aborted*. " + restoreLine(v)
	}
	return "*" + Escape(string(v.State)) + "*"
}

func restoreLine(v CardView) string {
	switch {
	case !v.RestoredAt.IsZero():
		return "The users this request deleted were restored " + Date(v.RestoredAt) + "."
	case v.RestoreDeadline.IsZero():
		return "No user was deleted."
	case canRestore(v):
		return "The users this request deleted can be restored until " + Date(v.RestoreDeadline) + "."
	}
	return "The restore deadline passed " + Date(v.RestoreDeadline) + "."
}

func canRestore(v CardView) bool {
	return v.State == closure.StateAborted && v.RestoredAt.IsZero() &&
		!v.RestoreDeadline.IsZero() && v.Now.Before(v.RestoreDeadline)
}

func cardSummary(lines []Line) string {
	if len(lines) == 0 {
		return "*Plan*: nothing to delete."
	}
	var b strings.Builder
	b.WriteString("*Plan*")
	for _, l := range lines {
		b.WriteString("\n• *" + count(l.Count) + "* " + escClip(l.Label, 100))
		if l.Detail != "" {
			b.WriteString(" (" + escClip(l.Detail, 200) + ")")
		}
	}
	return clip(b.String(), maxSectionText)
}

func cardTop(groups []ItemGroup) []slack.Block {
	var bs []slack.Block
	for i, g := range groups {
		if i == topGroups {
			rest := 0
			for _, r := range groups[i:] {
				rest += max(r.Total, len(r.Items))
			}
			bs = append(bs, contextBlock(fmt.Sprintf("%s%d", BlockCardTop, i),
				fmt.Sprintf("+%d more kinds (%s objects): full plan in the thread.", len(groups)-i, count(rest))))
			break
		}
		total := max(g.Total, len(g.Items))
		text := fmt.Sprintf("*%s* (%s): %s", escClip(g.Title, 100), count(total), escapedList(g.Items, total, topItems, 2500))
		bs = append(bs, section(fmt.Sprintf("%s%d", BlockCardTop, i), text))
	}
	return bs
}

func cardWarnings(ws []Warning) string {
	budget := (maxSectionText - 100) / max(len(ws), 1)
	var b strings.Builder
	b.WriteString("*Warnings*")
	for _, w := range ws {
		b.WriteString("\n• " + clip(warningText(w, budget-40), budget))
	}
	return clip(b.String(), maxSectionText)
}

func warningText(w Warning, budget int) string {
	n := max(w.Total, len(w.Items))
	names := ""
	if n > 0 {
		names = ": " + escapedList(w.Items, n, cardWarnMax, budget-200)
	}
	switch w.Kind {
	case WarnMultiTenantApps:
		return fmt.Sprintf("*%s multi-tenant %s* will be deleted; other tenants using %s break%s",
			count(n), plural(n, "app", "apps"), plural(n, "it", "them"), names)
	case WarnBlockingCAPolicies:
		return fmt.Sprintf("*%s conditional-access %s* could block the kept admin; closebot leaves %s alone%s",
			count(n), plural(n, "policy", "policies"), plural(n, "it", "them"), names)
	case WarnSecurityDefaults:
		return "*Security defaults are on*: they protect the kept admin and stay on; the kept admin needs MFA to finish."
	case WarnSyncOn:
		return "*Directory sync is on*: step 1 turns it off, and it cannot be turned back on for 72 h; synced users are deleted as they turn cloud-only (up to 72 h)."
	case WarnRestrictedUnits:
		return fmt.Sprintf("*%s restricted-management admin %s*: closebot cannot delete %s members; a gate will list them%s",
			count(n), plural(n, "unit", "units"), plural(n, "its", "their"), names)
	case WarnEligibleGlobalAdmin:
		return fmt.Sprintf("*%s eligible Global %s* (PIM): deleted with the privileged users, last%s",
			count(n), plural(n, "Administrator", "Administrators"), names)
	}
	s := escClip(w.Text, 500)
	if names != "" {
		s += names
	}
	return s
}

func bulletList(lines []string, budget int) string {
	var b strings.Builder
	for i, l := range lines {
		item := "• " + escClip(l, 300)
		if b.Len()+len(item)+30 > budget {
			fmt.Fprintf(&b, "+%d more", len(lines)-i)
			break
		}
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(item)
	}
	return b.String()
}

func cardPeople(v CardView) string {
	if v.State != closure.StatePending || len(v.Approvers) == 0 {
		return ""
	}
	return "*Approvers*: " + mentions(v.Approvers)
}

func cardButtons(v CardView) []*slack.ButtonBlockElement {
	val := Value{Request: v.RequestID, Version: v.Version}
	// Each button only in the states the authorisation table accepts it
	// in (closure.Offers): a button shown is a button that works.
	candidates := []struct {
		act  closure.Action
		make func() *slack.ButtonBlockElement
	}{
		{closure.ActApprove, func() *slack.ButtonBlockElement {
			return button(ActionApprove, LabelApprove, val).WithStyle(slack.StylePrimary).WithConfirm(confirm(
				"Approve "+v.RequestID+"?",
				"Next you type the tenant's initial domain and the number of users to delete shown on this card, and tick each irreversible item. Nothing is deleted before the kept admin's sign-in proof and the abort window.",
				LabelApprove))
		}},
		{closure.ActReject, func() *slack.ButtonBlockElement {
			return button(ActionReject, LabelReject, val).WithStyle(slack.StyleDanger)
		}},
		{closure.ActCancel, func() *slack.ButtonBlockElement { return button(ActionCancel, LabelCancel, val) }},
		{closure.ActResume, func() *slack.ButtonBlockElement {
			return button(ActionResume, LabelResume, val).WithStyle(slack.StylePrimary)
		}},
		{closure.ActRetry, func() *slack.ButtonBlockElement {
			return button(ActionRetry, LabelRetry, val).WithStyle(slack.StylePrimary).WithConfirm(confirm(
				"Retry "+v.RequestID+"?",
				"The plan is read again and "+stepRef(v.Step)+" resumes from its checkpoint.",
				LabelRetry))
		}},
		{closure.ActPause, func() *slack.ButtonBlockElement { return button(ActionPause, LabelPause, val) }},
		{closure.ActAbort, func() *slack.ButtonBlockElement {
			return button(ActionAbort, LabelAbort, val).WithStyle(slack.StyleDanger).WithConfirm(confirm(
				"Abort "+v.RequestID+"?",
				"The closure stops at the next safe point. Users this request deleted can be restored for 30 days; nothing else is undone.",
				LabelAbort))
		}},
		{closure.ActRestore, func() *slack.ButtonBlockElement {
			if !canRestore(v) {
				return nil
			}
			return button(ActionRestore, LabelRestore, val).WithConfirm(confirm(
				"Restore deleted users?",
				"Restores the users "+v.RequestID+" deleted (Entra keeps them until "+plainDate(v.RestoreDeadline)+"). Their licences and group memberships may not all come back.",
				LabelRestore))
		}},
	}
	var out []*slack.ButtonBlockElement
	for _, c := range candidates {
		if !closure.Offers(c.act, v.State) {
			continue
		}
		if b := c.make(); b != nil {
			out = append(out, b)
		}
	}
	return out
}

func cardFooter(v CardView) string {
	s := fmt.Sprintf("%s · version %d", v.RequestID, v.Version)
	if v.PlanDigest != "" {
		s += " · plan " + MACPrefix(v.PlanDigest)
	}
	if v.State != closure.StateClosed {
		s += " · full plan in the thread"
	}
	return s
}
