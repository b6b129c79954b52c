package commands

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func codeOf(t *testing.T, err error) *Error {
	t.Helper()
	require.Error(t, err)
	var e *Error
	require.ErrorAs(t, err, &e)
	return e
}

func TestParseLimits(t *testing.T) {
	_, err := Parse("contoso.onmicrosoft.com "+strings.Repeat("x", MaxTextLen), testLookup{})
	e := codeOf(t, err)
	assert.Equal(t, TooLong, e.Code)
	assert.Equal(t, "The command is 4,024 characters long; the limit is 4,000. Put the details in the ticket and give its number in the reason.", e.Message)

	// Far over: refused before decoding.
	_, err = Parse(strings.Repeat("\xff", 4*MaxTextLen+1), testLookup{})
	assert.Equal(t, TooLong, codeOf(t, err).Code)

	// Exactly at the limit is fine.
	c, err := Parse("help"+strings.Repeat(" ", MaxTextLen-4), testLookup{})
	require.NoError(t, err)
	assert.Equal(t, Help, c.Kind)

	_, err = Parse("contoso.onmicrosoft.com "+strings.Repeat("é", MaxReasonLen+1), testLookup{})
	e = codeOf(t, err)
	assert.Equal(t, ReasonTooLong, e.Code)
	assert.Equal(t, "The reason is 1,001 characters long; the limit is 1,000. Put the details in the ticket and give its number in the reason.", e.Message)

	// The cap applies to the reason after its quotes are removed.
	c, err = Parse(`contoso.onmicrosoft.com "`+strings.Repeat("a", MaxReasonLen)+`"`, testLookup{})
	require.NoError(t, err)
	assert.Len(t, c.Reason, MaxReasonLen)
}

func TestParseControlCharacters(t *testing.T) {
	for _, r := range []string{"\x00", "\x01", "\x1b", "\x7f", "\u0085", "\v", "\f", "\u202a", "\u202d", "\u2066", "\u2069"} {
		for _, in := range []string{"status" + r, "contoso.onmicrosoft.com reason " + r + " end", r + "list"} {
			_, err := Parse(in, testLookup{})
			assert.Equal(t, BadCharacters, codeOf(t, err).Code, "%q", in)
		}
	}
	// Tab, line feed and carriage return are white space; direction marks are text.
	c, err := Parse("contoso.onmicrosoft.com\r\na\tb\u200ec\u200fd\u061c", testLookup{})
	require.NoError(t, err)
	assert.Equal(t, "a\tb\u200ec\u200fd\u061c", c.Reason)
}

// Every Slack "<…>" form, in every tenant position, is refused with a
// message that names the expected forms and does not echo the markup.
func TestParseSlackFormsInTenantPosition(t *testing.T) {
	forms := []string{
		"<@U0ALICE>", "<@U0ALICE|alice>", "<#C0OPS>", "<#C0OPS|ops>", "<!channel>", "<!here>", "<!everyone>",
		"<!subteam^S0ITOPS>", "<!subteam^S0ITOPS|@itops>", "<!date^1392734382^{date}|Feb 18>",
		"<mailto:admin@contoso.onmicrosoft.com|admin@contoso.onmicrosoft.com>", "<mailto:a@b.c>",
		"<https://contoso.onmicrosoft.com>", "<https://contoso.onmicrosoft.com|contoso.onmicrosoft.com>",
		"<http://contoso.onmicrosoft.com|label with spaces>", "<contoso.onmicrosoft.com>", "<>", "<", ">", "a|b.c",
		"contoso.onmicrosoft.com>", "<tel:+15555550100|call>",
	}
	for _, f := range forms {
		for _, in := range []string{
			f + " Company dissolved",
			"plan " + f,
			"PLAN " + f + " extra words",
			`"` + f + `" Company dissolved`,
			"'" + f + "' Company dissolved",
		} {
			_, err := Parse(in, testLookup{})
			e := codeOf(t, err)
			assert.Equal(t, BadTenantForm, e.Code, "%q", in)
			assert.Contains(t, e.Message, "contoso.onmicrosoft.com", "%q", in)
			assert.Contains(t, e.Message, "00000000-0000-0000-0000-000000000000", "%q", in)
			assert.NotContains(t, e.Message, "<", "%q", in)
			assert.NotContains(t, e.Message, ">", "%q", in)
		}
	}
}

