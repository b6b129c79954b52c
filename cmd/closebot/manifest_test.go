package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// testdata/slack-manifest.schema.1.0.0.json is Slack's manifest schema
// (MIT, see testdata/slack-manifest.schema.LICENSE), copied so CI needs
// nothing outside the repository.
const manifestSchema = "testdata/slack-manifest.schema.1.0.0.json"

func TestManifest(t *testing.T) {
	code, out, errs := runCLI(t, "manifest")
	require.Equal(t, 0, code, errs)
	var m struct {
		Features struct {
			SlashCommands []struct {
				Command      string `yaml:"command"`
				ShouldEscape *bool  `yaml:"should_escape"`
			} `yaml:"slash_commands"`
		} `yaml:"features"`
		OAuth struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
		Settings struct {
			Interactivity struct {
				IsEnabled bool `yaml:"is_enabled"`
			} `yaml:"interactivity"`
			SocketMode bool `yaml:"socket_mode_enabled"`
		} `yaml:"settings"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(out), &m))
	require.Len(t, m.Features.SlashCommands, 1)
	assert.Equal(t, "/close-tenant", m.Features.SlashCommands[0].Command)
	require.NotNil(t, m.Features.SlashCommands[0].ShouldEscape)
	assert.False(t, *m.Features.SlashCommands[0].ShouldEscape)
	assert.True(t, m.Settings.Interactivity.IsEnabled)
	assert.True(t, m.Settings.SocketMode)
	assert.ElementsMatch(t, []string{"commands", "chat:write", "users:read", "usergroups:read", "channels:read", "groups:read", "channels:history", "groups:history", "im:write", "files:write"}, m.OAuth.Scopes.Bot)

	// Every scope is justified by a comment on its line.
	for _, scope := range m.OAuth.Scopes.Bot {
		line := regexp.MustCompile(`(?m)^\s+- ` + regexp.QuoteMeta(scope) + `\b.*$`).FindString(out)
		assert.Regexp(t, `#\s+\S`, line, "scope %s has no justification", scope)
	}

	problems := validateManifest(t, out)
	assert.Empty(t, problems)
}

// TestManifestCheckerFindsProblems: the schema check is not vacuous.
func TestManifestCheckerFindsProblems(t *testing.T) {
	bad := strings.Replace(manifestYAML, "  name: closebot\n", "  name: "+strings.Repeat("x", 36)+"\n", 1)
	bad = strings.Replace(bad, "      should_escape: false", "      should_escape: \"no\"", 1)
	bad = strings.Replace(bad, "  socket_mode_enabled: true", "  socket_mode: true", 1)
	bad = strings.Replace(bad, "    - command: /close-tenant", "    - command: close-tenant", 1)
	bad = strings.Replace(bad, "  interactivity:\n    is_enabled: true", "  interactivity:\n    request_url: ftp://x", 1)
	got := strings.Join(validateManifest(t, bad), "\n")
	for _, want := range []string{
		"display_information.name: 36 characters, more than 35",
		"features.slash_commands[0].should_escape: want boolean",
		"settings.socket_mode: not allowed",
		`features.slash_commands[0].command: "close-tenant" does not match ^\/`,
		"settings.interactivity: is_enabled is required",
		"settings.interactivity.request_url: \"ftp://x\" does not match",
	} {
		assert.Contains(t, got, want)
	}
	// display_information is the one required top-level key.
	got = strings.Join(validateManifest(t, "_metadata: {major_version: 1}\n"), "\n")
	assert.Contains(t, got, ": display_information is required")
}

// validateManifest checks a manifest against Slack's JSON schema with a
// small hand-written validator: the keywords the schema uses on the paths
// our manifest takes. A keyword it does not know fails the check rather
// than passing silently.
func validateManifest(t *testing.T, manifest string) []string {
	t.Helper()
	raw, err := os.ReadFile(manifestSchema)
	require.NoError(t, err)
	var schema map[string]any
	require.NoError(t, json.Unmarshal(raw, &schema))
	var doc any
	require.NoError(t, yaml.Unmarshal([]byte(manifest), &doc))
	v := &schemaCheck{root: schema}
	v.check(schema, doc, "")
	return v.problems
}

type schemaCheck struct {
	root     map[string]any
	problems []string
}

func (v *schemaCheck) fail(path, format string, args ...any) {
	if path == "" {
		path = "(manifest)"
	}
	v.problems = append(v.problems, path+": "+fmt.Sprintf(format, args...))
}

// ignored keywords carry no constraint.
var ignoredKeywords = []string{"description", "title", "default", "format", "$schema", "_note", "definitions", "hint"}

