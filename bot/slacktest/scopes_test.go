package slacktest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Bot-token answers carry the granted scopes in X-OAuth-Scopes; the app
// token's do not; SetBotScopes changes them.
func TestAuthTestScopesHeader(t *testing.T) {
	srv := newServer(t, Options{RateLimit: RateLimitOptions{Disabled: true}})
	o := srv.Options()
	post := func(method, token string) *http.Response {
		res, err := http.PostForm(srv.APIURL()+method, url.Values{"token": {token}})
		require.NoError(t, err)
		res.Body.Close()
		return res
	}
	assert.Equal(t, strings.Join(DefaultBotScopes(), ","), post("auth.test", o.BotToken).Header.Get("X-OAuth-Scopes"))
	assert.Equal(t, strings.Join(DefaultBotScopes(), ","), post("users.info", o.BotToken).Header.Get("X-OAuth-Scopes"))
	assert.Empty(t, post("apps.connections.open", o.AppToken).Header.Values("X-OAuth-Scopes"))
	assert.Empty(t, post("auth.test", "xoxb-wrong").Header.Values("X-OAuth-Scopes"))

	srv.SetBotScopes("commands", "chat:write", "channels:manage")
	assert.Equal(t, "commands,chat:write,channels:manage", post("auth.test", o.BotToken).Header.Get("X-OAuth-Scopes"))
}