// Only the normalised form of a well-formed tenant ever reaches the Lookup.
func TestParseLookupSeesNormalisedTenant(t *testing.T) {
	spy := &spyLookup{}
	for _, in := range []string{
		"CONTOSO.OnMicrosoft.com. r", "plan Contoso.onmicrosoft.com", "<@U1> r", "admin@Contoso.onmicrosoft.com r",
		"7F8C2A10-1B2C-4D5E-8F90-A1B2C3D4E5F6 r", "<https://x.y|x.y> r", "plan nope", "https://a.b/c r",
	} {
		_, _ = Parse(in, spy)
	}
	assert.Equal(t, []string{
		"contoso.onmicrosoft.com", "contoso.onmicrosoft.com", "contoso.onmicrosoft.com",
		"7f8c2a10-1b2c-4d5e-8f90-a1b2c3d4e5f6", "x.y", "a.b",
	}, spy.tenants)
}

type spyLookup struct{ tenants []string }

func (s *spyLookup) Tenant(arg string) (Tenant, bool) {
	s.tenants = append(s.tenants, arg)
	return Tenant{}, false
}
func (s *spyLookup) RequestExists(string) bool { return false }

func TestParseNilLookup(t *testing.T) {
	_, err := Parse("contoso.onmicrosoft.com reason", nil)
	assert.Equal(t, UnknownTenant, codeOf(t, err).Code)
	_, err = Parse("status CT-1", nil)
	assert.Equal(t, UnknownRequest, codeOf(t, err).Code)
	c, err := Parse("list", nil)
	require.NoError(t, err)
	assert.Equal(t, List, c.Kind)
}

// A Lookup that says "found" but returns no tenant is not trusted.
func TestParseZeroTenantFromLookup(t *testing.T) {
	_, err := Parse("contoso.onmicrosoft.com reason", zeroLookup{})
	assert.Equal(t, UnknownTenant, codeOf(t, err).Code)
}

type zeroLookup struct{}

func (zeroLookup) Tenant(string) (Tenant, bool) { return Tenant{}, true }
func (zeroLookup) RequestExists(string) bool    { return true }

func TestWords(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   ", nil},
		{"a b  c", []string{"a", "b", "c"}},
		{"a\tb\nc\u00a0d", []string{"a", "b", "c", "d"}},
		{`'a b' "c d"`, []string{"a b", "c d"}},
		{`'a "b" \c'`, []string{`a "b" \c`}},
		{`"a 'b' \"c\" \\ \d"`, []string{`a 'b' "c" \ \d`}},
		{`a\ b c\\d \'e`, []string{"a b", `c\d`, "'e"}},
		{`x'y z'"w"`, []string{"xy zw"}},
		{`'' ""`, []string{"", ""}},
		{`é'ü ö'`, []string{"éü ö"}},
		{`\é`, []string{"é"}},
	}
	for _, tc := range cases {
		got, err := words(tc.in)
		require.Nil(t, err, "%q", tc.in)
		assert.Equal(t, tc.want, got, "%q", tc.in)
	}
	for _, in := range []string{`'a`, `"a`, `a"b`, `"a\"`, `a\`, `'a'"`} {
		_, err := words(in)
		require.NotNil(t, err, "%q", in)
		assert.Equal(t, BadQuoting, err.Code, "%q", in)
	}
}

func TestSuggestVerb(t *testing.T) {
	cases := map[string]string{
		"stauts": "status", "statsu": "status", "sttus": "status", "STATUS!": "status", "stat": "status", "sta": "status",
		"lsit": "list", "lst": "list", "lis": "list",
		"paln": "plan", "plam": "plan", "pln": "plan", "pla": "plan",
		"pasue": "pause", "puase": "pause", "pause2": "pause", "pau": "pause",
		"resmue": "resume", "resum": "resume", "rsume": "resume", "res": "resume",
		"abrot": "abort", "abotr": "abort", "abor": "abort",
		"hlep": "help", "hepl": "help",
		// Too far, or ambiguous prefixes.
		"pa": "", "p": "", "close": "", "stop": "", "x": "", "statistics": "", strings.Repeat("a", 50): "",
	}
	for in, want := range cases {
		assert.Equal(t, want, suggestVerb(in), "%q", in)
	}
}

func TestOSADistance(t *testing.T) {
	cases := []struct {
		a, b string
		d    int
	}{
		{"", "", 0}, {"", "abc", 3}, {"abc", "", 3}, {"status", "status", 0},
		{"stauts", "status", 1}, {"ab", "ba", 1}, {"ca", "abc", 3}, {"kitten", "sitting", 3},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.d, osaDistance(tc.a, tc.b), "%q %q", tc.a, tc.b)
	}
}

