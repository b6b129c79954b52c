package blocks

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// marshal is the golden encoding: indented, in slack-go's field order, with
// <, > and & shown as they reach Slack (slack-go's nested MarshalJSON calls
// write them as \u003c…, which is the same JSON).
func marshal(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	var compact bytes.Buffer
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	type frame struct {
		object bool
		n      int
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			compact.WriteByte(byte(d))
			stack = stack[:len(stack)-1]
			continue
		}
		if len(stack) > 0 {
			top := &stack[len(stack)-1]
			switch {
			case top.object && top.n%2 == 1:
				compact.WriteByte(':')
			case top.n > 0:
				compact.WriteByte(',')
			}
			top.n++
		}
		switch x := tok.(type) {
		case json.Delim:
			compact.WriteByte(byte(x))
			stack = append(stack, frame{object: x == '{'})
		default:
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			require.NoError(t, enc.Encode(x))
			compact.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
		}
	}
	var out bytes.Buffer
	require.NoError(t, json.Indent(&out, compact.Bytes(), "", "  "))
	out.WriteByte('\n')
	require.True(t, json.Valid(out.Bytes()))
	var a, b any
	require.NoError(t, json.Unmarshal(raw, &a))
	require.NoError(t, json.Unmarshal(out.Bytes(), &b))
	require.Equal(t, a, b, "golden encoding must be the same JSON as the wire's")
	return out.Bytes()
}

func golden(t *testing.T, name string, v any) {
	t.Helper()
	got := marshal(t, v)
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run go test ./bot/blocks -update")
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from %s (run with -update after checking the change):\n%s", name, path, got)
	}
}

// allMessages is every fixture message, by golden name.
func allMessages() map[string]Message {
	out := map[string]Message{}
	for name, v := range cardFixtures() {
		out[name] = Card(v)
	}
	out["card_big_tenant"] = Card(bigCard())
	for name, v := range stepFixtures() {
		out[name] = Step(v)
	}
	for name, v := range gateFixtures() {
		out[name] = Gate(v)
	}
	for name, v := range eventFixtures() {
		m, ok := Event(v)
		if !ok {
			panic("no thread reply for fixture " + name)
		}
		out[name] = m
	}
	for name, v := range requesterDMFixtures() {
		out[name] = RequesterDM(v)
	}
	for name, v := range reminderFixtures() {
		out[name] = Reminder(v)
	}
	out["config_changes"] = ConfigChanges(configChangeLines)
	out["summary"] = ClosingSummary(summaryFixture())
	out["help"] = Help(usage)
	out["refusal"] = Refusal("You requested CT-12, so you cannot approve it: " + hostile)
	out["notice"] = Notice("Request received; reading the tenant.")
	out["signin"] = SignIn(SignInView{RequestID: "CT-12", TenantDomain: "contoso.onmicrosoft.com", KeepUser: "U0CAROL",
		KeepUPN: "admin@contoso.onmicrosoft.com", UserCode: "ABCD-EFGH", VerificationURL: "https://microsoft.com/devicelogin",
		ExpiresOn: t0.Add(15 * time.Minute)})
	return out
}

func sortedNames(m map[string]Message) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func TestGoldenMessages(t *testing.T) {
	msgs := allMessages()
	for _, name := range sortedNames(msgs) {
		t.Run(name, func(t *testing.T) {
			m := msgs[name]
			require.NoError(t, CheckMessage(m))
			golden(t, name, m)
		})
	}
}

func TestGoldenModal(t *testing.T) {
	v := ApprovalModal(modalFixture())
	require.NoError(t, CheckModal(v))
	golden(t, "modal_approval", v)
}

func TestGoldenRejectModal(t *testing.T) {
	v := RejectModal(Metadata{Request: "CT-12", Version: 7, Digest: digest})
	require.NoError(t, CheckModal(v))
	golden(t, "modal_reject", v)
}

func TestGoldenPlanDetail(t *testing.T) {
	parts := PlanDetail("CT-12", bigCard().Top)
	require.Greater(t, len(parts), 1, "5,700 long names need more than one thread message")
	for _, m := range parts {
		require.NoError(t, CheckMessage(m))
	}
	golden(t, "plan_detail_small", PlanDetail("CT-12", baseCard("pending").Top))
}
