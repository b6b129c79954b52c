package closure_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

// TestUsersRemovedGroupCommit: a batch of deletions is one decision: one
// version, one audit event per user in order, the counters as if each had
// been recorded alone, one report.
func TestUsersRemovedGroupCommit(t *testing.T) {
	h := newHarness(t, testPolicy())
	r := h.ToRunning(t)
	var batch []closure.DeletedObject
	for i := range 3 {
		batch = append(batch, closure.DeletedObject{ID: fmt.Sprint("u", i), Name: fmt.Sprint("u", i, "@contoso.com"), Kind: "member"})
	}
	batch = append(batch, closure.DeletedObject{ID: "priv-1", Kind: "privileged", Privileged: true})
	before := len(h.Rep.Reports())
	got, evs, err := h.Svc.ApplySystemMany(context.Background(), r.ID, func(s closure.System, q *closure.Request) (*closure.Request, []closure.Event, error) {
		return s.UsersRemoved(q, batch)
	})
	require.NoError(t, err)
	assert.Equal(t, r.Version+1, got.Version)
	require.Len(t, evs, 4)
	for i, ev := range evs {
		assert.Equal(t, closure.EvDeleteUser, ev.Action)
		assert.Equal(t, batch[i].ID, ev.Detail["id"])
		assert.Equal(t, got.Version, ev.Version)
	}
	assert.Equal(t, 4, got.StepAt(1).Done)
	assert.Equal(t, 3, got.Done.DeletedUsers)
	assert.Equal(t, []string{"priv-1"}, got.Done.DeletedPrivileged)
	assert.Equal(t, "priv-1", got.StepAt(1).Cursor)
	assert.False(t, got.RestoreDeadline.IsZero())
	assert.Len(t, h.Rep.Reports(), before+1, "reported once, with the last event")

	_, _, err = closure.System{Policy: h.Pol, Now: t0}.UsersRemoved(got, nil)
	requireRule(t, closure.RuleBadInput, err)
}
