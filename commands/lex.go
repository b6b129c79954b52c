package commands

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// nextWord reads one shell-style word of s starting at byte i, skipping
// leading white space. It returns the word's value and the byte offset just
// past it; ok is false when only white space is left.
func nextWord(s string, i int) (word string, end int, ok bool, err *Error) {
	i = skipSpace(s, i)
	if i >= len(s) {
		return "", i, false, nil
	}
	var b strings.Builder
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsSpace(r):
			return b.String(), i, true, nil
		case r == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return "", 0, false, errorf(BadQuoting, "",
					"A single quote (') is not closed. Close it, or leave out the quotes.")
			}
			b.WriteString(s[i+1 : i+1+j])
			i += j + 2
		case r == '"':
			i++
			closed := false
			for i < len(s) {
				c := s[i]
				if c == '"' {
					closed = true
					i++
					break
				}
				if c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
					c = s[i]
				}
				b.WriteByte(c)
				i++
			}
			if !closed {
				return "", 0, false, errorf(BadQuoting, "",
					`A double quote (") is not closed. Close it, or leave out the quotes.`)
			}
		case r == '\\':
			if i+1 >= len(s) {
				return "", 0, false, errorf(BadQuoting, "",
					`The text ends with a backslash (\) that escapes nothing. Remove it, or write \\ for a backslash.`)
			}
			_, n := utf8.DecodeRuneInString(s[i+1:])
			b.WriteString(s[i+1 : i+1+n])
			i += 1 + n
		default:
			b.WriteString(s[i : i+size])
			i += size
		}
	}
	return b.String(), i, true, nil
}

func skipSpace(s string, i int) int {
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsSpace(r) {
			break
		}
		i += size
	}
	return i
}

// words splits all of s into shell-style words.
func words(s string) ([]string, *Error) {
	var out []string
	for i := 0; ; {
		w, end, ok, err := nextWord(s, i)
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		out = append(out, w)
		i = end
	}
}
