package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/closebot/closebot/config"
)

// botScope is one bot scope of the manifest and why closebot asks for it
// (the manifest's comment on that line).
type botScope struct{ name, why string }

// manifestBotScopes reads the bot scopes of manifestYAML.
func manifestBotScopes() ([]botScope, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(manifestYAML), &doc); err != nil {
		return nil, fmt.Errorf("parse the manifest: %w", err)
	}
	n := &doc
	for _, key := range []string{"oauth_config", "scopes", "bot"} {
		if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
			n = n.Content[0]
		}
		var next *yaml.Node
		for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil, fmt.Errorf("the manifest has no oauth_config.scopes.bot (%s missing)", key)
		}
		n = next
	}
	var out []botScope
	for _, s := range n.Content {
		out = append(out, botScope{name: s.Value, why: strings.TrimSpace(strings.TrimPrefix(s.LineComment, "#"))})
	}
	return out, nil
}

// authTestAnswer is the part of auth.test's answer the check reads.
type authTestAnswer struct {
	OK     bool   `json:"ok"`
	Error  string `json:"error"`
	Team   string `json:"team"`
	TeamID string `json:"team_id"`
	UserID string `json:"user_id"`
	BotID  string `json:"bot_id"`
}

// checkSlack calls auth.test with the bot token: the token works, belongs
// to the configured workspace, and carries the manifest's bot scopes, no
// more (Slack lists a token's scopes in the X-OAuth-Scopes header of its
// answers; slack-go does not expose headers, so this is a plain call).
func checkSlack(ctx context.Context, c *config.Config, deps onlineDeps, r *onlineReport) {
	base := c.Env.SlackAPIURL
	if base == "" {
		base = "https://slack.com/api/"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"auth.test", strings.NewReader(""))
	if err != nil {
		r.problem("slack: %v", err)
		return
	}
	req.Header.Set("Authorization", "Bearer "+c.Env.SlackBotToken.Reveal())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := deps.SlackHTTP.Do(req)
	if err != nil {
		r.problem("slack: auth.test: %v: check the network path to %s", err, base)
		return
	}
	defer res.Body.Close()
	var a authTestAnswer
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&a); err != nil {
		r.problem("slack: auth.test answered HTTP %d that is not JSON: check %s", res.StatusCode, base)
		return
	}
	if !a.OK {
		r.problem("%s: Slack refuses the bot token (auth.test: %s): install the app to the workspace again and copy OAuth & Permissions → Bot User OAuth Token (xoxb-…)",
			config.EnvSlackBotToken, a.Error)
		return
	}
	if a.TeamID != c.Slack.TeamID {
		r.problem("slack.team_id: the configuration says %s but the bot token belongs to workspace %s (%s): correct slack.team_id, or use that workspace's token",
			c.Slack.TeamID, a.TeamID, a.Team)
	}
	r.say("slack: bot token of workspace %s (%s), bot user %s", a.TeamID, a.Team, a.UserID)
	checkScopes(res.Header.Values("X-OAuth-Scopes"), r)
}

// checkScopes compares the granted bot scopes with the manifest's.
func checkScopes(header []string, r *onlineReport) {
	want, err := manifestBotScopes()
	if err != nil {
		r.problem("slack: %v", err)
		return
	}
	if len(header) == 0 {
		r.problem("slack: Slack did not list the token's scopes (no X-OAuth-Scopes header): compare api.slack.com/apps → closebot → OAuth & Permissions → Bot Token Scopes with `closebot manifest`")
		return
	}
	var granted []string
	for _, h := range header {
		for _, s := range strings.Split(h, ",") {
			if s = strings.TrimSpace(s); s != "" {
				granted = append(granted, s)
			}
		}
	}
	ok := true
	for _, s := range want {
		if !slices.Contains(granted, s.name) {
			ok = false
			r.problem("slack: missing bot scope %s (%s): api.slack.com/apps → closebot → OAuth & Permissions → Bot Token Scopes → Add an OAuth Scope (or paste `closebot manifest` under App Manifest), then reinstall the app",
				s.name, s.why)
		}
	}
	for _, g := range granted {
		if !slices.ContainsFunc(want, func(s botScope) bool { return s.name == g }) {
			ok = false
			r.problem("slack: superfluous bot scope %s: closebot calls nothing that needs it; remove it under OAuth & Permissions → Bot Token Scopes and reinstall the app", g)
		}
	}
	if ok {
		r.say("slack: the %d bot scopes of the manifest, no more", len(want))
	}
}
