package blocks

import (
	"strings"
	"testing"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

// allowedLabels are DESIGN §8's button labels and the attestation sentences.
func allowedLabels() map[string]bool {
	ok := map[string]bool{}
	for _, l := range []string{"Approve", "Reject", "Cancel", "Abort", "Pause", "Resume", "Restore", "Retry", "Re-check", "Purge deleted objects"} {
		ok[l] = true
	}
	for _, s := range closure.Sentences {
		ok[s] = true
	}
	return ok
}

type btn struct{ label, action, block, value string }

func buttons(t *testing.T, m Message) []btn {
	t.Helper()
	var out []btn
	for _, b := range m.Blocks {
		ab, ok := b.(*slack.ActionBlock)
		if !ok {
			continue
		}
		for _, e := range ab.Elements.ElementSet {
			be, ok := e.(*slack.ButtonBlockElement)
			require.True(t, ok, "only buttons in actions blocks")
			out = append(out, btn{be.Text.Text, be.ActionID, ab.BlockID, be.Value})
		}
	}
	return out
}

func TestEveryMessageWithinLimits(t *testing.T) {
	allowed := allowedLabels()
	for name, m := range allMessages() {
		require.NoError(t, CheckMessage(m), name)
		assert.LessOrEqual(t, len(m.Blocks), 50, name)
		for _, b := range m.Blocks {
			raw := decode(t, b).(map[string]any)
			id, _ := raw["block_id"].(string)
			assert.LessOrEqual(t, len(id), 255, name)
		}
		for _, b := range buttons(t, m) {
			assert.True(t, allowed[b.label], "%s: label %q is not in DESIGN §8", name, b.label)
			assert.LessOrEqual(t, len(b.value), 2000, name)
			assert.LessOrEqual(t, len(b.action), 255, name)
			_, err := ParseValue(b.value)
			assert.NoError(t, err, "%s: %s", name, b.value)
		}
	}
}

// The card of a tenant with 500 apps and 200 policies still fits.
func TestBigTenantFits(t *testing.T) {
	m := Card(bigCard())
	require.NoError(t, CheckMessage(m))
	assert.LessOrEqual(t, len(m.Blocks), 50)
	raw := string(marshal(t, m))
	assert.Contains(t, raw, "+495 more")
	assert.Contains(t, raw, "+4 more kinds")
	for _, part := range PlanDetail("CT-12", bigCard().Top) {
		require.NoError(t, CheckMessage(part))
	}
}

func TestCardButtonsPerState(t *testing.T) {
	want := map[string][]string{
		"card_pending":         {"Approve", "Reject", "Cancel"},
		"card_pending_drift":   {"Approve", "Reject", "Cancel"},
		"card_running":         {"Pause", "Abort"},
		"card_waiting_window":  {"Pause", "Abort"},
		"card_gate":            {"Pause", "Abort"},
		"card_paused":          {"Resume", "Abort"},
		"card_stuck":           {"Pause", "Abort"},
		"card_failed":          {"Retry", "Abort"},
		"card_aborted_restore": {"Restore"},
		"card_aborted_late":    nil,
		"card_closed":          nil,
		"card_rejected":        nil,
	}
	confirmed := map[string]bool{"Approve": true, "Abort": true, "Retry": true, "Restore": true}
	for name, v := range cardFixtures() {
		m := Card(v)
		var labels []string
		for _, b := range m.Blocks {
			ab, ok := b.(*slack.ActionBlock)
			if !ok {
				continue
			}
			for _, e := range ab.Elements.ElementSet {
				be := e.(*slack.ButtonBlockElement)
				labels = append(labels, be.Text.Text)
				assert.Equal(t, confirmed[be.Text.Text], be.Confirm != nil, "%s: %s confirm dialog", name, be.Text.Text)
				assert.Equal(t, "CT-12|7", be.Value)
			}
		}
		assert.Equal(t, want[name], labels, name)
	}
	closed := string(marshal(t, Card(cardFixtures()["card_closed"])))
	assert.Contains(t, closed, `"text": "CT-12 · Closed · contoso.onmicrosoft.com"`)
	assert.NotContains(t, closed, `"actions"`)
}

func TestApproverMentionsOnlyWhilePending(t *testing.T) {
	for name, v := range cardFixtures() {
		raw := string(marshal(t, Card(v)))
		has := strings.Contains(raw, "<!subteam^S0SECLEAD>")
		assert.Equal(t, v.State == closure.StatePending, has, name)
	}
}

func TestStepMessages(t *testing.T) {
	steps := stepFixtures()
	running := string(marshal(t, Step(steps["step_running"])))
	assert.Contains(t, running, "412 of 1,234 done · 3 refused")
	assert.Contains(t, running, "CT-12 · #42 · mac 9f8e7d6c")

	confirm := Step(steps["step5_confirm"])
	bs := buttons(t, confirm)
	require.Len(t, bs, 1)
	assert.Equal(t, btn{"Approve", ActionConfirmStep5, BlockStepActions, "CT-12|9"}, bs[0])
	assert.Contains(t, string(marshal(t, confirm)), "*1 of 2*")

	purge := buttons(t, Step(steps["step5_purge"]))
	require.Len(t, purge, 1)
	assert.Equal(t, "Purge deleted objects", purge[0].label)
	assert.Empty(t, buttons(t, Step(steps["step_done"])))
}

func TestGateMessages(t *testing.T) {
	gates := gateFixtures()
	for key := range closure.Instructions {
		kind := closure.GateKind(key)
		title, lines := GateInstructions(GateView{Kind: kind, Instruction: closure.InstructionFor(closure.Gate{Kind: kind})})
		assert.NotEqual(t, "Manual action needed", title, kind)
		assert.NotEmpty(t, lines, kind)
		for _, l := range lines {
			assert.NotRegexp(t, `\{[a-z_]+\}`, l, "an unfilled param never reaches Slack")
		}
	}
	sync := string(marshal(t, Gate(gates["gate_sync_off"])))
	assert.Contains(t, sync, "`Set-EntraDirSyncEnabled -EnableDirSync $false -Force`")
	assert.Contains(t, sync, "Hybrid Identity Administrator")
	assert.Contains(t, sync, "<@U0CAROL> must act.")

	au := string(marshal(t, Gate(gates["gate_restricted_admin_unit"])))
	assert.Contains(t, au, "&lt;@U0BOB&gt;@contoso.com")
	assert.NotContains(t, au, "<@U0BOB>")

	direct := string(marshal(t, Gate(gates["gate_subscription_direct"])))
	assert.Contains(t, direct, "Billing → Your products → the subscription → Cancel subscription")
	assert.Contains(t, direct, "https://admin.microsoft.com/")
	assert.Contains(t, string(marshal(t, Gate(gates["gate_subscription_csp"]))), "Partner Center")
	assert.Contains(t, string(marshal(t, Gate(gates["gate_subscription_mca"]))), "ETA <!date^")
	del := string(marshal(t, Gate(gates["gate_delete_subscriptions"])))
	assert.Contains(t, del, "filter Disabled")
	assert.Contains(t, del, "up to 72 hours")
	assert.Contains(t, string(marshal(t, Gate(gates["gate_per_user_mfa"]))), "https://entra.microsoft.com/")
	tenant := string(marshal(t, Gate(gates["gate_delete_tenant"])))
	assert.Contains(t, tenant, "Manage tenants")
	assert.Contains(t, tenant, "Remove closebot's app last")
	assert.Contains(t, tenant, "AADSTS90002 (tenant not found) 3 times over 1h0m0s")

	azure := buttons(t, Gate(gates["gate_azure"]))
	require.Len(t, azure, 2)
	assert.Equal(t, btn{"Re-check", ActionRecheck, BlockGateActions, "CT-12|11|2.azure"}, azure[0])
	assert.Equal(t, btn{"No Azure subscription is linked to this tenant", ActionAttest,
		BlockGateAttestButton + closure.SentenceNoAzure, "CT-12|11|2.azure|no_azure_subscription"}, azure[1])
	legacy := buttons(t, Gate(gates["gate_legacy_mfa"]))
	require.Len(t, legacy, 2)
	assert.Equal(t, "No legacy MFA provider is linked to this tenant", legacy[1].label)

	done := Gate(gates["gate_azure_attested"])
	assert.Empty(t, buttons(t, done), "a satisfied gate offers no buttons")
	assert.Contains(t, string(marshal(t, done)), "by <@U0CAROL>")

	stuck := string(marshal(t, Gate(gates["gate_stuck"])))
	assert.Contains(t, stuck, "closebot audit export CT-12")

	assert.Contains(t, au, "Roles &amp; admins", "the domain's plain text is escaped for mrkdwn")
	assert.Contains(t, au, "<https://entra.microsoft.com/#view/Microsoft_AAD_IAM/AdminUnitsListBlade|", "the domain's link")
	unknown := Gate(GateView{RequestID: "CT-1", Kind: "<!channel>", Step: 2})
	require.NoError(t, CheckMessage(unknown))
	assert.NotContains(t, string(marshal(t, unknown)), "<!channel>")
}

func TestCheckerCatchesViolations(t *testing.T) {
	long := strings.Repeat("x", 3001)
	bad := []Message{
		{Text: "x", Blocks: []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", long, false, true), nil, nil)}},
		{Text: "x", Blocks: []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "not verbatim", false, false), nil, nil)}},
		{Text: "", Blocks: []slack.Block{section("a", "ok")}},
		{Text: "x", Blocks: []slack.Block{section("a", "ok"), section("a", "dup")}},
		{Text: "x", Blocks: []slack.Block{actions("a", button(strings.Repeat("a", 256), "Approve", Value{Request: "CT-1"}))}},
		{Text: "x", Blocks: []slack.Block{actions("a", slack.NewButtonBlockElement("b", strings.Repeat("v", 2001), plain("Approve", 75)))}},
	}
	many := Message{Text: "x"}
	for range 51 {
		many.Blocks = append(many.Blocks, slack.NewDividerBlock())
	}
	bad = append(bad, many)
	for i, m := range bad {
		assert.ErrorIs(t, CheckMessage(m), ErrLimit, i)
	}
	v := ApprovalModal(modalFixture())
	v.Title = plain(strings.Repeat("t", 25), 100)
	assert.ErrorIs(t, CheckModal(v), ErrLimit)
}

