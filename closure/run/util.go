package run

import (
	"maps"
	"slices"
	"strings"

	"github.com/closebot/closebot/closure"
)

func lower(s string) string { return strings.ToLower(s) }

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// deny is a refusal of rule for action a in state s.
func deny(rule closure.Rule, a closure.Action, s closure.State, detail string) *closure.Denied {
	return &closure.Denied{Rule: rule, Action: a, State: s, Detail: detail}
}

// permissionOf is the Graph permission a refusal names, or "".
func permissionOf(err error) string {
	if ae, ok := closure.AsAPIError(err); ok {
		return ae.Permission
	}
	return ""
}
