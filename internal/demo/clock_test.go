package demo

import (
	"testing"
	"time"
)

func TestDemoClockScalesAndFastForwards(t *testing.T) {
	epoch := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	c := NewClock(epoch, 60)
	defer c.Close()
	far := c.After(72 * time.Hour)
	soon := c.After(30 * time.Second) // half a second of wall time at 60×
	select {
	case <-soon:
	case <-time.After(10 * time.Second):
		t.Fatal("a 30 s emulated wait did not end at 60× speed")
	}
	select {
	case <-far:
		t.Fatal("a 72 h wait ended early")
	default:
	}
	c.FastForward(72 * time.Hour)
	select {
	case <-far:
	case <-time.After(5 * time.Second):
		t.Fatal("fast-forwarding past a wait did not end it")
	}
	if got := c.Now().Sub(epoch); got < 72*time.Hour {
		t.Errorf("clock only %v past the epoch after a 72 h fast-forward", got)
	}
}
