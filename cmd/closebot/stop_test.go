package main

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestWatchStopPausesOnStopFileAndSignal(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopFile := filepath.Join(t.TempDir(), "closebot.db.stop")
	sig := make(chan os.Signal, 1)
	why := make(chan string, 10)
	go watchStop(ctx, stopFile, 10*time.Millisecond, sig, stopper{pause: func(_ context.Context, w string) { why <- w }})

	select {
	case w := <-why:
		t.Fatalf("paused with no stop file and no signal: %s", w)
	case <-time.After(100 * time.Millisecond):
	}
	sig <- syscall.SIGUSR1
	if w := <-why; w != "signal user defined signal 1" {
		t.Errorf("signal pause said %q", w)
	}
	if err := os.WriteFile(stopFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case w := <-why:
		if w != "stop file "+stopFile {
			t.Errorf("stop-file pause said %q", w)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stop file paused nothing")
	}
}
