// Package commands parses the text of the /close-tenant slash command into a
// Command (DESIGN §2). It knows no Slack or Graph types: the bot hands it the
// command's text and a Lookup over configuration and the store, and renders
// the result (or the *Error) itself.
//
// Grammar (verbs are case-insensitive):
//
//	<tenant> <reason…>   open a request; the reason is required
//	plan <tenant>        preflight and plan only
//	status [CT-n]        one request, or the open ones
//	list                 recent requests
//	pause CT-n | resume CT-n | abort CT-n
//	help                 usage (also: empty text, "?", "-h", "--help")
//
// A tenant is its initial domain (contoso.onmicrosoft.com; any case, one
// trailing dot tolerated) or its tenant id (a GUID, any case). A first word
// that contains '.', '@', ':', '/', '<', '>' or '|', or is GUID-like, is a
// tenant, never a verb. Slack's "<…>" forms (mentions, channels, links,
// mailto, special mentions) and user principal names are refused in the
// tenant position with a message naming the expected forms; the manifest
// sets should_escape: false, but Slack's client may still turn pasted text
// into those forms.
//
// Quoting is shell-style: 'single quotes' keep everything literally; inside
// "double quotes" a backslash escapes only '"' and '\'; outside quotes a
// backslash escapes the next character. An unterminated quote is an error.
// The reason is the rest of the text after the tenant, trimmed, kept exactly
// as typed, with one exception: a reason that is wholly one quoted word
// ("Company dissolved") has its quotes removed. So apostrophes in ordinary
// prose ("customer's request") need no quoting.
//
// The reason is user text. It is returned unescaped; escaping for mrkdwn
// happens where it is rendered. Error messages may quote user input too
// (never a "<…>" form) and must be escaped the same way.
//
// Input checks: the whole text is at most MaxTextLen characters and the
// reason at most MaxReasonLen. Text that is not valid UTF-8, or contains a
// control character other than tab, line feed and carriage return (NUL
// included), or a bidirectional embedding/override/isolate character
// (U+202A–U+202E, U+2066–U+2069, which can make the audit record read
// differently from what it holds), is refused, not stripped: what is recorded
// is what the user typed.
package commands
