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
	running := h.toRunning(t)
	paused, err := h.svc.PauseAll(context.Background(), "stop file")
	require.NoError(t, err)
	require.Equal(t, []string{running.ID}, paused)

	got, err := h.store.Get(context.Background(), running.ID)
	require.NoError(t, err)
	require.Equal(t, closure.StatePaused, got.State)
	require.Equal(t, closure.StateRunning, got.PausedFrom)
	evs, err := h.store.Events(context.Background(), running.ID)
	require.NoError(t, err)
	last := evs[len(evs)-1]
	require.Equal(t, closure.EvPause, last.Action)
	require.Equal(t, "stop file", last.Detail["why"])

	again, err := h.svc.PauseAll(context.Background(), "stop file")
	require.NoError(t, err)
	require.Empty(t, again, "an already paused request is not paused twice")
}