// The checker refuses what Slack's reference marks Required or disallows in a
// place, not only what is too long.
func TestCheckerCatchesMissingRequiredFields(t *testing.T) {
	ok := plain("ok", 75)
	noDeny := button("approve", "Approve", Value{Request: "CT-1"}).WithConfirm(
		slack.NewConfirmationBlockObject(plain("Sure?", 100), plain("Really.", 300), plain("Approve", 30), nil))
	mdConfirmText := button("approve", "Approve", Value{Request: "CT-1"}).WithConfirm(
		slack.NewConfirmationBlockObject(plain("Sure?", 100), md("Really."), plain("Approve", 30), plain("Cancel", 30)))
	cases := map[string]Message{
		"confirm without deny":  {Text: "x", Blocks: []slack.Block{actions("a", noDeny)}},
		"confirm text mrkdwn":   {Text: "x", Blocks: []slack.Block{actions("a", mdConfirmText)}},
		"button without text":   {Text: "x", Blocks: []slack.Block{actions("a", slack.NewButtonBlockElement("b", "v", nil))}},
		"section without text":  {Text: "x", Blocks: []slack.Block{slack.NewSectionBlock(nil, nil, nil)}},
		"header mrkdwn":         {Text: "x", Blocks: []slack.Block{slack.NewHeaderBlock(md("h"))}},
		"header without text":   {Text: "x", Blocks: []slack.Block{slack.NewHeaderBlock(nil)}},
		"empty context":         {Text: "x", Blocks: []slack.Block{slack.NewContextBlock("c")}},
		"empty actions":         {Text: "x", Blocks: []slack.Block{slack.NewActionBlock("a")}},
		"input without label":   {Text: "x", Blocks: []slack.Block{slack.NewInputBlock("i", nil, nil, slack.NewPlainTextInputBlockElement(nil, "t"))}},
		"input without element": {Text: "x", Blocks: []slack.Block{slack.NewInputBlock("i", ok, nil, nil)}},
		"input takes no button": {Text: "x", Blocks: []slack.Block{slack.NewInputBlock("i", ok, nil, slack.NewButtonBlockElement("b", "v", ok))}},
		"option without value": {Text: "x", Blocks: []slack.Block{slack.NewInputBlock("i", ok, nil,
			slack.NewCheckboxGroupsBlockElement("c", slack.NewOptionBlockObject("", ok, nil)))}},
		"checkboxes without options": {Text: "x", Blocks: []slack.Block{slack.NewInputBlock("i", ok, nil, slack.NewCheckboxGroupsBlockElement("c"))}},
		"mrkdwn with emoji":          {Text: "x", Blocks: []slack.Block{slack.NewSectionBlock(&slack.TextBlockObject{Type: "mrkdwn", Text: "a", Emoji: new(bool), Verbatim: true}, nil, nil)}},
		"unknown block":              {Text: "x", Blocks: []slack.Block{slack.NewImageBlock("https://x.example/a.png", "alt", "img", nil)}},
	}
	for name, m := range cases {
		assert.ErrorIs(t, CheckMessage(m), ErrLimit, name)
	}
	v := ApprovalModal(modalFixture())
	v.Title = nil
	assert.ErrorIs(t, CheckModal(v), ErrLimit, "a modal needs a title")
	v = ApprovalModal(modalFixture())
	v.Submit = nil
	assert.ErrorIs(t, CheckModal(v), ErrLimit, "a modal with inputs needs submit")
	v = ApprovalModal(modalFixture())
	v.Type = "home"
	assert.ErrorIs(t, CheckModal(v), ErrLimit, "a modal is type modal")
}
