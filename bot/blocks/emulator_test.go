package blocks

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/bot/slacktest"
)

func emulator(t *testing.T) (*slacktest.Server, *slack.Client) {
	t.Helper()
	srv := slacktest.New(slacktest.Options{})
	require.NoError(t, srv.Start())
	t.Cleanup(srv.Close)
	srv.SetRateLimits(false)
	srv.AddChannel(slacktest.Channel{ID: "C0OPS", Name: "ops"})
	for _, u := range []string{"U0ALICE", "U0BOB"} {
		srv.AddUser(slacktest.User{ID: u})
	}
	api := slack.New(srv.Options().BotToken, slack.OptionAPIURL(srv.APIURL()))
	return srv, api
}

// Every rendered message goes through slack-go's chat.postMessage and
// chat.update to the Slack emulator, which applies Block Kit's limits.
func TestMessagesAcceptedBySlackEmulator(t *testing.T) {
	srv, api := emulator(t)
	ctx := context.Background()
	msgs := allMessages()
	for _, part := range PlanDetail("CT-12", bigCard().Top) {
		msgs["plan_part_"+part.Text] = part
	}
	for _, name := range sortedNames(msgs) {
		_, ts, err := api.PostMessageContext(ctx, "C0OPS", msgs[name].MsgOptions()...)
		require.NoError(t, err, name)
		// The card is edited in place as the request moves.
		_, _, _, err = api.UpdateMessageContext(ctx, "C0OPS", ts, msgs[name].MsgOptions()...)
		require.NoError(t, err, name)
	}
	assert.Empty(t, srv.Refusals())

	// The emulator does refuse what Slack refuses, so the passes above mean something.
	over := Message{Text: "x"}
	for range 51 {
		over.Blocks = append(over.Blocks, slack.NewDividerBlock())
	}
	_, _, err := api.PostMessageContext(ctx, "C0OPS", over.MsgOptions()...)
	require.Error(t, err)
	assert.ErrorIs(t, CheckMessage(over), ErrLimit)
	stored := srv.Messages("C0OPS")
	require.Len(t, stored, len(msgs))
}

// The approval modal opens with a real trigger, and a real submission's
// view.state decodes into what ValidateApproval reads.
func TestApprovalModalThroughSlackEmulator(t *testing.T) {
	srv, api := emulator(t)
	mv := modalFixture()
	want := Expected{TenantDomain: mv.TenantDomain, Users: 1234, Items: mv.Items}

	submit := func(values map[string]map[string]any) map[string]string {
		env, err := srv.Slash("U0BOB", "C0OPS", "approve CT-12")
		require.NoError(t, err)
		resp, err := api.OpenView(env.TriggerID, ApprovalModal(mv))
		require.NoError(t, err)
		sub, err := srv.Submit("U0BOB", resp.View.ID, values)
		require.NoError(t, err)
		var cb slack.InteractionCallback
		require.NoError(t, json.Unmarshal(sub.Payload, &cb))
		assert.Equal(t, CallbackApproval, cb.View.CallbackID)
		md, err := ParseMetadata(cb.View.PrivateMetadata)
		require.NoError(t, err)
		assert.Equal(t, Metadata{Request: "CT-12", Version: 7, Digest: digest}, md)
		return ValidateApproval(cb.View.State.Values, want)
	}

	ok := submit(map[string]map[string]any{
		BlockModalDomain:      {ActionModalDomain: "contoso.onmicrosoft.com"},
		BlockModalUsers:       {ActionModalUsers: "1,234"},
		BlockModalItems + "0": {ActionModalItems: []string{"sync_off", "data_backed_up", "devices_handled", "multi_tenant_apps"}},
	})
	assert.Empty(t, ok)

	bad := submit(map[string]map[string]any{
		BlockModalDomain:      {ActionModalDomain: "fabrikam.onmicrosoft.com"},
		BlockModalUsers:       {ActionModalUsers: "1000"},
		BlockModalItems + "0": {ActionModalItems: []string{"sync_off"}},
	})
	assert.ElementsMatch(t, []string{BlockModalDomain, BlockModalUsers, BlockModalItems + "0"}, keys(bad))
	// The errors fit the response_action ack slack-go sends.
	raw, err := json.Marshal(slack.NewErrorsViewSubmissionResponse(bad))
	require.NoError(t, err)
	assert.Less(t, len(raw), 20480)
}

// Every golden file, and every fixture rendered afresh (NoteModal has no
// golden), passes the emulator's Block Kit rules as Slack's reference gives
// them: messages through the message rules, modals through the view rules.
// The emulator has no lenient switch for these rules.
func TestEveryGoldenAndFixturePassesTheReference(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.golden.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		checkRendered(t, f, raw)
	}

	rendered := map[string]any{}
	for name, m := range allMessages() {
		rendered[name] = m
	}
	rendered["plan_detail_big"] = PlanDetail("CT-12", bigCard().Top)
	rendered["plan_detail_small"] = PlanDetail("CT-12", baseCard("pending").Top)
	rendered["modal_approval"] = ApprovalModal(modalFixture())
	many := modalFixture()
	many.Items = []Irreversible{ItemSyncOff, ItemDataBackedUp, ItemDevicesHandled, ItemMultiTenant, ItemTenantDeleted, ItemNoHiddenHolds}
	for i := len(many.Items); i < 11; i++ { // two checkbox groups
		many.Items = append(many.Items, Irreversible{ID: fmt.Sprintf("item_%d", i), Text: strings.Repeat("An item to tick ", 8)})
	}
	rendered["modal_approval_many_items"] = ApprovalModal(many)
	rendered["modal_reject"] = RejectModal(Metadata{Request: "CT-12", Version: 7, Digest: digest})
	rendered["modal_note"] = NoteModal("Reading the tenant", "closebot is reading "+hostile+" again.")
	for name, v := range rendered {
		raw, err := json.Marshal(v)
		require.NoError(t, err)
		checkRendered(t, name, raw)
	}

	// The rules do catch a required field: the card without its dialogs' deny.
	raw, err := json.Marshal(Card(cardFixtures()["card_pending"]).Blocks)
	require.NoError(t, err)
	stripped := strings.ReplaceAll(string(raw), `,"deny":{"type":"plain_text","text":"Cancel","emoji":false}`, "")
	require.NotEqual(t, string(raw), stripped)
	var bke *slacktest.BlockKitError
	require.ErrorAs(t, slacktest.CheckMessageBlocks(json.RawMessage(stripped)), &bke)
	assert.Equal(t, "invalid_blocks", bke.Err)
	assert.Contains(t, bke.Detail, "missing required field: deny [json-pointer:/blocks/")
}

// checkRendered applies the message rules to a message (or a list of them) and
// the view rules to a modal.
func checkRendered(t *testing.T, name string, raw []byte) {
	t.Helper()
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		require.NotEmpty(t, list, name)
		for i, m := range list {
			checkRendered(t, fmt.Sprintf("%s[%d]", name, i), m)
		}
		return
	}
	var top struct {
		Type   string          `json:"type"`
		Blocks json.RawMessage `json:"blocks"`
		Text   string          `json:"text"`
	}
	require.NoError(t, json.Unmarshal(raw, &top), name)
	require.NotEmpty(t, top.Blocks, name)
	if top.Type == "modal" {
		assert.NoError(t, slacktest.CheckView(raw), name)
		return
	}
	require.Empty(t, top.Type, "%s: a message or a modal", name)
	assert.NotEmpty(t, top.Text, name)
	assert.NoError(t, slacktest.CheckMessageBlocks(top.Blocks), name)
}
