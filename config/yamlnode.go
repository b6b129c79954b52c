package config

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The file is read into a yaml.Node tree and walked by hand rather than
// decoded into structs: that way every problem, a type error included, is
// reported with its full key (tenants[1].client_id) and line, and all of
// them are collected instead of stopping at the first.

// problems collects what is wrong, each line starting with the key.
type problems struct{ list []string }

func (p *problems) add(key string, n *yaml.Node, format string, args ...any) {
	msg := key + ": " + fmt.Sprintf(format, args...)
	if n != nil && n.Line > 0 {
		msg += fmt.Sprintf(" (line %d)", n.Line)
	}
	p.list = append(p.list, msg)
}

// deref follows YAML aliases (*anchor).
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// isNull is an absent value or an explicit null (`key:` with nothing after).
func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// mapping is one YAML mapping with its keys checked against a known set.
type mapping struct {
	path   string
	values map[string]*yaml.Node
}

// hints for keys people are likely to try, beyond spelling mistakes.
var keyHints = map[string]string{
	"client_secret":      "secrets are never read from the configuration file: put the secret in an environment variable and name that variable in client_secret_env",
	"secret":             "secrets are never read from the configuration file: put the secret in an environment variable and name that variable in client_secret_env",
	"token":              "tokens come from the environment (SLACK_APP_TOKEN, SLACK_BOT_TOKEN), never from the file",
	"app_token":          "tokens come from the environment (SLACK_APP_TOKEN), never from the file",
	"bot_token":          "tokens come from the environment (SLACK_BOT_TOKEN), never from the file",
	"audit_key":          "the audit key comes from the file named by CLOSEBOT_AUDIT_KEY_FILE, never from the configuration",
	"key":                "the audit key comes from the file named by CLOSEBOT_AUDIT_KEY_FILE, never from the configuration",
	"channel":            "the key is channels, a list: channels: [C0OPS]",
	"tenant":             "the key is tenants, a list of tenants",
	"<<":                 "YAML merge keys are not supported; write the keys out",
	"tenant_id":          "the key is id",
	"certificate_file":   "the key is client_certificate_file",
	"keep_slack_user_id": "the key is keep_slack_user",
}

// object reads n as a mapping under path, refusing keys not in allowed and
// duplicate keys. A nil or null node is an empty mapping.
func (p *problems) object(n *yaml.Node, path string, allowed ...string) mapping {
	m := mapping{path: path, values: map[string]*yaml.Node{}}
	n = deref(n)
	if isNull(n) {
		return m
	}
	if n.Kind != yaml.MappingNode {
		where := path
		if where == "" {
			where = "the file"
		}
		p.add(where, n, "must be a mapping of keys (%s)", strings.Join(allowed, ", "))
		return m
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		full := join(path, name)
		if _, dup := m.values[name]; dup {
			p.add(full, k, "given twice")
			continue
		}
		if !contains(allowed, name) {
			msg := "unknown key"
			if h, ok := keyHints[name]; ok {
				msg += "; " + h
			} else if s := closest(name, allowed); s != "" {
				msg += fmt.Sprintf("; did you mean %s?", join(path, s))
			} else {
				msg += "; known keys here: " + strings.Join(allowed, ", ")
			}
			p.add(full, k, "%s", msg)
			continue
		}
		m.values[name] = v
	}
	return m
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// key is the full name of one of m's keys.
func (m mapping) key(name string) string { return join(m.path, name) }

// node is the value of name, or nil when absent or null.
func (m mapping) node(name string) *yaml.Node {
	n := deref(m.values[name])
	if isNull(n) {
		return nil
	}
	return n
}

// scalar is a single value; ok is false when absent (no problem) or not a
// scalar (problem reported).
func (p *problems) scalar(m mapping, name string) (*yaml.Node, bool) {
	n := m.node(name)
	if n == nil {
		return nil, false
	}
	if n.Kind != yaml.ScalarNode {
		p.add(m.key(name), n, "must be a single value, not a list or mapping")
		return nil, false
	}
	return n, true
}

// str reads a string value ("" when absent).
func (p *problems) str(m mapping, name string) (string, *yaml.Node) {
	n, ok := p.scalar(m, name)
	if !ok {
		return "", nil
	}
	return strings.TrimSpace(n.Value), n
}

// integer reads a whole number, or def when absent.
func (p *problems) integer(m mapping, name string, def int) int {
	n, ok := p.scalar(m, name)
	if !ok {
		return def
	}
	v, err := strconv.ParseInt(n.Value, 0, 32)
	if n.ShortTag() != "!!int" || err != nil {
		p.add(m.key(name), n, "%q is not a whole number", n.Value)
		return def
	}
	return int(v)
}

// number reads a decimal number, or def when absent.
func (p *problems) number(m mapping, name string, def float64) float64 {
	n, ok := p.scalar(m, name)
	if !ok {
		return def
	}
	tag := n.ShortTag()
	v, err := strconv.ParseFloat(n.Value, 64)
	if (tag != "!!int" && tag != "!!float") || err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		hint := ""
		if strings.HasSuffix(n.Value, "%") {
			hint = " (write the number without %)"
		}
		p.add(m.key(name), n, "%q is not a number%s", n.Value, hint)
		return def
	}
	return v
}

// boolean reads true or false, or def when absent.
func (p *problems) boolean(m mapping, name string, def bool) bool {
	n, ok := p.scalar(m, name)
	if !ok {
		return def
	}
	if n.ShortTag() != "!!bool" {
		p.add(m.key(name), n, "%q is not true or false", n.Value)
		return def
	}
	v, err := strconv.ParseBool(strings.ToLower(n.Value))
	if err != nil {
		p.add(m.key(name), n, "%q is not true or false", n.Value)
		return def
	}
	return v
}

// duration reads a Go duration such as 30m or 336h, or def when absent.
// It returns the node so callers can place range problems.
func (p *problems) duration(m mapping, name string, def time.Duration) (time.Duration, *yaml.Node) {
	n, ok := p.scalar(m, name)
	if !ok {
		return def, nil
	}
	if n.Value == "0" {
		return 0, n
	}
	d, err := time.ParseDuration(n.Value)
	if n.ShortTag() != "!!str" || err != nil {
		p.add(m.key(name), n, "%q is not a duration: use a number with a unit, like 30m, 24h or 336h (h, m and s; no days)", n.Value)
		return def, nil
	}
	return d, n
}

// strList reads a list of strings (nil when absent).
func (p *problems) strList(m mapping, name string) ([]string, []*yaml.Node) {
	n := m.node(name)
	if n == nil {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		p.add(m.key(name), n, "must be a list, like [%s]", n.Value)
		return nil, nil
	}
	var out []string
	var nodes []*yaml.Node
	for i, item := range n.Content {
		item = deref(item)
		if item == nil || item.Kind != yaml.ScalarNode || item.ShortTag() == "!!null" {
			p.add(fmt.Sprintf("%s[%d]", m.key(name), i), item, "must be a single value")
			continue
		}
		out = append(out, strings.TrimSpace(item.Value))
		nodes = append(nodes, item)
	}
	return out, nodes
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// closest is the allowed key within edit distance 2 of name, if any.
func closest(name string, allowed []string) string {
	best, bestD := "", 3
	sorted := append([]string(nil), allowed...)
	sort.Strings(sorted)
	for _, a := range sorted {
		if d := editDistance(strings.ToLower(name), a); d < bestD {
			best, bestD = a, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
