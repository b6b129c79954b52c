package blocks

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"AT&T":                       "AT&amp;T",
		"<!channel>":                 "&lt;!channel&gt;",
		"<@U0BOB>":                   "&lt;@U0BOB&gt;",
		"<https://evil.example|x>":   "&lt;https://evil.example|x&gt;",
		"*bold* _it_ ~s~ `c` @here":  "*bold* _it_ ~s~ `c` @here", // only &, <, >
		"&amp; already":              "&amp;amp; already",
		"<!subteam^S0X|@seclead> hi": "&lt;!subteam^S0X|@seclead&gt; hi",
	} {
		assert.Equal(t, want, Escape(in), in)
	}
}

func TestEscClipKeepsEntitiesWhole(t *testing.T) {
	got := escClip(strings.Repeat("<", 100), 10)
	assert.Equal(t, "&lt;&lt;…", got)
	assert.Equal(t, "a&amp;b", escClip("a&b", 10))
}

// textObjects walks any JSON value and returns every composition text object.
func textObjects(v any) []map[string]any {
	var out []map[string]any
	switch x := v.(type) {
	case map[string]any:
		if typ, _ := x["type"].(string); (typ == "mrkdwn" || typ == "plain_text") && x["text"] != nil {
			out = append(out, x)
		}
		for _, c := range x {
			out = append(out, textObjects(c)...)
		}
	case []any:
		for _, c := range x {
			out = append(out, textObjects(c)...)
		}
	}
	return out
}

func decode(t *testing.T, v any) any {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(raw, &out))
	return out
}

// The hostile reason reaches Slack inert in mrkdwn (escaped, verbatim) and
// readable in plain_text; nothing in any message pings or links from it.
func TestHostileReason(t *testing.T) {
	escaped := "&lt;!channel&gt; &lt;@U0BOB&gt; &lt;https://evil.example|x&gt; *bold* AT&amp;T"
	for _, state := range []closure.State{closure.StatePending, closure.StateRunning, closure.StateClosed} {
		v := baseCard(state)
		v.Reason = hostile
		v.TenantName = hostile
		v.RejectReason, v.FailReason = hostile, hostile
		m := Card(v)
		require.NoError(t, CheckMessage(m))
		var sawReason bool
		for _, obj := range textObjects(decode(t, m)) {
			text := obj["text"].(string)
			if obj["type"] == "mrkdwn" {
				assert.Equal(t, true, obj["verbatim"], "every mrkdwn object is verbatim: %q", text)
				assert.NotContains(t, text, "<!channel>")
				assert.NotContains(t, text, "<https://evil")
				assert.NotContains(t, text, "AT&T")
			}
			if strings.HasPrefix(text, "*Reason*\n") {
				sawReason = true
				assert.Equal(t, "*Reason*\n"+escaped, text)
			}
		}
		assert.True(t, sawReason, state)
		assert.NotContains(t, m.Text, "<!channel>")
	}

	// plain_text: the modal shows the reason as typed.
	modal := decode(t, ApprovalModal(modalFixture()))
	var plainReason string
	for _, obj := range textObjects(modal) {
		if obj["type"] == "plain_text" && strings.HasPrefix(obj["text"].(string), "Reason: ") {
			plainReason = obj["text"].(string)
		}
		if obj["type"] == "mrkdwn" {
			assert.NotContains(t, obj["text"], "<!channel>")
		}
	}
	assert.Equal(t, "Reason: "+hostile, plainReason)

	// Gate, step and refusal texts carrying Graph's words or names.
	g := gateFixtures()["gate_user_refused"]
	g.Instruction = closure.InstructionFor(closure.Gate{Kind: closure.GateUserRefused, Params: map[string]string{"error": hostile, "users": hostile}})
	s := stepFixtures()["step_failed"]
	s.Note = hostile
	for _, m := range []Message{Gate(g), Step(s), Refusal(hostile), Notice(hostile)} {
		require.NoError(t, CheckMessage(m))
		raw := string(marshal(t, m))
		assert.Contains(t, raw, escaped)
		assert.NotContains(t, raw, "<!channel>")
		assert.NotContains(t, raw, "<@U0BOB>", "no mention can come from user text")
	}
}

func TestMentionOnlyFromValidIDs(t *testing.T) {
	assert.Equal(t, "<@U0BOB>", Mention("U0BOB"))
	assert.Equal(t, "<@W0ENTERPRISE>", Mention("W0ENTERPRISE"))
	assert.Equal(t, "<!subteam^S0SECLEAD>", Mention("S0SECLEAD"))
	for _, bad := range []string{"<!channel>", "U0BOB>", "u0bob", "@here", "S0X|x", "C0CHANNEL", "", "U0BOB> <!everyone"} {
		got := Mention(bad)
		assert.NotContains(t, got, "<", bad)
		assert.False(t, strings.HasPrefix(got, "<@"), bad)
	}
	assert.Equal(t, "<!date^1772443800^{date_short_pretty} {time}|2026-03-02 09:30 UTC>", Date(t0))
	assert.Equal(t, "9f8e7d6c", MACPrefix(mac))
	assert.Equal(t, "????????", MACPrefix("<!channel>1234"))
}

// Thread replies, requester DMs, reminders and config notices quote user
// text (reasons, failures, details, domains, config lines) escaped; the
// only mentions in them are built from validated ids.
func TestHostileEventLines(t *testing.T) {
	escaped := "&lt;!channel&gt; &lt;@U0BOB&gt; &lt;https://evil.example|x&gt; *bold* AT&amp;T"
	var msgs []Message
	for _, a := range []closure.EventAction{closure.EvReject, closure.EvPause, closure.EvProofFailed, closure.EvDrift,
		closure.EvStepFailed, closure.EvSyncOff} {
		m, ok := Event(EventView{RequestID: "CT-12", Action: a, Actor: "closebot", RejectReason: hostile, FailReason: hostile,
			Detail: map[string]string{"why": hostile, "change.1": hostile, "previous": hostile}, Seq: 1, MAC: mac})
		require.True(t, ok, a)
		msgs = append(msgs, m)
	}
	for _, to := range []closure.State{closure.StateRejected, closure.StateFailed} {
		msgs = append(msgs, RequesterDM(RequesterDMView{RequestID: "CT-12", TenantDomain: "contoso.com", To: to,
			RejectReason: hostile, FailReason: hostile, Channel: "C0OPS", Seq: 1, MAC: mac}))
	}
	msgs = append(msgs, Reminder(ReminderView{RequestID: "CT-12", TenantDomain: hostile, Step: 2, GateTitle: "Azure", Seq: 1, MAC: mac}),
		ConfigChanges([]string{"reason " + hostile}))
	for i, m := range msgs {
		require.NoError(t, CheckMessage(m), i)
		raw := string(marshal(t, m))
		assert.Contains(t, raw, escaped, i)
		assert.NotContains(t, raw, "<!channel>", i)
		assert.NotContains(t, raw, "<@U0BOB>", "no mention can come from user text (%d)", i)
		assert.NotContains(t, m.Text, "<!channel>", i)
	}
	// An actor that is no Slack id is shown inert, never as a mention.
	m, _ := Event(EventView{RequestID: "CT-12", Action: closure.EvAbort, Actor: "<!here>", Seq: 1, MAC: mac})
	assert.NotContains(t, string(marshal(t, m)), "<!here>")
}
