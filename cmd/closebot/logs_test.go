package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/config"
)

func jsonLines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		out = append(out, m)
	}
	return out
}

// Secrets never reach the log: the configured values wherever they appear
// (message, attribute, error, group, a logger's With), and anything shaped
// like a Slack or bearer token.
func TestLogRedactsSecrets(t *testing.T) {
	const (
		clientSecret = "Qx8~s3cr3t.client-secret_value"
		botToken     = "xoxb-1111-2222-abcdefABCDEF"
		appToken     = "xapp-1-A0CLOSEBOT-3333-deadbeef"
		auditKey     = "0123456789abcdef0123456789abcdef"
	)
	cfg := &config.Config{Env: config.Env{
		SlackAppToken: config.Secret(appToken), SlackBotToken: config.Secret(botToken), AuditKey: config.Secret(auditKey),
	}, Tenants: []config.Tenant{{Domain: "contoso.onmicrosoft.com", ClientSecret: config.Secret(clientSecret)}}}
	var buf bytes.Buffer
	log := slog.New(newLogHandler(&buf, true, nil, configSecrets(cfg), nil))

	log.Info("dial failed with "+botToken, "err", errors.New("401 for token "+appToken))
	log.With("secret", clientSecret).Warn("token request", "body", "client_id=x&client_secret="+clientSecret+"&scope=y")
	log.Info("graph", slog.Group("http", "authorization", "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOi.payload.sig"))
	log.Info("a bearer token is refused", "requests", []string{"CT-1", "CT-2"}, "dial", []string{"wss://x/?ticket=abc123"}) // words and lists stay
	log.Info("other tokens", "user_token", "xoxp-9999-8888-zzz", "url", "wss://wss.slack.com/link/?ticket=abc123&app_id=A1", "key", auditKey)

	out := buf.String()
	for _, s := range []string{clientSecret, botToken, appToken, auditKey, "eyJ0eXAiOiJKV1QiLCJhbGciOi", "xoxp-9999", "abc123"} {
		assert.NotContains(t, out, s)
	}
	assert.Equal(t, 9, strings.Count(out, redactedText), out)
	assert.Contains(t, out, "app_id=A1", "only the secret part goes")
	assert.Contains(t, out, `"msg":"a bearer token is refused","requests":["CT-1","CT-2"],"dial":"[wss://x/?[redacted]"`)
	assert.Len(t, jsonLines(t, &buf), 5, "still one JSON object a line")
}

// Every line that names a request names its tenant, whether the request
// came as an attribute or through With; a line that already names a tenant
// keeps its own.
func TestLogNamesTheRequestsTenant(t *testing.T) {
	names := &requestTenants{}
	names.note("CT-7", "contoso.onmicrosoft.com")
	var buf bytes.Buffer
	log := slog.New(newLogHandler(&buf, true, nil, nil, names))

	log.Info("advance request", "request", "CT-7", "err", "boom")
	log.With("request", "CT-7").Info("step 1")
	log.Info("read", "request", "CT-7", "tenant", "fabrikam.onmicrosoft.com")
	log.Info("unknown", "request", "CT-8")

	lines := jsonLines(t, &buf)
	require.Len(t, lines, 4)
	assert.Equal(t, "contoso.onmicrosoft.com", lines[0]["tenant"])
	assert.Equal(t, "contoso.onmicrosoft.com", lines[1]["tenant"])
	assert.Equal(t, "fabrikam.onmicrosoft.com", lines[2]["tenant"])
	assert.NotContains(t, lines[3], "tenant")
	assert.Equal(t, 1, strings.Count(strings.Split(buf.String(), "\n")[2], `"tenant"`), "not named twice")
}
