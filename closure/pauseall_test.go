package closure_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

// The stop file and SIGUSR1 pause every running closure; one already
// paused is left alone.
func TestPauseAllPausesRunningRequestsOnly(t *testing.T) {
	h := newHarness(t, testPolicy())
	running := h.ToRunning(t)
	paused, err := h.Svc.PauseAll(context.Background(), "stop file")
	require.NoError(t, err)
	require.Equal(t, []string{running.ID}, paused)

	got, err := h.Store.Get(context.Background(), running.ID)
	require.NoError(t, err)
	require.Equal(t, closure.StatePaused, got.State)
	require.Equal(t, closure.StateRunning, got.PausedFrom)
	evs, err := h.Store.Events(context.Background(), running.ID)
	require.NoError(t, err)
	last := evs[len(evs)-1]
	require.Equal(t, closure.EvPause, last.Action)
	require.Equal(t, "stop file", last.Detail["why"])

	again, err := h.Svc.PauseAll(context.Background(), "stop file")
	require.NoError(t, err)
	require.Empty(t, again, "an already paused request is not paused twice")
}
