package demo

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A closebot in another process follows the skip file: what was skipped
// before it started at once, later skips within a poll, each acknowledged.
func TestFollowSkips(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clock.skip")
	epoch := time.Now().Add(-time.Second)
	writer, reader := NewSharedClock(epoch, 60), NewSharedClock(epoch, 60)
	defer writer.Close()
	defer reader.Close()
	require.WithinDuration(t, writer.Now(), reader.Now(), time.Second, "one formula, one time")

	writer.FastForward(30 * time.Minute)
	require.NoError(t, WriteSkip(path, writer.Skipped()))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	require.NoError(t, FollowSkips(ctx, reader, path, time.Millisecond))
	require.Equal(t, 30*time.Minute, reader.Skipped(), "applied before FollowSkips returns")
	fired := reader.After(72 * time.Hour)

	require.NoError(t, WriteSkip(path, 72*time.Hour+30*time.Minute))
	select {
	case <-fired: // a wait of 72 hours ends with the skip
	case <-time.After(10 * time.Second):
		t.Fatal("the skip did not reach the reader")
	}
	require.Eventually(t, func() bool {
		ack, err := ReadSkip(path + ".ack")
		return err == nil && ack == 72*time.Hour+30*time.Minute
	}, 10*time.Second, time.Millisecond)

	got, err := ReadSkip(filepath.Join(t.TempDir(), "none"))
	require.NoError(t, err)
	require.Zero(t, got, "no file: nothing skipped")
}
