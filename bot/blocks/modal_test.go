package blocks

import (
	"fmt"
	"testing"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func submission(domain, users string, ticked ...string) map[string]map[string]slack.BlockAction {
	opts := make([]slack.OptionBlockObject, 0, len(ticked))
	for _, id := range ticked {
		opts = append(opts, slack.OptionBlockObject{Value: id})
	}
	return map[string]map[string]slack.BlockAction{
		BlockModalDomain:      {ActionModalDomain: {Value: domain}},
		BlockModalUsers:       {ActionModalUsers: {Value: users}},
		BlockModalItems + "0": {ActionModalItems: {SelectedOptions: opts}},
	}
}

func TestValidateApproval(t *testing.T) {
	want := Expected{TenantDomain: "contoso.onmicrosoft.com", Users: 1234, Items: modalFixture().Items}
	all := []string{"sync_off", "data_backed_up", "devices_handled", "multi_tenant_apps"}

	assert.Empty(t, ValidateApproval(submission("contoso.onmicrosoft.com", "1234", all...), want))
	assert.Empty(t, ValidateApproval(submission(" Contoso.OnMicrosoft.com ", "1,234", all...), want), "case, spaces, separators")

	errs := ValidateApproval(submission("fabrikam.onmicrosoft.com", "1234", all...), want)
	assert.Equal(t, []string{BlockModalDomain}, keys(errs))

	for _, n := range []string{"1233", "", "12a4", "-1234", "+1234", "1234.0", "99999999999999"} {
		errs = ValidateApproval(submission("contoso.onmicrosoft.com", n, all...), want)
		assert.Equal(t, []string{BlockModalUsers}, keys(errs), n)
	}

	errs = ValidateApproval(submission("contoso.onmicrosoft.com", "1234", "sync_off", "devices_handled"), want)
	require.Equal(t, []string{BlockModalItems + "0"}, keys(errs))
	assert.Contains(t, errs[BlockModalItems+"0"], ItemDataBackedUp.Text)
	assert.NotContains(t, errs[BlockModalItems+"0"], ItemSyncOff.Text)

	errs = ValidateApproval(nil, want)
	assert.Len(t, errs, 3, "an empty submission fails every input")
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestApprovalModalShape(t *testing.T) {
	v := ApprovalModal(modalFixture())
	require.NoError(t, CheckModal(v))
	assert.Equal(t, CallbackApproval, v.CallbackID)
	md, err := ParseMetadata(v.PrivateMetadata)
	require.NoError(t, err)
	assert.Equal(t, Metadata{Request: "CT-12", Version: 7, Digest: digest}, md)

	// More irreversible items than one checkbox group holds: split, and each
	// chunk is validated under its own block id.
	mv := modalFixture()
	mv.Items = nil
	for i := range 23 {
		mv.Items = append(mv.Items, Irreversible{ID: fmt.Sprintf("item%d", i),
			Text: fmt.Sprintf("Irreversible item %d with a description long enough to need more than seventy-five characters", i)})
	}
	big := ApprovalModal(mv)
	require.NoError(t, CheckModal(big))
	var groups int
	for _, b := range big.Blocks.BlockSet {
		if in, ok := b.(*slack.InputBlock); ok {
			if cb, ok := in.Element.(*slack.CheckboxGroupsBlockElement); ok {
				groups++
				assert.LessOrEqual(t, len(cb.Options), 10)
			}
		}
	}
	assert.Equal(t, 3, groups)
	errs := ValidateApproval(submission("contoso.onmicrosoft.com", "5", "item0"), Expected{TenantDomain: "contoso.onmicrosoft.com", Users: 5, Items: mv.Items})
	assert.ElementsMatch(t, []string{BlockModalItems + "0", BlockModalItems + "1", BlockModalItems + "2"}, keys(errs))
}

func TestValidateReject(t *testing.T) {
	reason, errs := ValidateReject(map[string]map[string]slack.BlockAction{BlockRejectReason: {ActionRejectReason: {Value: "  wrong tenant <!channel> "}}})
	assert.Empty(t, errs)
	assert.Equal(t, "wrong tenant <!channel>", reason)
	_, errs = ValidateReject(nil)
	assert.Contains(t, errs, BlockRejectReason)
}

func TestSignInLinkOnlyFromHTTPS(t *testing.T) {
	v := SignInView{RequestID: "CT-12", KeepUser: "U0CAROL", UserCode: "<!channel>", VerificationURL: "javascript:alert(1)|x>"}
	raw := string(marshal(t, SignIn(v)))
	assert.NotContains(t, raw, "<javascript")
	assert.NotContains(t, raw, "<!channel>")
	assert.Contains(t, string(marshal(t, SignIn(SignInView{VerificationURL: "https://microsoft.com/devicelogin", UserCode: "AB12-CD"}))),
		"<https://microsoft.com/devicelogin|microsoft.com/devicelogin>")
}
