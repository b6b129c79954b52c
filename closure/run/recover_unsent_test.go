package run

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/closebot/closebot/closure"
)

// Intents withdrawn as never sent (a group the step stopped before
// sending) are neither orphans for recovery nor deletions for Restore; an
// intent recorded again after the withdrawal counts again.
func TestUnsentIntentsAreNotWrites(t *testing.T) {
	intent := func(id string) closure.Event {
		return closure.Event{Action: closure.EvIntentDelUser, Detail: map[string]string{"id": id}}
	}
	done := func(id string) closure.Event {
		return closure.Event{Action: closure.EvDeleteUser, Detail: map[string]string{"id": id}}
	}
	unsent := closure.Event{Action: closure.EvIntentUnsent, Detail: map[string]string{"action": string(closure.EvIntentDelUser), "ids": "c,D"}}
	evs := []closure.Event{intent("a"), intent("b"), intent("c"), intent("d"), done("a"), unsent, intent("c")}

	var orphans []string
	for _, ev := range orphanIntents(evs) {
		orphans = append(orphans, ev.Detail["id"])
	}
	assert.Equal(t, []string{"b", "c"}, orphans, "b was sent and never recorded; c is intended again")

	var sent []string
	for _, ev := range sentIntents(evs, closure.EvIntentDelUser) {
		if ev.Action == closure.EvIntentDelUser {
			sent = append(sent, ev.Detail["id"])
		}
	}
	assert.Equal(t, []string{"a", "b", "c"}, sent)
}
