package blocks

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/closebot/closebot/closure"
)

// GateView is one manual gate's thread message (DESIGN §2 item 6, §4).
type GateView struct {
	RequestID string
	Version   uint64
	GateID    string
	Kind      closure.GateKind
	Step      int
	Assignee  string // keep_slack_user: who must act
	ETA       time.Time
	OpenedAt  time.Time
	// SatisfiedAt is set once the re-check passed.
	SatisfiedAt  time.Time
	Stuck        bool
	RecheckEvery time.Duration
	LastChecked  time.Time

	// Case facts; names and Graph's words are user text.
	TenantID       string
	TenantDomain   string
	OrganizationID string   // sync_off
	Error          string   // Graph's refusal, in its words
	Units          []string // restricted admin units
	Users          []string // UPNs (the first ones)
	UsersTotal     int
	Subscriptions  []string // "SKU (id)" (the first ones)
	SubsTotal      int
	Partners       []string // CSP owner tenant ids
	KeepUPN        string
	ClosebotAppID  string
	Confirmations  int           // gates.gone_confirmations
	GoneSpan       time.Duration // gates.gone_span

	// Attest lists the sentence ids (closure.Sentences) this gate needs;
	// Attested those already pressed.
	Attest   []string
	Attested []AttestationView

	// Seq and MAC are the audit event this edit mirrors.
	Seq uint64
	MAC string
}

// AttestationView is one recorded attestation.
type AttestationView struct {
	Sentence string // closure.Sentences id
	By       string // Slack user id
	At       time.Time
}

// gateText is a gate's instructions: lines are mrkdwn, already escaped.
type gateText struct {
	Title string
	Lines []string
}

// Admin-center links (our constants, safe in mrkdwn links).
const (
	linkSyncOff       = "https://learn.microsoft.com/microsoft-365/enterprise/turn-off-directory-synchronization"
	linkAdminUnits    = "https://entra.microsoft.com/#view/Microsoft_AAD_IAM/AdminUnitsListBlade"
	linkM365Users     = "https://admin.microsoft.com/#/users"
	linkM365Products  = "https://admin.microsoft.com/#/subscriptions"
	linkPartnerCenter = "https://partner.microsoft.com/dashboard/commerce2/customers"
	linkAzureSubs     = "https://portal.azure.com/#view/Microsoft_Azure_Billing/SubscriptionsBladeV2"
	linkEntraUsers    = "https://entra.microsoft.com/#view/Microsoft_AAD_UsersAndTenants/UserManagementMenuBlade/~/AllUsers"
	linkLegacyMFA     = "https://portal.azure.com/#view/Microsoft_AAD_IAM/MultifactorAuthenticationMenuBlade"
	linkEntra         = "https://entra.microsoft.com/"
	linkManageTenants = "https://entra.microsoft.com/#view/Microsoft_AAD_IAM/DirectorySwitchBlade"
	linkSupport       = "https://admin.microsoft.com/#/support"
)

func link(url, label string) string { return "<" + url + "|" + label + ">" }

const listBudget = 1200 // runes for one list of names in a gate

// gateTexts has one function per closure.GateKind.
var gateTexts = map[closure.GateKind]func(GateView) gateText{
	closure.GateSyncOff:             syncOffText,
	closure.GateRestrictedAdminUnit: restrictedUnitText,
	closure.GateUserRefused:         userRefusedText,
	closure.GateSubscriptionDirect:  subscriptionDirectText,
	closure.GateSubscriptionCSP:     subscriptionCSPText,
	closure.GateSubscriptionMCA:     subscriptionMCAText,
	closure.GateAzure:               azureText,
	closure.GateDeleteSubscriptions: deleteSubscriptionsText,
	closure.GatePerUserMFA:          perUserMFAText,
	closure.GateLegacyMFA:           legacyMFAText,
	closure.GateDeleteTenant:        deleteTenantText,
}

func refusal(err string) string {
	if err == "" {
		return ""
	}
	return " (" + escClip(err, 300) + ")"
}

func syncOffText(v GateView) gateText {
	org := v.OrganizationID
	if org == "" {
		org = v.TenantID
	}
	return gateText{"Turn off directory synchronization", []string{
		"Graph refused closebot's request to turn directory sync off" + refusal(v.Error) + ".",
		"As a *Hybrid Identity Administrator*, run in PowerShell: `Connect-MgGraph -Scopes Organization.ReadWrite.All` then " +
			"`Update-MgOrganization -OrganizationId " + Escape(strings.ReplaceAll(clip(org, 64), "`", "'")) +
			" -BodyParameter @{onPremisesSyncEnabled=$false}` (" + link(linkSyncOff, "Microsoft's instructions") + ").",
		"Synced users turn cloud-only within 72 h and closebot deletes them as they do. Sync cannot be turned back on for 72 h.",
	}}
}

