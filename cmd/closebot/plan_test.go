package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/bot"
	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/graphtest"
	"github.com/closebot/closebot/internal/demo"
)

// planWorld is an emulated tenant and its configuration, for `closebot plan`.
func planWorld(t *testing.T, spec func(*graphtest.TenantSpec)) (*demo.World, func(tenant string, asJSON bool) (string, error)) {
	t.Helper()
	w, err := demo.StartWorld(demo.Options{Users: 12, Scale: 1, Spec: spec})
	require.NoError(t, err)
	t.Cleanup(w.Close)
	cfg, err := w.LoadConfig(filepath.Join(w.Dir(), "closebot.db"))
	require.NoError(t, err)
	return w, func(tenant string, asJSON bool) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var out bytes.Buffer
		err := showPlan(ctx, cfg, wiring{Transport: w.Graph().Client().Transport}, tenant, asJSON, &out)
		return out.String(), err
	}
}

// Issue 15 item 2: the terminal shows preflight and the full plan in the
// words Slack uses, read through the real msgraph-sdk-go from the Graph
// emulator, and writes nothing.
func TestPlanPrintsPreflightAndTheFullPlan(t *testing.T) {
	w, plan := planWorld(t, nil)
	domain := w.Tenant().Domain
	out, err := plan(domain, false)
	require.NoError(t, err)
	assert.Contains(t, out, "Preflight: every check passes")
	// The same words as Slack's `plan <tenant>` answer.
	assert.Contains(t, out, "Plan for "+domain+" (")
	assert.Contains(t, out, "read-only; nothing was changed.")
	assert.Contains(t, out, "• Users to delete: ")
	// The full plan names every user to delete, as the thread does.
	assert.Contains(t, out, "Users to delete (11)")
	for _, u := range w.Tenant().Users() {
		if strings.EqualFold(u.UPN, w.Tenant().KeptAdmin().UPN) {
			assert.NotContains(t, out, "• "+u.UPN+" (", "the kept admin is not deleted")
			continue
		}
		assert.Contains(t, out, "• "+u.UPN+" (")
	}
	assert.Empty(t, w.Graph().Writes(), "closebot plan writes nothing")
}

func TestPlanJSONForScripts(t *testing.T) {
	w, plan := planWorld(t, nil)
	out, err := plan(w.Tenant().ID, true) // the id works too
	require.NoError(t, err)
	var r struct {
		Tenant    string `json:"tenant"`
		Preflight struct {
			OK    bool                    `json:"ok"`
			Items []closure.PreflightItem `json:"items"`
		} `json:"preflight"`
		Summary closure.PlanSummary `json:"summary"`
		Plan    closure.Plan        `json:"plan"`
		Text    string              `json:"text"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	assert.Equal(t, w.Tenant().Domain, r.Tenant)
	assert.True(t, r.Preflight.OK)
	assert.NotNil(t, r.Preflight.Items, "an empty list, not null")
	assert.Equal(t, 11, r.Summary.UsersToDelete)
	assert.Len(t, r.Plan.Users, 11)
	assert.Contains(t, r.Text, "Plan for "+w.Tenant().Domain)
}

// A tenant preflight refuses: every item with its fix, in the words of
// Slack's refusal, the plan after it, and exit status 1.
func TestPlanPreflightRefusal(t *testing.T) {
	w, plan := planWorld(t, func(s *graphtest.TenantSpec) { s.LegalHold = true })
	out, err := plan(w.Tenant().Domain, false)
	require.ErrorIs(t, err, errPreflightRefused)
	assert.True(t, strings.HasPrefix(out, "closebot cannot close this tenant yet; fix "), out)
	assert.Contains(t, out, "Plan for "+w.Tenant().Domain)

	out, err = plan(w.Tenant().Domain, true)
	require.True(t, errors.Is(err, errPreflightRefused))
	assert.Contains(t, out, `"ok": false`)
}

func TestPlanUnknownTenant(t *testing.T) {
	_, plan := planWorld(t, nil)
	_, err := plan("fabrikam.onmicrosoft.com", false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not in the configuration")
}

// The words are the bot's own: the terminal text starts with what Slack
// answers to `plan <tenant>` after the preflight line.
func TestPlanTextIsSlacksText(t *testing.T) {
	p := &closure.Plan{TenantID: "t1", Users: []closure.PlanUser{{UPN: "a@x", Kind: closure.KindMember}}}
	got := planText("x.onmicrosoft.com", p, nil)
	assert.Contains(t, got, bot.PlanText("x.onmicrosoft.com", p))
	assert.Contains(t, got, "Users to delete (1)\n• a@x (member)")
}

func TestPlanUsage(t *testing.T) {
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"plan"}, &bytes.Buffer{}, &stderr)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr.String(), "--tenant <domain> is required")
}
