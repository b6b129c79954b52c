package store

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

// TestGroupCommitVerifies: a batch of intents (AppendMany) and a batch of
// completions (UpdateMany) chain like single events do: the request's
// chain, the database head and a reopen all verify.
func TestGroupCommitVerifies(t *testing.T) {
	path := testPath(t)
	db := openAt(t, path)
	r := createOne(t, db, "t1")
	var intents, done []closure.Event
	for i := range 50 {
		d := map[string]string{"id": fmt.Sprint("user-", i)}
		intents = append(intents, closure.Event{Request: r.ID, At: t0, Actor: "closebot", Action: closure.EvIntentDelUser, Detail: d})
		done = append(done, closure.Event{At: t0, Actor: "closebot", Action: closure.EvDeleteUser, Detail: d})
	}
	_, err := db.AppendMany(ctx(), intents)
	require.NoError(t, err)
	next := r.Clone()
	next.Done.DeletedUsers = 50
	got, evs, err := db.UpdateMany(ctx(), expectOf(r), next, done)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), got.Version)
	assert.Equal(t, uint64(101), evs[49].Seq)

	res, err := db.Verify(ctx(), r.ID)
	require.NoError(t, err)
	assert.True(t, res.OK(), "fault: %v", res.Fault)
	assert.Equal(t, 101, res.Events)
	rep, err := db.VerifyDatabase(ctx())
	require.NoError(t, err)
	assert.True(t, rep.OK(), "database head: %+v", rep)
	require.NoError(t, db.Close())

	again := openAt(t, path)
	require.NoError(t, again.VerifyChain(ctx(), r.ID))
	stored, err := again.Events(ctx(), r.ID)
	require.NoError(t, err)
	assert.Equal(t, evs, stored[51:])
}