func restrictedUnitText(v GateView) gateText {
	return gateText{"Remove users from restricted administrative units", []string{
		"These users are members of restricted-management administrative units (" + escapedList(v.Units, len(v.Units), 10, 400) +
			"), so closebot may not delete them: " + escapedList(v.Users, v.UsersTotal, 50, listBudget) + ".",
		link(linkAdminUnits, "Entra admin center") + " → Identity → Roles &amp; admins → Admin units → the unit → Users: remove them, " +
			"or delete them yourself as an administrator scoped to that unit.",
		"Then press *Re-check*: closebot deletes whoever is left.",
	}}
}

func userRefusedText(v GateView) gateText {
	return gateText{"Users Graph refused to delete", []string{
		"Graph refused to delete these users" + refusal(v.Error) + ": " + escapedList(v.Users, v.UsersTotal, 50, listBudget) + ".",
		"Users holding admin roles can only be deleted by an app holding *Privileged Authentication Administrator*: assign that role to closebot's app, " +
			"or delete them in the " + link(linkM365Users, "Microsoft 365 admin center") + " → Users → Active users.",
		"Then press *Re-check*: closebot retries their deletion.",
	}}
}

func subscriptionDirectText(v GateView) gateText {
	return gateText{"Cancel subscriptions bought from Microsoft", []string{
		"Subscriptions to cancel: " + escapedList(v.Subscriptions, v.SubsTotal, 30, listBudget) + ".",
		link(linkM365Products, "Microsoft 365 admin center") + " → Billing → Your products → the subscription → *Cancel subscription*.",
		"If Cancel is not offered, the subscription is under a Microsoft Customer Agreement: turn off recurring billing on the same page; it ends at term end.",
	}}
}

func subscriptionCSPText(v GateView) gateText {
	return gateText{"Ask the partner to cancel subscriptions", []string{
		"These subscriptions are billed by a Cloud Solution Provider (partner tenant " + escapedList(v.Partners, len(v.Partners), 5, 400) + "): " +
			escapedList(v.Subscriptions, v.SubsTotal, 30, listBudget) + ".",
		"Only the partner can cancel them: ask them to cancel in " + link(linkPartnerCenter, "Partner Center") +
			" → Customers → this tenant → Subscriptions (new-commerce subscriptions only within their cancellation window).",
	}}
}

func subscriptionMCAText(v GateView) gateText {
	return gateText{"Let Microsoft Customer Agreement subscriptions end", []string{
		"Subscriptions under a Microsoft Customer Agreement: " + escapedList(v.Subscriptions, v.SubsTotal, 30, listBudget) + ".",
		link(linkM365Products, "Microsoft 365 admin center") + " → Billing → Your products → the subscription → turn off *recurring billing*; it ends at term end.",
	}}
}

func azureText(GateView) gateText {
	return gateText{"Azure subscriptions", []string{
		"Graph cannot see Azure subscriptions. In the " + link(linkAzureSubs, "Azure portal") +
			" → Subscriptions (directory: this tenant), cancel every subscription or move it to another directory.",
		"Then attest with the button below.",
	}}
}

func deleteSubscriptionsText(v GateView) gateText {
	return gateText{"Delete disabled subscriptions", []string{
		"Subscriptions not yet deleted: " + escapedList(v.Subscriptions, v.SubsTotal, 30, listBudget) + ".",
		link(linkM365Products, "Microsoft 365 admin center") + " → Billing → Your products → filter *Disabled* → the subscription → *Delete subscription*. " +
			"Under a Microsoft Customer Agreement it ends at term end instead.",
		"Deprovisioning takes up to 72 h after deletion.",
	}}
}

func perUserMFAText(v GateView) gateText {
	return gateText{"Turn off per-user MFA", []string{
		"Graph refused to turn per-user MFA off" + refusal(v.Error) + " for: " + escapedList(v.Users, v.UsersTotal, 50, listBudget) + ".",
		link(linkEntraUsers, "Entra admin center") + " → Identity → Users → All users → *Per-user MFA* → select them → *Disable MFA*.",
		"Leave security defaults, conditional access and the kept admin's MFA alone: they protect the last admin.",
	}}
}

func legacyMFAText(GateView) gateText {
	return gateText{"Legacy MFA providers", []string{
		"Graph cannot see legacy MFA providers: " + link(linkLegacyMFA, "Azure portal") +
			" → Multi-Factor Authentication → Providers. Delete any provider linked to this tenant.",
		"Then attest with the button below.",
	}}
}

func deleteTenantText(v GateView) gateText {
	keep := "the kept admin"
	if v.KeepUPN != "" {
		keep += " (" + escClip(v.KeepUPN, 200) + ")"
	}
	app := "closebot's app"
	if v.ClosebotAppID != "" {
		app += " (app id " + escClip(v.ClosebotAppID, 64) + ")"
	}
	done := "closebot closes the request when Entra answers “tenant not found” (AADSTS90002)"
	if v.Confirmations > 0 {
		done += fmt.Sprintf(" %d times over %s", v.Confirmations, duration(v.GoneSpan))
	}
	return gateText{"Delete the tenant", []string{
		"Sign in to the " + link(linkEntra, "Entra admin center") + " as " + keep + ".",
		"Remove " + app + " *last*: Identity → Applications → App registrations → the app → Delete. closebot can no longer act on the tenant afterwards; it still checks from outside that the tenant is gone.",
		"Then " + link(linkManageTenants, "Identity → Overview → Manage tenants") + " → select " + escClip(v.TenantDomain, 200) +
			" → *Delete*, and fix whatever the portal's checklist still names (*" + LabelPurge + "* on step 5's message removes this request's deleted objects for good).",
		done + ".",
	}}
}

