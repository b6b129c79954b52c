package blocks

import (
	"context"
	"encoding/json"
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
