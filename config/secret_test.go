package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// TestSecretsNeverPrint: a whole Config, and a Secret on its own, go
// through every printer closebot or a careless caller might use.
func TestSecretsNeverPrint(t *testing.T) {
	f := newFixture(t, goodYAML)
	c, err := f.load(t)
	require.NoError(t, err)
	require.Equal(t, secretValue, c.Tenants[0].ClientSecret.Reveal())

	outputs := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		outputs["fmt "+verb+" config"] = fmt.Sprintf(verb, c)
		outputs["fmt "+verb+" *config"] = fmt.Sprintf(verb, *c)
		outputs["fmt "+verb+" secret"] = fmt.Sprintf(verb, c.Env.SlackBotToken)
		outputs["fmt "+verb+" tenant"] = fmt.Sprintf(verb, c.Tenants[0])
	}
	outputs["fmt Sprint"] = fmt.Sprint(c.Env, c.Tenants)
	j, err := json.Marshal(c)
	require.NoError(t, err)
	outputs["json"] = string(j)
	y, err := yaml.Marshal(c)
	require.NoError(t, err)
	outputs["yaml"] = string(y)
	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"slog text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"slog json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var b bytes.Buffer
		log := slog.New(h(&b))
		log.Info("config", "config", c, "env", c.Env, "token", c.Env.SlackAppToken, "tenant", c.Tenants[0])
		log.Info("group", slog.Group("g", slog.Any("key", c.Env.AuditKey)))
		outputs[name] = b.String()
	}

	for name, out := range outputs {
		for _, s := range []string{secretValue, appToken, botToken, auditKey, "APPTOKENSECRET", "BOTTOKENSECRET", "xapp-1", "xoxb-1234"} {
			assert.NotContains(t, out, s, name)
		}
		if !strings.Contains(name, "%x") {
			assert.Contains(t, out, "[redacted]", name)
		}
	}
	// Spot checks of the exact forms.
	s := Secret("hunter2")
	assert.Equal(t, "[redacted]", fmt.Sprintf("%v|%+v|%#v|%s", s, s, s, s)[:10])
	assert.Equal(t, "[redacted]|[redacted]|[redacted]|[redacted]", fmt.Sprintf("%v|%+v|%#v|%s", s, s, s, s))
	jb, _ := json.Marshal(map[string]Secret{"k": s})
	assert.JSONEq(t, `{"k":"[redacted]"}`, string(jb))
	yb, _ := yaml.Marshal(map[string]Secret{"k": s})
	assert.Equal(t, "k: '[redacted]'\n", string(yb))
	assert.Equal(t, "[redacted]", s.LogValue().String())
	assert.Equal(t, "hunter2", s.Reveal())
	assert.True(t, s.IsSet())
}
