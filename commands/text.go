package commands

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// MaxTextLen caps the whole command text, in characters: Slack's own
	// guidance keeps a message's text within 4,000, so anything longer could
	// not be echoed back in one message anyway.
	MaxTextLen = 4000
	// MaxReasonLen caps the reason, in characters; details belong in the
	// ticket the reason names.
	MaxReasonLen = 1000
)

// checkText refuses text too long to handle or holding characters that would
// hide what the audit record says.
func checkText(s string) *Error {
	// Cheap bound before decoding: a rune is at most 4 bytes.
	if len(s) > 4*MaxTextLen {
		return tooLong(s)
	}
	if !utf8.ValidString(s) {
		return errorf(BadCharacters, "", "The text is not valid UTF-8. Type it again rather than pasting it.")
	}
	if utf8.RuneCountInString(s) > MaxTextLen {
		return tooLong(s)
	}
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
		case unicode.Is(unicode.Cc, r):
			return errorf(BadCharacters, "",
				"The text contains a control character (%U). Type it again rather than pasting it.", r)
		case isBidiControl(r):
			return errorf(BadCharacters, "",
				"The text contains an invisible text-direction character (%U), which would make the record read differently from what it holds. Type it again rather than pasting it.", r)
		}
	}
	return nil
}

func tooLong(s string) *Error {
	return errorf(TooLong, "", "The command is %s characters long; the limit is %s. Put the details in the ticket and give its number in the reason.",
		thousands(utf8.RuneCountInString(s)), thousands(MaxTextLen))
}

// isBidiControl reports the embedding, override and isolate controls (the
// "Trojan Source" ones). Direction marks (U+200E, U+200F, U+061C) are kept:
// right-to-left keyboards type them in ordinary text.
func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// echo quotes user input for a message, shortened. Input holding '<' or '>'
// is not echoed at all: it may be a Slack mention, and a message should not
// depend on every renderer escaping it.
func echo(s string) string {
	if strings.ContainsAny(s, "<>") {
		return "that argument"
	}
	const max = 40
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "…"
	}
	return fmt.Sprintf("%q", s)
}