func (v *schemaCheck) check(s map[string]any, val any, path string) {
	if ref, ok := s["$ref"].(string); ok {
		name, found := strings.CutPrefix(ref, "#/definitions/")
		def, _ := v.root["definitions"].(map[string]any)[name].(map[string]any)
		if !found || def == nil {
			v.fail(path, "unresolvable $ref %s", ref)
			return
		}
		v.check(def, val, path)
	}
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kw := s[k]
		switch k {
		case "$ref":
		case "type":
			if !typeMatches(kw, val) {
				v.fail(path, "want %v, got %T", kw, val)
				return
			}
		case "properties", "additionalProperties", "patternProperties", "required", "minProperties", "maxProperties":
			obj, ok := val.(map[string]any)
			if !ok {
				continue
			}
			v.object(s, k, obj, path)
		case "items", "minItems", "maxItems", "uniqueItems":
			arr, ok := val.([]any)
			if !ok {
				continue
			}
			v.array(k, kw, arr, path)
		case "minLength", "maxLength", "pattern", "regex":
			str, ok := val.(string)
			if !ok {
				continue
			}
			v.str(k, kw, str, path)
		case "enum":
			if !slices.ContainsFunc(kw.([]any), func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(val) }) {
				v.fail(path, "%v is not one of %v", val, kw)
			}
		case "anyOf":
			okAny := false
			for _, alt := range kw.([]any) {
				sub := &schemaCheck{root: v.root}
				sub.check(alt.(map[string]any), val, path)
				if len(sub.problems) == 0 {
					okAny = true
					break
				}
			}
			if !okAny {
				v.fail(path, "matches none of anyOf")
			}
		default:
			if !slices.Contains(ignoredKeywords, k) {
				v.fail(path, "schema keyword %q is not supported by this check", k)
			}
		}
	}
}

// object applies one object keyword; properties are checked once, under "properties".
func (v *schemaCheck) object(s map[string]any, k string, obj map[string]any, path string) {
	props, _ := s["properties"].(map[string]any)
	switch k {
	case "required":
		for _, r := range s["required"].([]any) {
			if _, ok := obj[r.(string)]; !ok {
				v.fail(path, "%s is required", r)
			}
		}
	case "minProperties":
		if float64(len(obj)) < s[k].(float64) {
			v.fail(path, "fewer than %v keys", s[k])
		}
	case "maxProperties":
		if float64(len(obj)) > s[k].(float64) {
			v.fail(path, "more than %v keys", s[k])
		}
	case "properties":
		names := make([]string, 0, len(obj))
		for name := range obj {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if ps, ok := props[name].(map[string]any); ok {
				v.check(ps, obj[name], joinPath(path, name))
			}
		}
	case "patternProperties", "additionalProperties":
		if k == "patternProperties" {
			for pat, ps := range s[k].(map[string]any) {
				re := regexp.MustCompile(pat)
				for name, val := range obj {
					if _, declared := props[name]; !declared && re.MatchString(name) {
						v.check(ps.(map[string]any), val, joinPath(path, name))
					}
				}
			}
			return
		}
		ap := s[k]
		names := make([]string, 0, len(obj))
		for name := range obj {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			val := obj[name]
			if _, declared := props[name]; declared || matchesPattern(s, name) {
				continue
			}
			switch ap := ap.(type) {
			case bool:
				if !ap {
					v.fail(joinPath(path, name), "not allowed")
				}
			case map[string]any:
				v.check(ap, val, joinPath(path, name))
			}
		}
	}
}

func matchesPattern(s map[string]any, name string) bool {
	pp, _ := s["patternProperties"].(map[string]any)
	for pat := range pp {
		if regexp.MustCompile(pat).MatchString(name) {
			return true
		}
	}
	return false
}

func (v *schemaCheck) array(k string, kw any, arr []any, path string) {
	switch k {
	case "items":
		for i, item := range arr {
			v.check(kw.(map[string]any), item, fmt.Sprintf("%s[%d]", path, i))
		}
	case "minItems":
		if float64(len(arr)) < kw.(float64) {
			v.fail(path, "%d items, fewer than %v", len(arr), kw)
		}
	case "maxItems":
		if float64(len(arr)) > kw.(float64) {
			v.fail(path, "%d items, more than %v", len(arr), kw)
		}
	case "uniqueItems":
		seen := map[string]bool{}
		for _, item := range arr {
			key := fmt.Sprint(item)
			if kw.(bool) && seen[key] {
				v.fail(path, "%v appears twice", item)
			}
			seen[key] = true
		}
	}
}

func (v *schemaCheck) str(k string, kw any, s, path string) {
	n := utf8.RuneCountInString(s)
	switch k {
	case "minLength":
		if float64(n) < kw.(float64) {
			v.fail(path, "%d characters, fewer than %v", n, kw)
		}
	case "maxLength":
		if float64(n) > kw.(float64) {
			v.fail(path, "%d characters, more than %v", n, kw)
		}
	case "pattern", "regex":
		if !regexp.MustCompile(kw.(string)).MatchString(s) {
			v.fail(path, "%q does not match %s", s, kw)
		}
	}
}

func typeMatches(kw, val any) bool {
	if list, ok := kw.([]any); ok {
		return slices.ContainsFunc(list, func(t any) bool { return typeMatches(t, val) })
	}
	switch kw {
	case "object":
		_, ok := val.(map[string]any)
		return ok
	case "array":
		_, ok := val.([]any)
		return ok
	case "string":
		_, ok := val.(string)
		return ok
	case "boolean":
		_, ok := val.(bool)
		return ok
	case "integer":
		_, ok := val.(int)
		return ok
	case "number":
		switch val.(type) {
		case int, float64:
			return true
		}
	case "null":
		return val == nil
	}
	return false
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