// GateInstructions returns a gate's title and its instruction lines
// (mrkdwn, escaped), or a generic text for a kind this package does not know.
func GateInstructions(v GateView) (title string, lines []string) {
	f, ok := gateTexts[v.Kind]
	if !ok {
		return "Manual action needed", []string{"Gate " + Escape(string(v.Kind)) + ": closebot has no instructions for it; see the audit log."}
	}
	t := f(v)
	return t.Title, t.Lines
}

// Gate renders a manual gate's thread message.
func Gate(v GateView) Message {
	title, lines := GateInstructions(v)
	open := v.SatisfiedAt.IsZero()
	status := "open"
	switch {
	case !open:
		status = "done " + Date(v.SatisfiedAt)
	case v.Stuck:
		status = "stuck"
	}
	bs := []slack.Block{section(BlockGateTitle, fmt.Sprintf("*Step %d · %s*: %s", v.Step, Escape(title), status))}
	if open {
		who := "The kept admin must act."
		if v.Assignee != "" {
			who = Mention(v.Assignee) + " must act."
		}
		bs = append(bs, section(BlockGateWho, who))
	}
	var b strings.Builder
	for i, l := range lines {
		fmt.Fprintf(&b, "%d. %s\n", i+1, l)
	}
	bs = append(bs, section(BlockGateSteps, strings.TrimSuffix(b.String(), "\n")))
	if open {
		bs = append(bs, contextBlock(BlockGateETA, gateETA(v)))
	}
	if len(v.Attested) > 0 {
		bs = append(bs, section(BlockGateAttest, attestedLines(v.Attested)))
	}
	if open && v.Stuck {
		bs = append(bs, section(BlockGateStuck, "*Stuck*: this gate is long past its ETA. Open a Microsoft support case in the "+
			link(linkSupport, "Microsoft 365 admin center → Support")+" and attach the audit export: `closebot audit export "+Escape(v.RequestID)+"`."))
	}
	if open {
		val := Value{Request: v.RequestID, Version: v.Version, Gate: v.GateID}
		bs = append(bs, actions(BlockGateActions, button(ActionRecheck, LabelRecheck, val)))
		for _, id := range missingSentences(v) {
			sv := val
			sv.Sentence = id
			bs = append(bs, actions(BlockGateAttestButton+id, button(ActionAttest, closure.Sentences[id], sv).WithStyle(slack.StylePrimary)))
		}
	}
	if ref := auditRef(v.Seq, v.MAC); ref != "" {
		bs = append(bs, contextBlock(BlockGateAudit, v.RequestID+" · "+ref))
	}
	text := fmt.Sprintf("%s · step %d gate: %s (%s)", v.RequestID, v.Step, title, map[bool]string{true: "open", false: "done"}[open])
	return newMessage(text, bs...)
}

// BlockGateAttestButton prefixes the block of each attestation button
// (one block per sentence, so each carries the stable ActionAttest).
const BlockGateAttestButton = "gate_attest_btn_"

func missingSentences(v GateView) []string {
	done := map[string]bool{}
	for _, a := range v.Attested {
		done[a.Sentence] = true
	}
	var out []string
	for _, id := range v.Attest {
		if _, known := closure.Sentences[id]; known && !done[id] {
			out = append(out, id)
		}
	}
	return out
}

func gateETA(v GateView) string {
	var parts []string
	if !v.ETA.IsZero() {
		parts = append(parts, "ETA "+Date(v.ETA)+" (from Graph's nextLifecycleDateTime)")
	} else {
		parts = append(parts, "No ETA from Graph")
	}
	if v.RecheckEvery > 0 {
		parts = append(parts, "closebot re-checks every "+duration(v.RecheckEvery)+" and reminds daily")
	}
	if !v.LastChecked.IsZero() {
		parts = append(parts, "last checked "+Date(v.LastChecked))
	}
	if !v.OpenedAt.IsZero() {
		parts = append(parts, "opened "+Date(v.OpenedAt))
	}
	return strings.Join(parts, " · ")
}

func attestedLines(as []AttestationView) string {
	var lines []string
	for _, a := range as {
		s, ok := closure.Sentences[a.Sentence]
		if !ok {
			s = a.Sentence
		}
		lines = append(lines, fmt.Sprintf("Attested “%s” by %s %s", Escape(s), Mention(a.By), Date(a.At)))
	}
	return strings.Join(lines, "\n")
}
