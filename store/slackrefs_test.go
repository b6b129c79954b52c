package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

func TestSlackRefs(t *testing.T) {
	path := testPath(t)
	db := openAt(t, path)
	r := createOne(t, db, "tenant-a")

	_, ok, err := db.Ref(ctx(), r.ID, "card")
	require.NoError(t, err)
	assert.False(t, ok)

	require.NoError(t, db.SetRef(ctx(), r.ID, "card", Ref{Channel: "C0OPS", TS: "1700000000.000100"}))
	require.NoError(t, db.SetRef(ctx(), r.ID, "thread", Ref{Channel: "C0OPS", TS: "1700000000.000100"}))
	require.NoError(t, db.SetRef(ctx(), r.ID, "step.1", Ref{Channel: "C0OPS", TS: "1700000001.000200"}))
	require.NoError(t, db.SetRef(ctx(), r.ID, "gate.sync", Ref{Channel: "D0CAROL", TS: "1700000002.000300"}))
	require.NoError(t, db.SetRef(ctx(), r.ID, "step.1", Ref{Channel: "C0OPS", TS: "1700000009.000900"}), "replace")

	ref, ok, err := db.Ref(ctx(), r.ID, "step.1")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, Ref{Channel: "C0OPS", TS: "1700000009.000900"}, ref)

	assert.ErrorIs(t, db.SetRef(ctx(), "CT-42", "card", Ref{Channel: "C", TS: "1"}), closure.ErrNotFound)
	assert.ErrorIs(t, db.SetRef(ctx(), r.ID, "", Ref{Channel: "C", TS: "1"}), ErrInvalid)
	assert.ErrorIs(t, db.SetRef(ctx(), r.ID, "card", Ref{Channel: "C"}), ErrInvalid)

	require.NoError(t, db.Close())
	db = openAt(t, path)
	refs, err := db.Refs(ctx(), r.ID)
	require.NoError(t, err)
	assert.Equal(t, map[string]Ref{
		"card":      {Channel: "C0OPS", TS: "1700000000.000100"},
		"thread":    {Channel: "C0OPS", TS: "1700000000.000100"},
		"step.1":    {Channel: "C0OPS", TS: "1700000009.000900"},
		"gate.sync": {Channel: "D0CAROL", TS: "1700000002.000300"},
	}, refs)
	none, err := db.Refs(ctx(), "CT-42")
	require.NoError(t, err)
	assert.Empty(t, none)
}

func TestSeenEnvelope(t *testing.T) {
	db := openAt(t, testPath(t))
	first, err := db.SeenEnvelope(ctx(), "env-1", t0)
	require.NoError(t, err)
	assert.True(t, first)
	first, err = db.SeenEnvelope(ctx(), "env-1", t0.Add(time.Minute))
	require.NoError(t, err)
	assert.False(t, first, "redelivery")
	first, err = db.SeenEnvelope(ctx(), "env-2", t0.Add(2*time.Minute))
	require.NoError(t, err)
	assert.True(t, first)

	// A day later env-1 is forgotten (pruned on this call, an hour has passed).
	first, err = db.SeenEnvelope(ctx(), "env-3", t0.Add(24*time.Hour+90*time.Second))
	require.NoError(t, err)
	assert.True(t, first)
	n, err := db.PruneEnvelopes(ctx(), t0.Add(24*time.Hour+90*time.Second))
	require.NoError(t, err)
	assert.Equal(t, 0, n, "env-1 was pruned by SeenEnvelope")
	n, err = db.PruneEnvelopes(ctx(), t0.Add(25*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 1, n, "env-2")
	first, err = db.SeenEnvelope(ctx(), "env-3", t0.Add(25*time.Hour))
	require.NoError(t, err)
	assert.False(t, first, "env-3 is recent")

	_, err = db.SeenEnvelope(ctx(), "", t0)
	assert.ErrorIs(t, err, ErrInvalid)
}

func TestMeta(t *testing.T) {
	path := testPath(t)
	db := openAt(t, path)
	type snapshot struct {
		Approvers  []string `json:"approvers"`
		Requesters []string `json:"requesters"`
	}
	var got snapshot
	ok, err := db.GetMeta(ctx(), "config.last_run", &got)
	require.NoError(t, err)
	assert.False(t, ok)

	want := snapshot{Approvers: []string{"U0BOB", "S0SECLEAD"}, Requesters: []string{"U0ALICE"}}
	require.NoError(t, db.PutMeta(ctx(), "config.last_run", want))
	require.NoError(t, db.Close())

	db = openAt(t, path)
	ok, err = db.GetMeta(ctx(), "config.last_run", &got)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, want, got)
	// Meta values live apart from the request counter.
	require.NoError(t, db.PutMeta(ctx(), "request_counter", 99))
	assert.Equal(t, "CT-1", createOne(t, db, "tenant-a").ID)
	assert.ErrorIs(t, db.PutMeta(ctx(), "", 1), ErrInvalid)
}
