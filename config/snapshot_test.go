package config

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPolicyFromConfig(t *testing.T) {
	f := newFixture(t, goodYAML)
	c, err := f.load(t)
	require.NoError(t, err)
	p := c.Policy()
	require.NoError(t, p.Validate())
	assert.Equal(t, "T0ACME", p.TeamID)
	assert.Equal(t, 2, p.Required)
	assert.True(t, p.Disjoint)
	assert.Equal(t, c.Gates.StuckAfter, p.StuckAfter)
	tp, ok := p.Tenant("contoso.onmicrosoft.com")
	require.True(t, ok)
	assert.Equal(t, "U0CAROL", tp.KeepSlackUser)
	assert.Equal(t, "11111111-1111-1111-1111-111111111111", tp.ClientID)

	// The config digest ignores list order but not membership.
	f2 := newFixture(t, replace(t, goodYAML, "approvers: [U0BOB, S0SECLEAD]", "approvers: [S0SECLEAD, U0BOB]"))
	c2, err := f2.load(t)
	require.NoError(t, err)
	p2 := c2.Policy()
	assert.Equal(t, p.ConfigDigest(tp.ID), p2.ConfigDigest(tp.ID))
	f3 := newFixture(t, replace(t, goodYAML, "approvers: [U0BOB, S0SECLEAD]", "approvers: [U0DAVE, S0SECLEAD]"))
	c3, err := f3.load(t)
	require.NoError(t, err)
	p3 := c3.Policy()
	assert.NotEqual(t, p.ConfigDigest(tp.ID), p3.ConfigDigest(tp.ID))
}

func TestSnapshotAndDiff(t *testing.T) {
	f := newFixture(t, goodYAML)
	c, err := f.load(t)
	require.NoError(t, err)
	old := c.Snapshot()
	assert.Equal(t, []string{"S0ITOPS", "U0ALICE"}, old.Requesters, "sorted")
	assert.Nil(t, DiffSnapshots(old, old))

	// A snapshot survives the JSON round trip the bot stores it through.
	b, err := json.Marshal(old)
	require.NoError(t, err)
	var back Snapshot
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, old, back)

	text := replace(t, goodYAML, "approvers: [U0BOB, S0SECLEAD]", "approvers: [U0DAVE, S0SECLEAD, S0AUDIT]")
	text = replace(t, text, "required: 2, disjoint: true", "required: 1, disjoint: false")
	text = replace(t, text, "keep: admin@contoso.onmicrosoft.com", "keep: root@contoso.onmicrosoft.com")
	text = replace(t, text, "keep_slack_user: U0CAROL", "keep_slack_user: U0ERIN")
	text += `  - id: 7f1c3a52-8d0e-4b7a-9c21-3e5d4f6a7b80
    domain: fabrikam.onmicrosoft.com
    keep: admin@fabrikam.onmicrosoft.com
    keep_slack_user: U0FRANK
    signin_client_id: 14d82eec-204b-4c2f-b7e8-296a70dab67e
    client_id: 11111111-1111-1111-1111-111111111111
    client_secret_env: CONTOSO_CLIENT_SECRET
`
	f2 := newFixture(t, text)
	c2, err := f2.load(t)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"slack.approvers: added S0AUDIT, U0DAVE; removed U0BOB",
		"approval.required: 2 → 1",
		"approval.disjoint: true → false",
		"tenant contoso.onmicrosoft.com (6f1c3a52-8d0e-4b7a-9c21-3e5d4f6a7b80): keep admin@contoso.onmicrosoft.com → root@contoso.onmicrosoft.com",
		"tenant contoso.onmicrosoft.com (6f1c3a52-8d0e-4b7a-9c21-3e5d4f6a7b80): keep_slack_user U0CAROL → U0ERIN",
		"tenant fabrikam.onmicrosoft.com (7f1c3a52-8d0e-4b7a-9c21-3e5d4f6a7b80) added: keep admin@fabrikam.onmicrosoft.com, keep_slack_user U0FRANK",
	}, DiffSnapshots(old, c2.Snapshot()))
	assert.Equal(t, []string{
		"slack.approvers: added U0BOB; removed S0AUDIT, U0DAVE",
		"approval.required: 1 → 2",
		"approval.disjoint: false → true",
		"tenant contoso.onmicrosoft.com (6f1c3a52-8d0e-4b7a-9c21-3e5d4f6a7b80): keep root@contoso.onmicrosoft.com → admin@contoso.onmicrosoft.com",
		"tenant contoso.onmicrosoft.com (6f1c3a52-8d0e-4b7a-9c21-3e5d4f6a7b80): keep_slack_user U0ERIN → U0CAROL",
		"tenant fabrikam.onmicrosoft.com (7f1c3a52-8d0e-4b7a-9c21-3e5d4f6a7b80) removed",
	}, DiffSnapshots(c2.Snapshot(), old))
	// First run: everything appears as added.
	first := DiffSnapshots(Snapshot{}, old)
	assert.Contains(t, first, "slack.requesters: added S0ITOPS, U0ALICE")
}
