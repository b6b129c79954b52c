package slacktest

import (
	"slices"
	"strings"
)

// defaultBotScopes are the bot scopes of closebot's app manifest
// (cmd/closebot manifest.go; a test there keeps the two equal).
var defaultBotScopes = []string{
	"commands", "chat:write", "users:read", "usergroups:read", "channels:read", "groups:read",
	"channels:history", "groups:history", "im:write", "files:write",
}

// DefaultBotScopes returns the scopes the bot token is granted unless
// Options.BotScopes or SetBotScopes says otherwise.
func DefaultBotScopes() []string { return slices.Clone(defaultBotScopes) }

// SetBotScopes changes the bot token's granted scopes (an app reinstalled
// with a different scope list).
func (s *Server) SetBotScopes(scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.botScopes = append([]string{}, scopes...)
}

// scopesHeader is the x-oauth-scopes value: the granted scopes, comma separated.
func (s *Server) scopesHeader() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.botScopes != nil:
		return strings.Join(s.botScopes, ",")
	case s.opts.BotScopes != nil:
		return strings.Join(s.opts.BotScopes, ",")
	}
	return strings.Join(defaultBotScopes, ",")
}
