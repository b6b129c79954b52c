package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// A skip file carries fast-forwards to a closebot running in another
// process on a shared clock (NewSharedClock), which cannot be called: the
// test writes the total it has skipped, as a Go duration; the closebot
// (`closebot run --emulated-clock EPOCH,SCALE,FILE`) applies what it has not
// applied yet, then writes the total it applied to FILE.ack, so the test
// moves the emulators' clock only once closebot's is there (closebot may be
// ahead of the emulators, never behind).

// WriteSkip records total as the skip file's content (atomically).
func WriteSkip(path string, total time.Duration) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(total.String()+"\n"), 0o600); err != nil {
		return fmt.Errorf("write skip file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write skip file: %w", err)
	}
	return nil
}

// ReadSkip reads a skip (or ack) file; a missing file is 0.
func ReadSkip(path string) (time.Duration, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read skip file: %w", err)
	}
	d, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("skip file %s: %w", path, err)
	}
	return d, nil
}

// FollowSkips applies path's skips to c: once now (a restarted closebot
// starts where the emulators are), then every poll until ctx ends.
func FollowSkips(ctx context.Context, c *Clock, path string, poll time.Duration) error {
	acked := time.Duration(-1)
	apply := func() error {
		total, err := ReadSkip(path)
		if err != nil {
			return err
		}
		if d := total - c.Skipped(); d > 0 {
			c.FastForward(d)
		}
		if c.Skipped() == acked {
			return nil
		}
		if err := WriteSkip(path+".ack", c.Skipped()); err != nil {
			return err
		}
		acked = c.Skipped()
		return nil
	}
	if err := apply(); err != nil {
		return err
	}
	go func() {
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				_ = apply() // a torn read is retried at the next tick
			}
		}
	}()
	return nil
}
