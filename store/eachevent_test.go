package store

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

func TestEachEventWalksTheChainInOrder(t *testing.T) {
	db := openAt(t, testPath(t))
	r := createOne(t, db, "tenant-a")
	for _, u := range []string{"u1", "u2", "u3"} {
		ev := event(closure.EvDeleteUser)
		ev.Request, ev.Actor, ev.Detail = r.ID, "closebot", map[string]string{"id": u}
		_, err := db.Append(ctx(), ev)
		require.NoError(t, err)
	}
	all, err := db.Events(ctx(), r.ID)
	require.NoError(t, err)
	require.Len(t, all, 4)

	var walked []closure.Event
	require.NoError(t, db.EachEvent(ctx(), r.ID, func(ev closure.Event) error {
		walked = append(walked, ev)
		return nil
	}))
	require.Equal(t, all, walked, "the same events as Events, in order")

	// An error from fn stops the walk and comes back.
	stop := errors.New("enough")
	n := 0
	err = db.EachEvent(ctx(), r.ID, func(closure.Event) error {
		n++
		return stop
	})
	require.ErrorIs(t, err, stop)
	require.Equal(t, 1, n)

	require.ErrorIs(t, db.EachEvent(ctx(), "CT-7", func(closure.Event) error { return nil }), closure.ErrNotFound)
}
