package closure

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
)

// canon builds an unambiguous text encoding for a digest: one
// "name=quoted value" line per field, sets sorted and de-duplicated, so the
// digest depends on content only, never on order or Go struct layout.
type canon struct{ b strings.Builder }

func newCanon(kind string) *canon {
	c := &canon{}
	c.b.WriteString(kind)
	c.b.WriteByte('\n')
	return c
}

func (c *canon) field(name, value string) {
	c.b.WriteString(name)
	c.b.WriteByte('=')
	c.b.WriteString(strconv.Quote(value))
	c.b.WriteByte('\n')
}

func (c *canon) set(name string, values []string) {
	v := sortedSet(values)
	c.field(name+".len", strconv.Itoa(len(v)))
	for _, x := range v {
		c.field(name, x)
	}
}

func (c *canon) sum() string {
	h := sha256.Sum256([]byte(c.b.String()))
	return hex.EncodeToString(h[:])
}

// sortedSet returns values sorted with duplicates and empty strings removed.
func sortedSet(values []string) []string {
	out := make([]string, 0, len(values))
	for _, v := range values {
		if v != "" {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
