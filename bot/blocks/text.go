package blocks

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// escaper replaces exactly the three characters Slack's mrkdwn treats as
// control characters (slack-wire §6); anything more would show as text.
var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Escape makes user text inert in mrkdwn: `<!channel>`, `<@U…>` and
// `<https://x|y>` become literal text. Slack has no escape for emphasis
// characters (`*`, `_`, `~`, "`"); they may render as emphasis but can neither
// ping nor link.
func Escape(s string) string { return escaper.Replace(s) }

// md is a mrkdwn text object. It is always verbatim, so Slack never
// auto-links or auto-mentions anything in it; explicit <@U…> and <!date…>
// syntax built by this package still renders.
func md(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, clip(text, maxSectionText), false, true)
}

// plain is a plain_text object; user text goes in unescaped.
func plain(text string, limit int) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, clip(text, limit), false, false)
}

// clip shortens s to at most n runes, ending with an ellipsis when cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

var (
	userIDPattern  = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)
	groupIDPattern = regexp.MustCompile(`^S[A-Z0-9]{2,20}$`)
	hexPattern     = regexp.MustCompile(`^[0-9a-fA-F]+$`)
	requestPattern = regexp.MustCompile(`^CT-[0-9]{1,12}$`)
)

// ValidUserID reports whether id is a Slack user id (U… or W…).
func ValidUserID(id string) bool { return userIDPattern.MatchString(id) }

// ValidGroupID reports whether id is a Slack user-group id (S…).
func ValidGroupID(id string) bool { return groupIDPattern.MatchString(id) }

// Mention renders a configured approver or requester entry: <@U…> for a
// user, <!subteam^S…> for a user group. Anything else is shown as escaped
// text, so a bad id in the config can be seen but never pings anyone.
func Mention(id string) string {
	switch {
	case ValidUserID(id):
		return "<@" + id + ">"
	case ValidGroupID(id):
		return "<!subteam^" + id + ">"
	}
	return "`" + Escape(strings.ReplaceAll(id, "`", "'")) + "`"
}

// mentions joins Mention of each id.
func mentions(ids []string) string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, Mention(id))
	}
	return strings.Join(out, ", ")
}

// Date renders t as Slack's localised date token, with a UTC fallback for
// clients that cannot (slack-wire §6).
func Date(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

// plainDate is Date for plain_text and fallback text.
func plainDate(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// MACPrefix is the first 8 hex digits of an audit event's MAC, as shown in
// Slack so a rewritten chain no longer matches the thread (DESIGN §7).
func MACPrefix(mac string) string {
	if len(mac) < 8 || !hexPattern.MatchString(mac) {
		return "????????"
	}
	return strings.ToLower(mac[:8])
}

// auditRef is "#42 · mac 1a2b3c4d", or "" when the event has no sequence.
func auditRef(seq uint64, mac string) string {
	if seq == 0 {
		return ""
	}
	return fmt.Sprintf("#%d · mac %s", seq, MACPrefix(mac))
}

// count formats n with thousands separators: 12,345.
func count(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// plural picks the singular or plural noun for n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// escapedList renders up to max escaped items, then "+k more" for the rest
// of total (total may exceed len(items) when the caller sent only the top
// ones). It stops early rather than exceed budget runes.
func escapedList(items []string, total, max, budget int) string {
	if total < len(items) {
		total = len(items)
	}
	var b strings.Builder
	shown := 0
	for _, it := range items {
		if shown == max {
			break
		}
		e := escClip(it, 200)
		if utf8.RuneCountInString(b.String())+utf8.RuneCountInString(e)+24 > budget {
			break
		}
		if shown > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e)
		shown++
	}
	if rest := total - shown; rest > 0 {
		if shown > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "+%s more", count(rest))
	}
	return b.String()
}

// duration renders d for people: "3 d 4 h", "2 h 5 min", "45 s".
func duration(d time.Duration) string {
	if d <= 0 {
		return "0 s"
	}
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h := d / time.Hour
	d -= h * time.Hour
	m := d / time.Minute
	d -= m * time.Minute
	s := d / time.Second
	two := func(a time.Duration, ua string, b time.Duration, ub string) string {
		if b == 0 {
			return fmt.Sprintf("%d %s", a, ua)
		}
		return fmt.Sprintf("%d %s %d %s", a, ua, b, ub)
	}
	switch {
	case days > 0:
		return two(days, "d", h, "h")
	case h > 0:
		return two(h, "h", m, "min")
	case m > 0:
		return two(m, "min", s, "s")
	}
	return fmt.Sprintf("%d s", s)
}

// escClip escapes s and shortens the result to at most n runes without
// cutting an entity in half, ending with an ellipsis when cut.
func escClip(s string, n int) string {
	e := Escape(s)
	if utf8.RuneCountInString(e) <= n {
		return e
	}
	var b strings.Builder
	used := 0
	for _, r := range s {
		piece := Escape(string(r))
		if used+utf8.RuneCountInString(piece) > n-1 {
			break
		}
		b.WriteString(piece)
		used += utf8.RuneCountInString(piece)
	}
	return b.String() + "…"
}
