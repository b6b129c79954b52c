package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Error lists every problem found in a configuration, each line starting
// with the key or environment variable to fix.
type Error struct {
	File     string
	Problems []string
}

func (e *Error) Error() string {
	var b strings.Builder
	n := len(e.Problems)
	plural := "s"
	if n == 1 {
		plural = ""
	}
	fmt.Fprintf(&b, "%s: %d problem%s", e.File, n, plural)
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p)
	}
	return b.String()
}

// maxFileSize bounds the configuration file; a real one is a few kB.
const maxFileSize = 1 << 20

// Load reads the configuration at path (ResolvePath("", env) when empty),
// applies the defaults of DESIGN §8, resolves relative paths against the
// working directory, reads the environment through env (os.Getenv in
// production), and checks all of it. On any problem it returns an *Error
// listing every problem, not only the first.
func Load(path string, env func(string) string) (*Config, error) {
	if env == nil {
		env = func(string) string { return "" }
	}
	path = ResolvePath(path, env)
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	root, err := readFile(abs)
	if err != nil {
		return nil, err
	}
	var p problems
	c := &Config{File: abs}
	p.decode(root, c)
	p.checkFiles(c)
	p.readEnv(c, env)
	if len(p.list) > 0 {
		return nil, &Error{File: abs, Problems: p.list}
	}
	c.warnings = warnings(c)
	return c, nil
}

// StorePath reads only store.path from the file at path (resolved as in
// Load), for tools such as `audit verify` that need the database and the
// audit key but none of the Slack or Graph settings.
func StorePath(path string, env func(string) string) (string, error) {
	path = ResolvePath(path, env)
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("config %s: %w", path, err)
	}
	root, err := readFile(abs)
	if err != nil {
		return "", err
	}
	var p problems
	top := p.object(root, "", topKeys...)
	st := p.object(top.node("store"), "store", "path")
	sp, _ := p.str(st, "path")
	if sp == "" && st.values["path"] != nil {
		p.add("store.path", st.values["path"], "must not be empty")
	}
	if len(p.list) > 0 {
		return "", &Error{File: abs, Problems: p.list}
	}
	if sp == "" {
		sp = DefaultStorePath
	}
	return filepath.Abs(sp)
}