func TestCommandStringRoundTrip(t *testing.T) {
	cases := []struct {
		c    Command
		text string
	}{
		{Command{Kind: Open, Tenant: contoso, Reason: "Company dissolved"}, "contoso.onmicrosoft.com Company dissolved"},
		{Command{Kind: Open, Tenant: contoso, Reason: `"Company" dissolved`}, `contoso.onmicrosoft.com "\"Company\" dissolved"`},
		{Command{Kind: Open, Tenant: contoso, Reason: `'quoted' \ "x"`}, `contoso.onmicrosoft.com "'quoted' \\ \"x\""`},
		{Command{Kind: Open, Tenant: Tenant{ID: "7f8c2a10-1b2c-4d5e-8f90-a1b2c3d4e5f6"}, Reason: "r"}, "7f8c2a10-1b2c-4d5e-8f90-a1b2c3d4e5f6 r"},
		{Command{Kind: Plan, Tenant: fabrikam}, "plan fabrikam.onmicrosoft.com"},
		{Command{Kind: Status}, "status"},
		{Command{Kind: Status, RequestID: "CT-4"}, "status CT-4"},
		{Command{Kind: List}, "list"},
		{Command{Kind: Pause, RequestID: "CT-4"}, "pause CT-4"},
		{Command{Kind: Resume, RequestID: "CT-4"}, "resume CT-4"},
		{Command{Kind: Abort, RequestID: "CT-4"}, "abort CT-4"},
		{Command{Kind: Help}, "help"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.text, tc.c.String())
		if tc.c.Tenant.Domain == "" && tc.c.Tenant.ID != "" {
			continue // testLookup resolves to both fields
		}
		got, err := Parse(tc.c.String(), testLookup{})
		require.NoError(t, err, "%q", tc.text)
		assert.Equal(t, tc.c, got)
	}
	// A worst-case reason still renders within MaxTextLen.
	c := Command{Kind: Open, Tenant: contoso, Reason: `"` + strings.Repeat(`\`, MaxReasonLen-1)}
	assert.LessOrEqual(t, len([]rune(c.String())), MaxTextLen)
	got, err := Parse(c.String(), testLookup{})
	require.NoError(t, err)
	assert.Equal(t, c, got)
}

func TestFindTenant(t *testing.T) {
	for _, arg := range []string{"contoso.onmicrosoft.com", "CONTOSO.ONMICROSOFT.COM", "contoso.onmicrosoft.com.", " contoso.onmicrosoft.com ", "7F8C2A10-1B2C-4D5E-8F90-A1B2C3D4E5F6"} {
		got, ok := FindTenant(testTenants, arg)
		assert.True(t, ok, arg)
		assert.Equal(t, contoso, got, arg)
	}
	got, ok := FindTenant(testTenants, "fabrikam.onmicrosoft.com")
	assert.True(t, ok)
	assert.Equal(t, fabrikam, got, "configured case is normalised")
	for _, arg := range []string{"", ".", "contoso", "contoso.onmicrosoft.com..", "nowhere.onmicrosoft.com", "7f8c2a10"} {
		_, ok := FindTenant(testTenants, arg)
		assert.False(t, ok, arg)
	}
	_, ok = FindTenant([]Tenant{{ID: "", Domain: ""}}, "x.y")
	assert.False(t, ok)
}

func TestParseRequestID(t *testing.T) {
	for in, want := range map[string]string{"CT-1": "CT-1", "ct-12": "CT-12", "cT-0012": "CT-12", "CT-999999999": "CT-999999999"} {
		got, err := ParseRequestID(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
	for _, in := range []string{"", "CT-", "CT-0", "CT-abc", "CT-1a", "CT--1", "CT-+1", "CT-1000000000", "CT-١٢", "12", "<@U1>", "CT 1"} {
		_, err := ParseRequestID(in)
		assert.Equal(t, BadRequestID, codeOf(t, err).Code, "%q", in)
	}
}

func TestUsageNamesEveryVerb(t *testing.T) {
	u := Usage()
	for _, v := range verbs {
		assert.Contains(t, u, "/close-tenant "+v.name)
	}
	assert.Contains(t, u, "contoso.onmicrosoft.com")
	assert.Contains(t, u, "CT-12")
}

func TestStrings(t *testing.T) {
	assert.Equal(t, "help", Kind(0).String())
	assert.Equal(t, "abort", Abort.String())
	assert.Equal(t, "unknown", Kind(99).String())
	assert.Equal(t, "unknown_verb", UnknownVerb.String())
	assert.Equal(t, "code(0)", Code(0).String())
	for c := TooLong; c <= ExtraArgs; c++ {
		assert.NotContains(t, c.String(), "code(", "every code has a name")
	}
}
