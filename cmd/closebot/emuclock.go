package main

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/closebot/closebot/closure/pace"
	"github.com/closebot/closebot/config"
)

// emulatedClock is the clock `closebot emulate --epoch E --time-scale S`
// runs on, so a separate `closebot run` process (the bench, the SIGKILL
// tests) shares the emulators' time: emulated = epoch + (wall − epoch)·scale.
type emulatedClock struct {
	epoch time.Time
	scale float64
	// skips, if set, is a file through which a test fast-forwards this
	// process's clock (demo.FollowSkips): a child closebot cannot be
	// called, and a scale high enough to replace fast-forwards makes the
	// device-code sign-in expire before MSAL's first poll.
	skips string
}

func (c emulatedClock) Now() time.Time {
	return c.epoch.Add(time.Duration(float64(time.Since(c.epoch)) * c.scale))
}

// After waits d of emulated time (d/scale of wall time).
func (c emulatedClock) After(d time.Duration) <-chan time.Time {
	return time.After(time.Duration(float64(d) / c.scale))
}

// parseEmulatedClock reads --emulated-clock "EPOCH,SCALE[,SKIPFILE]" (EPOCH
// in RFC 3339, as `closebot emulate` prints it). It is refused unless Slack, Graph and the
// authority are all on loopback: a real tenant is never run on a fast clock.
func parseEmulatedClock(v string, cfg *config.Config) (*emulatedClock, error) {
	epochS, scaleS, ok := strings.Cut(v, ",")
	scaleS, skips, _ := strings.Cut(scaleS, ",")
	if !ok {
		return nil, fmt.Errorf("--emulated-clock: want EPOCH,SCALE like 2026-11-26T12:00:00Z,60")
	}
	epoch, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(epochS))
	if err != nil {
		return nil, fmt.Errorf("--emulated-clock: epoch: %w", err)
	}
	scale, err := strconv.ParseFloat(strings.TrimSpace(scaleS), 64)
	if err != nil || scale <= 0 || scale > 1e6 {
		return nil, fmt.Errorf("--emulated-clock: scale %q must be a number in (0, 1e6]", scaleS)
	}
	if err := onlyEmulators("--emulated-clock", cfg); err != nil {
		return nil, err
	}
	return &emulatedClock{epoch: epoch, scale: scale, skips: strings.TrimSpace(skips)}, nil
}

// onlyEmulators refuses flag unless Slack, Graph and the authority are all
// on loopback: the emulation knobs must never reach a real tenant.
func onlyEmulators(flag string, cfg *config.Config) error {
	for what, u := range map[string]string{"Slack API URL": cfg.Env.SlackAPIURL, "Graph base URL": cfg.Graph.BaseURL, "authority host": cfg.Env.AuthorityHost} {
		if !loopbackURL(u) {
			return fmt.Errorf("%s is for the emulators only: the %s %q is not on loopback", flag, what, u)
		}
	}
	return nil
}

// emulatedQuotaPacing reads --emulated-quota-scale k: the Graph emulator
// runs with `closebot emulate --quota-scale k` (graphtest SetQuotaScale),
// which refills every quota k times faster and keeps each burst. The
// pacer's buckets must match, so the quotas are set explicitly with the
// windows divided by k (pace.Settings.Scale would multiply the burst too).
// Refused unless the emulators are on loopback, like --emulated-clock.
func emulatedQuotaPacing(v string, cfg *config.Config) (pace.Settings, error) {
	k, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || k <= 0 || k > 1e4 {
		return pace.Settings{}, fmt.Errorf("--emulated-quota-scale: %q must be a number in (0, 1e4]", v)
	}
	if err := onlyEmulators("--emulated-quota-scale", cfg); err != nil {
		return pace.Settings{}, err
	}
	faster := func(q pace.Quota) pace.Quota {
		return pace.Quota{Requests: q.Requests, Per: time.Duration(float64(q.Per) / k)}
	}
	return pace.Settings{AppTenant: faster(pace.AppTenantWrites), App: faster(pace.AppWrites)}, nil
}

func loopbackURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}
