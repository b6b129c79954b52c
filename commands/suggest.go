package commands

import "strings"

// verbs in the order suggestions prefer on a tie.
var verbs = []struct {
	name string
	kind Kind
}{
	{"status", Status},
	{"list", List},
	{"plan", Plan},
	{"pause", Pause},
	{"resume", Resume},
	{"abort", Abort},
	{"help", Help},
}

// helpWords also ask for help.
var helpWords = map[string]bool{"help": true, "?": true, "-h": true, "--help": true}

func verbKind(w string) (Kind, bool) {
	lw := asciiLower(w)
	if helpWords[lw] {
		return Help, true
	}
	for _, v := range verbs {
		if v.name == lw {
			return v.kind, true
		}
	}
	return 0, false
}

// suggestVerb returns the verb w was probably meant to be, or "": the
// closest by optimal-string-alignment distance (a transposition counts one,
// so "stauts" is one edit from "status"), within 1 edit for words of up to 4
// letters and 2 for longer ones; failing that, the only verb w is a prefix of
// (3 letters at least).
func suggestVerb(w string) string {
	lw := asciiLower(w)
	if len(lw) > 20 { // far from every verb; keeps the distance cheap
		return ""
	}
	best, bestD := "", 3
	for _, v := range verbs {
		d := osaDistance(lw, v.name)
		limit := 1
		if len(v.name) > 4 && len(lw) > 4 {
			limit = 2
		}
		if d <= limit && d < bestD {
			best, bestD = v.name, d
		}
	}
	if best != "" {
		return best
	}
	if len(lw) >= 3 {
		match := ""
		for _, v := range verbs {
			if strings.HasPrefix(v.name, lw) {
				if match != "" {
					return ""
				}
				match = v.name
			}
		}
		return match
	}
	return ""
}

// osaDistance is the optimal string alignment distance (Levenshtein plus
// adjacent transpositions) over bytes; verbs are ASCII.
func osaDistance(a, b string) int {
	n, m := len(a), len(b)
	d := make([][]int, n+1)
	for i := range d {
		d[i] = make([]int, m+1)
		d[i][0] = i
	}
	for j := 0; j <= m; j++ {
		d[0][j] = j
	}
	for i := 1; i <= n; i++ {
		for j := 1; j <= m; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[n][m]
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
