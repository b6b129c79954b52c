package main

import (
	"context"
	"flag"
	"fmt"
	"io"
)

// manifestYAML is the Slack app manifest for closebot in socket mode
// (slack-wire.md §7). Each bot scope is there for a method closebot calls;
// nothing broader (no chat:write.public: the bot is invited to its channels).
const manifestYAML = `# Slack app manifest for closebot (socket mode).
# api.slack.com/apps → Create New App → From an app manifest → paste this.
# Then: Basic Information → App-Level Tokens → a token with connections:write
# (SLACK_APP_TOKEN, xapp-…); Install App → Bot User OAuth Token (SLACK_BOT_TOKEN,
# xoxb-…); invite the bot to the channels listed in slack.channels.
_metadata:
  major_version: 1
  minor_version: 1
display_information:
  name: closebot
  description: Closes a Microsoft 365 tenant after a second admin approves.
features:
  app_home:
    home_tab_enabled: false
    messages_tab_enabled: true            # DMs: the kept admin's sign-in proof and gates, the requester's outcome
    messages_tab_read_only_enabled: true  # people do not write to closebot; they act with buttons
  bot_user:
    display_name: closebot
    always_online: true
  slash_commands:
    - command: /close-tenant
      description: Request closure of a Microsoft 365 tenant (needs approval)
      usage_hint: "<tenant> <reason> | plan <tenant> | status [CT-n] | help"
      should_escape: false                # text arrives as typed; closebot refuses <…> forms and escapes what it echoes
oauth_config:
  scopes:
    bot:
      - commands          # receive /close-tenant
      - chat:write        # post and edit the request card, the thread's step messages and DMs
      - users:read        # users.info on every decision: actor not deleted, not a bot, not a guest, of this team
      - usergroups:read   # usergroups.users.list: requesters and approvers given as user groups (S…)
      - channels:read     # conversations.info on a public channel: refuse channels shared with other organisations
      - groups:read       # conversations.info on a private channel, for the same check
      - channels:history  # conversations.replies at start-up: read back the audit heads closebot posted in a request's thread (public channel)
      - groups:history    # the same in a private channel: a database restored from an older copy is not resumed
      - im:write          # conversations.open: the DM channel with the kept admin or the requester
      - files:write       # attach what is too long for a message (the full plan, the audit export)
settings:
  interactivity:
    is_enabled: true      # buttons, confirm dialogs and the approval modal (delivered over the socket)
  org_deploy_enabled: false
  socket_mode_enabled: true     # closebot dials out; no public request URL
  token_rotation_enabled: false
`

// runManifest prints the Slack app manifest.
func runManifest(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("manifest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	_, err := io.WriteString(stdout, manifestYAML)
	return err
}
