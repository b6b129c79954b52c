package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/store"
)

// RefStore is a closure.Store that also keeps the Slack message refs of
// each request (the bot's RefStore: store.DB implements both).
type RefStore interface {
	closure.Store
	SetRef(ctx context.Context, requestID, name string, ref store.Ref) error
	Ref(ctx context.Context, requestID, name string) (store.Ref, bool, error)
	Refs(ctx context.Context, requestID string) (map[string]store.Ref, error)
}

// RunRefs runs the refs contract against stores newStore returns.
func RunRefs(t *testing.T, newStore func(t *testing.T) RefStore) {
	for _, c := range []struct {
		name string
		run  func(t *testing.T, s RefStore)
	}{
		{"SetGetReplace", refsSetGetReplace},
		{"PerRequest", refsPerRequest},
		{"Refused", refsRefused},
		{"SurviveUpdatesAndAppends", refsSurviveUpdates},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, newStore(t)) })
	}
}

func refsSetGetReplace(t *testing.T, s RefStore) {
	ctx := ctxOf(t)
	r := create(t, s, "t1")
	_, ok, err := s.Ref(ctx, r.ID, "card")
	require.NoError(t, err)
	assert.False(t, ok, "no ref yet")
	all, err := s.Refs(ctx, r.ID)
	require.NoError(t, err)
	assert.Empty(t, all)

	card := store.Ref{Channel: "C0OPS", TS: "1700000000.000100"}
	require.NoError(t, s.SetRef(ctx, r.ID, "card", card))
	require.NoError(t, s.SetRef(ctx, r.ID, "step.1", store.Ref{Channel: "C0OPS", TS: "1700000000.000200"}))
	got, ok, err := s.Ref(ctx, r.ID, "card")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, card, got)

	moved := store.Ref{Channel: "C0OPS", TS: "1700000001.000100"}
	require.NoError(t, s.SetRef(ctx, r.ID, "card", moved), "a ref is replaced")
	all, err = s.Refs(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, map[string]store.Ref{"card": moved, "step.1": {Channel: "C0OPS", TS: "1700000000.000200"}}, all)
}

func refsPerRequest(t *testing.T, s RefStore) {
	ctx := ctxOf(t)
	a, b := create(t, s, "t1"), create(t, s, "t2")
	require.NoError(t, s.SetRef(ctx, a.ID, "card", store.Ref{Channel: "C1", TS: "1.1"}))
	_, ok, err := s.Ref(ctx, b.ID, "card")
	require.NoError(t, err)
	assert.False(t, ok, "refs belong to one request")
	all, err := s.Refs(ctx, b.ID)
	require.NoError(t, err)
	assert.Empty(t, all)
}

func refsRefused(t *testing.T, s RefStore) {
	ctx := ctxOf(t)
	r := create(t, s, "t1")
	assert.Error(t, s.SetRef(ctx, r.ID, "", store.Ref{Channel: "C1", TS: "1.1"}), "no name")
	assert.Error(t, s.SetRef(ctx, r.ID, "card", store.Ref{TS: "1.1"}), "no channel")
	assert.Error(t, s.SetRef(ctx, r.ID, "card", store.Ref{Channel: "C1"}), "no ts")
	err := s.SetRef(ctx, "CT-9", "card", store.Ref{Channel: "C1", TS: "1.1"})
	assert.ErrorIs(t, err, closure.ErrNotFound, "a ref of no request")
	all, err := s.Refs(ctx, r.ID)
	require.NoError(t, err)
	assert.Empty(t, all, "nothing was stored")
}

func refsSurviveUpdates(t *testing.T, s RefStore) {
	ctx := ctxOf(t)
	r := create(t, s, "t1")
	require.NoError(t, s.SetRef(ctx, r.ID, "thread", store.Ref{Channel: "C1", TS: "2.2"}))
	r = move(t, s, r, closure.StateApproved)
	_, err := s.Append(ctx, closure.Event{Request: r.ID, At: T0, Action: "note"})
	require.NoError(t, err)
	move(t, s, r, closure.StateCancelled)
	got, ok, err := s.Ref(ctx, r.ID, "thread")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, store.Ref{Channel: "C1", TS: "2.2"}, got)
}
