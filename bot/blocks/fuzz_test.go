package blocks

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// Fuzz targets for what arrives from Slack in interaction payloads (issue
// 11, item 8): button values (block_actions), the modals' private_metadata
// and their view_submission state values. Nothing in them is trusted; the
// properties are: no panic, what parses round-trips, and what is accepted
// is exactly what was asked for. Seeds: testdata/fuzz/<target>/.

// FuzzParseValue: any string as a button value.
func FuzzParseValue(f *testing.F) {
	for _, s := range []string{"CT-1|1", "CT-12|7|gate.azure|no_azure", "CT-1|1||x", "CT-0001|18446744073709551615", "CT-1|1|%zz", "CT-1|-1", "CT-1|1|a|b|c", "ct-1|1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseValue(s)
		if err != nil {
			if v != (Value{}) {
				t.Fatalf("%q: refused but returned %#v", s, v)
			}
			return
		}
		checkValue(t, s, v)
	})
}

// FuzzValueRoundTrip: every value closebot can draw parses back to itself.
func FuzzValueRoundTrip(f *testing.F) {
	f.Add(uint64(1), uint64(1), "", "")
	f.Add(uint64(12), uint64(9), "gate.azure", "no_azure")
	f.Add(uint64(999999999999), uint64(1<<63), "a|b%c+d e", "")
	f.Add(uint64(3), uint64(2), "", "only|sentence")
	f.Fuzz(func(t *testing.T, n, version uint64, gate, sentence string) {
		if n == 0 || n > 999999999999 || !utf8.ValidString(gate) || !utf8.ValidString(sentence) {
			return // not a request id closebot makes; gate and sentence ids are ASCII
		}
		v := Value{Request: "CT-" + strconv.FormatUint(n, 10), Version: version, Gate: gate, Sentence: sentence}
		got, err := ParseValue(v.String())
		if err != nil {
			t.Fatalf("%#v encodes as %q, which does not parse: %v", v, v.String(), err)
		}
		if got != v {
			t.Fatalf("%#v → %q → %#v", v, v.String(), got)
		}
	})
}

// FuzzParseMetadata: any string as a modal's private_metadata.
func FuzzParseMetadata(f *testing.F) {
	for _, s := range []string{"CT-1|1|ab", "CT-7|3|" + strings.Repeat("f", 64), "CT-1|1|" + strings.Repeat("a", 129), "CT-1|0|ab", "CT-1|1|zz", "CT-1|1|ab|x", "CT-1||ab"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMetadata(s)
		if err != nil {
			if m != (Metadata{}) {
				t.Fatalf("%q: refused but returned %#v", s, m)
			}
			return
		}
		if !requestPattern.MatchString(m.Request) || !hexPattern.MatchString(m.Digest) || len(m.Digest) > 128 {
			t.Fatalf("%q: accepted %#v", s, m)
		}
		if strings.Contains(m.Request+m.Digest, "|") {
			t.Fatalf("%q: a separator inside a field: %#v", s, m)
		}
		again, err := ParseMetadata(m.String())
		if err != nil || again != m {
			t.Fatalf("%q → %#v → %q → %#v, %v", s, m, m.String(), again, err)
		}
	})
}

// approvalWant is the approval the payload target checks submissions
// against: 11 items, so the checkboxes span two blocks.
var approvalWant = Expected{
	TenantDomain: "contoso.onmicrosoft.com",
	Users:        1234,
	Items: append([]Irreversible{ItemSyncOff, ItemDataBackedUp, ItemDevicesHandled, ItemMultiTenant, ItemTenantDeleted},
		func() []Irreversible {
			var more []Irreversible
			for i := range 6 {
				more = append(more, Irreversible{ID: "extra" + strconv.Itoa(i), Text: "Extra item " + strconv.Itoa(i)})
			}
			return more
		}()...),
}

// FuzzInteractionPayload: any bytes as the payload of a socket-mode
// "interactive" envelope, decoded by slack-go as the bot decodes it. Button
// values go through ParseValue; a view submission's private_metadata
// through ParseMetadata and its state values through ValidateApproval and
// ValidateReject.
//
// A view_submission without "state" decodes with View.State nil: the bot's
// handler (bot/submit.go) reads view.State.Values and must check for nil
// first; here the values are then empty, which must be refused.
func FuzzInteractionPayload(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte) {
		var cb slack.InteractionCallback
		if err := json.Unmarshal(payload, &cb); err != nil {
			return
		}
		for _, a := range cb.ActionCallback.BlockActions {
			if a == nil {
				continue
			}
			if v, err := ParseValue(a.Value); err == nil {
				checkValue(t, a.Value, v)
			}
		}
		if m, err := ParseMetadata(cb.View.PrivateMetadata); err == nil {
			if again, err := ParseMetadata(m.String()); err != nil || again != m {
				t.Fatalf("metadata %q does not round-trip", cb.View.PrivateMetadata)
			}
		}
		var values map[string]map[string]slack.BlockAction
		if cb.View.State != nil {
			values = cb.View.State.Values
		}
		checkApproval(t, values)
		checkReject(t, values)
	})
}