// readFile parses the file into its root node (nil for an empty document).
func readFile(abs string) (*yaml.Node, error) {
	f, err := os.Open(abs)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("config %s: file not found (give --config or set %s): %w", abs, EnvConfig, err)
	}
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", abs, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("config %s: larger than %d bytes", abs, maxFileSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: abs, Problems: []string{"the file is empty: slack, tenants and the other settings of DESIGN §8 are required"}}
		}
		return nil, &Error{File: abs, Problems: []string{"not valid YAML: " + err.Error()}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, &Error{File: abs, Problems: []string{"more than one YAML document (---): put everything in one"}}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

var topKeys = []string{"slack", "approval", "gates", "store", "graph", "tenants"}

// decode fills c from the file, with defaults, reporting every problem.
func (p *problems) decode(root *yaml.Node, c *Config) {
	if isNull(root) {
		p.add("slack", nil, "missing (the file has no settings)")
		p.add("tenants", nil, "missing (the file has no settings)")
		return
	}
	top := p.object(root, "", topKeys...)
	p.decodeSlack(top, c)
	p.decodeApproval(top, c)
	p.decodeGates(top, c)
	p.decodeStore(top, c)
	p.decodeGraph(top, c)
	p.decodeTenants(top, c)
	// Approvals come from distinct people: more required than there can
	// ever be approvers makes every request expire.
	if users, groups := countPrincipals(c.Slack.Approvers); groups == 0 && users > 0 && users < c.Approval.Required {
		p.add("approval.required", top.node("approval"), "is %d but slack.approvers lists only %d user(s) and no user group: no request could ever be approved", c.Approval.Required, users)
	}
}

func (p *problems) decodeSlack(top mapping, c *Config) {
	if top.node("slack") == nil {
		p.add("slack", nil, "missing: team_id, channels, requesters and approvers are required")
		return
	}
	m := p.object(top.node("slack"), "slack", "team_id", "channels", "requesters", "approvers")
	team, tn := p.str(m, "team_id")
	switch {
	case team == "":
		p.add("slack.team_id", tn, "missing: the workspace id (T…), from Slack's About this workspace or the team_id of auth.test")
	case !teamID.MatchString(team):
		p.add("slack.team_id", tn, "%q is not a workspace id (T followed by capital letters and digits)", team)
	}
	c.Slack.TeamID = team

	chans, cnodes := p.strList(m, "channels")
	if n := m.node("channels"); len(chans) == 0 && (n == nil || n.Kind == yaml.SequenceNode && len(n.Content) == 0) {
		p.add("slack.channels", m.node("channels"), "missing: list at least one channel id (C… or G…) where /close-tenant is accepted")
	}
	for i, ch := range chans {
		if !channelID.MatchString(ch) {
			p.add(fmt.Sprintf("slack.channels[%d]", i), cnodes[i], "%q is not a channel id: %s", ch, channelHint(ch))
		}
	}
	c.Slack.Channels = dedupe(chans)

	c.Slack.Requesters = p.principals(m, "requesters")
	c.Slack.Approvers = p.principals(m, "approvers")
}

// principals reads a non-empty list of user ids (U…, W…) and user-group ids (S…).
func (p *problems) principals(m mapping, name string) []string {
	key := m.key(name)
	list, nodes := p.strList(m, name)
	if len(list) == 0 {
		if n := m.node(name); n == nil || n.Kind == yaml.SequenceNode && len(n.Content) == 0 {
			p.add(key, n, "missing: list at least one Slack user id (U…/W…) or user-group id (S…)")
		}
		return nil
	}
	for i, v := range list {
		if !principalID.MatchString(v) {
			p.add(fmt.Sprintf("%s[%d]", key, i), nodes[i], "%q is not a Slack user or user-group id: %s", v, principalHint(v))
		}
	}
	return dedupe(list)
}

func (p *problems) decodeApproval(top mapping, c *Config) {
	m := p.object(top.node("approval"), "approval", "required", "disjoint", "expires_after", "abort_window", "drift_percent")
	a := &c.Approval
	a.Required = p.integer(m, "required", DefaultRequired)
	if a.Required < 1 {
		p.add("approval.required", m.node("required"), "is %d; at least 1 approval is required", a.Required)
	}
	a.Disjoint = p.boolean(m, "disjoint", DefaultDisjoint)
	a.ExpiresAfter = p.positive(m, "expires_after", DefaultExpiresAfter)
	var an *yaml.Node
	a.AbortWindow, an = p.duration(m, "abort_window", DefaultAbortWindow)
	if a.AbortWindow < 0 {
		p.add("approval.abort_window", an, "is %s; it must be 0s (no window) or positive", a.AbortWindow)
	}
	a.DriftPercent = p.number(m, "drift_percent", DefaultDriftPercent)
	if a.DriftPercent < 0 || a.DriftPercent > 100 {
		p.add("approval.drift_percent", m.node("drift_percent"), "is %v; it must be between 0 and 100", a.DriftPercent)
	}
}

// positive reads a duration that must be above zero.
func (p *problems) positive(m mapping, name string, def time.Duration) time.Duration {
	d, n := p.duration(m, name, def)
	if n != nil && d <= 0 {
		p.add(m.key(name), n, "is %s; it must be positive", d)
		return def
	}
	return d
}

func (p *problems) decodeGates(top mapping, c *Config) {
	m := p.object(top.node("gates"), "gates", "recheck_every", "gone_confirmations", "gone_span", "stuck_after")
	g := &c.Gates
	g.RecheckEvery = p.positive(m, "recheck_every", DefaultRecheckEvery)
	g.GoneConfirmations = p.integer(m, "gone_confirmations", DefaultGoneConfirmations)
	if g.GoneConfirmations < 1 {
		p.add("gates.gone_confirmations", m.node("gone_confirmations"), "is %d; it must be at least 1", g.GoneConfirmations)
	}
	g.GoneSpan = p.positive(m, "gone_span", DefaultGoneSpan)
	g.StuckAfter = p.positive(m, "stuck_after", DefaultStuckAfter)
}

func (p *problems) decodeStore(top mapping, c *Config) {
	m := p.object(top.node("store"), "store", "path")
	sp, sn := p.str(m, "path")
	if sp == "" {
		if m.values["path"] != nil {
			p.add("store.path", m.values["path"], "must not be empty (default %s)", DefaultStorePath)
		}
		sp = DefaultStorePath
	}
	abs, err := filepath.Abs(sp)
	if err != nil {
		p.add("store.path", sn, "%q: %v", sp, err)
		return
	}
	c.Store.Path = abs
}

func (p *problems) decodeGraph(top mapping, c *Config) {
	m := p.object(top.node("graph"), "graph", "base_url")
	raw, n := p.str(m, "base_url")
	if raw == "" {
		if m.values["base_url"] != nil {
			p.add("graph.base_url", m.values["base_url"], "must not be empty (default %s)", DefaultGraphBaseURL)
		}
		raw = DefaultGraphBaseURL
	}
	base, beta, err := graphURLs(raw)
	if err != nil {
		p.add("graph.base_url", n, "%v", err)
		return
	}
	c.Graph = Graph{BaseURL: base, BetaURL: beta}
}
