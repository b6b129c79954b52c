package blocks

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"
)

// Irreversible is one item the approver must tick in the modal.
type Irreversible struct {
	ID   string // option value; stable
	Text string // plain_text; ≤ 75 runes shown, the rest as description
}

// The irreversible items DESIGN §2 names; the bot picks those that apply.
var (
	ItemSyncOff        = Irreversible{ID: "sync_off", Text: "Directory sync will be turned off: cannot be re-enabled for 72 h"}
	ItemDataBackedUp   = Irreversible{ID: "data_backed_up", Text: "User data that must be kept is backed up"}
	ItemDevicesHandled = Irreversible{ID: "devices_handled", Text: "BitLocker keys and Autopilot devices are handled"}
	ItemMultiTenant    = Irreversible{ID: "multi_tenant_apps", Text: "Multi-tenant apps will be deleted: other tenants using them break"}
	ItemTenantDeleted  = Irreversible{ID: "tenant_deleted", Text: "The tenant and every object in it will be deleted for good"}
	// ItemNoHiddenHolds covers the holds Graph cannot show (issue 10).
	ItemNoHiddenHolds = Irreversible{ID: "no_hidden_holds", Text: "No hold Graph cannot show keeps this data: no Exchange litigation hold, no retention policy, and no eDiscovery hold where closebot cannot read eDiscovery"}
)

// ModalView is what the approval modal shows.
type ModalView struct {
	RequestID    string
	Version      uint64
	PlanDigest   string
	TenantDomain string
	Requester    string // Slack user id
	Reason       string // user text, shown as plain_text
	Items        []Irreversible
}

const modalItemsPerBlock = 10 // Slack's checkbox limit

// ApprovalModal renders the modal that an approval is submitted through.
// private_metadata pins request, version and plan digest (DESIGN §3).
func ApprovalModal(v ModalView) slack.ModalViewRequest {
	bs := []slack.Block{
		section(BlockModalIntro, fmt.Sprintf("You are approving *%s*: closing a tenant requested by %s. "+
			"Type what the card shows to prove you read it.", v.RequestID, Mention(v.Requester))),
		slack.NewSectionBlock(plain("Reason: "+v.Reason, maxSectionText), nil, nil, slack.SectionBlockOptionBlockID(BlockModalReason)),
		slack.NewInputBlock(BlockModalDomain, plain("The tenant's initial domain", maxInputLabel),
			plain("As on the card, ending in .onmicrosoft.com", maxHintText),
			slack.NewPlainTextInputBlockElement(plain("contoso.onmicrosoft.com", 150), ActionModalDomain).WithMaxLength(255)),
		slack.NewInputBlock(BlockModalUsers, plain("The number of users to be deleted", maxInputLabel),
			plain("As on the card; digits only", maxHintText),
			slack.NewPlainTextInputBlockElement(plain("e.g. 1234", 150), ActionModalUsers).WithMaxLength(20)),
	}
	for i := 0; i < len(v.Items); i += modalItemsPerBlock {
		chunk := v.Items[i:min(i+modalItemsPerBlock, len(v.Items))]
		opts := make([]*slack.OptionBlockObject, 0, len(chunk))
		for _, it := range chunk {
			opts = append(opts, option(it))
		}
		label := "I understand that"
		if i > 0 {
			label = "And that"
		}
		bs = append(bs, slack.NewInputBlock(fmt.Sprintf("%s%d", BlockModalItems, i/modalItemsPerBlock), plain(label, maxInputLabel),
			plain("Tick every box", maxHintText), slack.NewCheckboxGroupsBlockElement(ActionModalItems, opts...)))
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           plain("Approve "+v.RequestID, maxModalTitle),
		Submit:          plain(LabelApprove, maxModalTitle),
		Close:           plain("Back", maxModalTitle),
		Blocks:          slack.Blocks{BlockSet: bs},
		PrivateMetadata: Metadata{Request: v.RequestID, Version: v.Version, Digest: v.PlanDigest}.String(),
		CallbackID:      CallbackApproval,
	}
}

func option(it Irreversible) *slack.OptionBlockObject {
	text, desc := it.Text, ""
	if r := []rune(text); len(r) > maxOptionText {
		// Cut at a space so the description continues the sentence.
		cut := strings.LastIndex(string(r[:maxOptionText]), " ")
		if cut <= 0 {
			cut = len(string(r[:maxOptionText]))
		}
		text, desc = text[:cut], strings.TrimSpace(text[cut:])
	}
	var d *slack.TextBlockObject
	if desc != "" {
		d = plain(desc, maxOptionText)
	}
	return slack.NewOptionBlockObject(it.ID, plain(text, maxOptionText), d)
}

// Expected is what a valid approval submission must contain.
type Expected struct {
	TenantDomain string
	Users        int
	Items        []Irreversible // as rendered, in order
}

// ValidateApproval checks a submitted approval modal's values
// (view.state.values) and returns inline errors keyed by input block id,
// for a response_action "errors" ack; an empty map means valid.
func ValidateApproval(values map[string]map[string]slack.BlockAction, want Expected) map[string]string {
	errs := map[string]string{}
	domain := strings.TrimSpace(values[BlockModalDomain][ActionModalDomain].Value)
	if !strings.EqualFold(domain, strings.TrimSpace(want.TenantDomain)) || domain == "" {
		errs[BlockModalDomain] = "That is not this tenant's initial domain. Type it as the card shows it."
	}
	if n, ok := parseCount(values[BlockModalUsers][ActionModalUsers].Value); !ok || n != want.Users {
		errs[BlockModalUsers] = "That is not the number of users to be deleted shown on the card."
	}
	for i := 0; i < len(want.Items); i += modalItemsPerBlock {
		blockID := fmt.Sprintf("%s%d", BlockModalItems, i/modalItemsPerBlock)
		ticked := map[string]bool{}
		for _, o := range values[blockID][ActionModalItems].SelectedOptions {
			ticked[o.Value] = true
		}
		var missing []string
		for _, it := range want.Items[i:min(i+modalItemsPerBlock, len(want.Items))] {
			if !ticked[it.ID] {
				missing = append(missing, it.Text)
			}
		}
		if len(missing) > 0 {
			errs[blockID] = clip("Tick every box; not ticked: "+strings.Join(missing, "; "), 2000)
		}
	}
	return errs
}

// parseCount reads a user count typed with or without thousands
// separators ("1234", "1,234", "1 234").
func parseCount(s string) (int, bool) {
	s = strings.NewReplacer(",", "", " ", "", "\u00a0", "", "\u202f", "", "'", "").Replace(strings.TrimSpace(s))
	if s == "" || len(s) > 12 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-") {
		return 0, false
	}
	return n, true
}