// checkValue: an accepted button value names a request closebot could have
// made and draws the same value again.
func checkValue(t *testing.T, s string, v Value) {
	t.Helper()
	if !requestPattern.MatchString(v.Request) {
		t.Fatalf("%q: accepted request %q", s, v.Request)
	}
	again, err := ParseValue(v.String())
	if err != nil || again != v {
		t.Fatalf("%q → %#v → %q → %#v, %v", s, v, v.String(), again, err)
	}
}

// checkApproval: errors only name the modal's input blocks, and an
// accepted submission typed the domain and the count and ticked every item.
func checkApproval(t *testing.T, values map[string]map[string]slack.BlockAction) {
	t.Helper()
	errs := ValidateApproval(values, approvalWant)
	for k, msg := range errs {
		if k != BlockModalDomain && k != BlockModalUsers && k != BlockModalItems+"0" && k != BlockModalItems+"1" {
			t.Fatalf("error keyed by %q, not an input block of the modal", k)
		}
		if msg == "" || utf8.RuneCountInString(msg) > 2000 {
			t.Fatalf("error for %s is empty or too long for Slack (%d runes)", k, utf8.RuneCountInString(msg))
		}
	}
	if len(errs) > 0 {
		return
	}
	domain := strings.TrimSpace(values[BlockModalDomain][ActionModalDomain].Value)
	if !strings.EqualFold(domain, approvalWant.TenantDomain) {
		t.Fatalf("accepted domain %q", domain)
	}
	if n, ok := parseCount(values[BlockModalUsers][ActionModalUsers].Value); !ok || n != approvalWant.Users {
		t.Fatalf("accepted user count %q", values[BlockModalUsers][ActionModalUsers].Value)
	}
	ticked := map[string]bool{}
	for _, b := range []string{BlockModalItems + "0", BlockModalItems + "1"} {
		for _, o := range values[b][ActionModalItems].SelectedOptions {
			ticked[o.Value] = true
		}
	}
	for _, it := range approvalWant.Items {
		if !ticked[it.ID] {
			t.Fatalf("accepted without %q ticked", it.ID)
		}
	}
}

// checkReject: a reason is accepted only with 3 runes or more once
// trimmed, and it is what was typed, trimmed.
func checkReject(t *testing.T, values map[string]map[string]slack.BlockAction) {
	t.Helper()
	reason, errs := ValidateReject(values)
	typed := strings.TrimSpace(values[BlockRejectReason][ActionRejectReason].Value)
	switch {
	case len(errs) > 0 && reason != "":
		t.Fatalf("refused but returned reason %q", reason)
	case len(errs) > 0:
		if _, ok := errs[BlockRejectReason]; !ok || len(errs) != 1 {
			t.Fatalf("errors %v not keyed by the reason block", errs)
		}
	case reason != typed || utf8.RuneCountInString(reason) < 3:
		t.Fatalf("accepted reason %q for typed %q", reason, typed)
	}
}

// TestPayloadSeedsReachAcceptance: the seed corpus holds submissions that
// are accepted, so the "accepted means exactly what was asked" properties
// are exercised, not vacuous.
func TestPayloadSeedsReachAcceptance(t *testing.T) {
	values := func(name string) map[string]map[string]slack.BlockAction {
		raw, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzInteractionPayload", name))
		if err != nil {
			t.Fatal(err)
		}
		_, lit, _ := strings.Cut(strings.TrimSpace(string(raw)), "\n")
		s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lit, "[]byte("), ")"))
		if err != nil {
			t.Fatal(err)
		}
		var cb slack.InteractionCallback
		if err := json.Unmarshal([]byte(s), &cb); err != nil {
			t.Fatal(err)
		}
		return cb.View.State.Values
	}
	if errs := ValidateApproval(values("approval_valid"), approvalWant); len(errs) > 0 {
		t.Errorf("approval_valid refused: %v", errs)
	}
	if errs := ValidateApproval(values("approval_wrong_count_missing_item"), approvalWant); len(errs) != 2 {
		t.Errorf("approval_wrong_count_missing_item: %v", errs)
	}
	if reason, errs := ValidateReject(values("reject_reason")); len(errs) > 0 || !strings.HasPrefix(reason, "wrong tenant") {
		t.Errorf("reject_reason: %q %v", reason, errs)
	}
}
