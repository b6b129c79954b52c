package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure/pace"
	"github.com/closebot/closebot/config"
)

func TestEmulatedClockOnlyOnLoopback(t *testing.T) {
	cfg := &config.Config{}
	cfg.Env.SlackAPIURL = "https://127.0.0.1:4000/api/"
	cfg.Env.AuthorityHost = "https://localhost:4001/"
	cfg.Graph.BaseURL = "https://[::1]:4001/v1.0"
	epoch := time.Now().Add(-10 * time.Second).UTC()
	c, err := parseEmulatedClock(epoch.Format(time.RFC3339Nano)+",60", cfg)
	require.NoError(t, err)
	// Ten wall seconds since the epoch are ten emulated minutes.
	require.WithinDuration(t, epoch.Add(10*time.Minute), c.Now(), 2*time.Minute)

	c, err = parseEmulatedClock(epoch.Format(time.RFC3339Nano)+",60,/tmp/x/clock.skip", cfg)
	require.NoError(t, err)
	require.Equal(t, "/tmp/x/clock.skip", c.skips, "a third field is the skip file the SIGKILL tests fast-forward through")
	require.Equal(t, 60.0, c.scale)

	cfg.Graph.BaseURL = "https://graph.microsoft.com/v1.0"
	_, err = parseEmulatedClock(epoch.Format(time.RFC3339Nano)+",60", cfg)
	require.ErrorContains(t, err, "Graph base URL")

	for _, bad := range []string{"", "yesterday,60", epoch.Format(time.RFC3339) + ",0", epoch.Format(time.RFC3339) + ",x"} {
		_, err := parseEmulatedClock(bad, cfg)
		require.Error(t, err, bad)
	}
}

func TestEmulatedQuotaScaleOnlyOnLoopback(t *testing.T) {
	cfg := &config.Config{}
	cfg.Env.SlackAPIURL = "https://127.0.0.1:4000/api/"
	cfg.Env.AuthorityHost = "https://localhost:4001/"
	cfg.Graph.BaseURL = "https://[::1]:4001/v1.0"
	s, err := emulatedQuotaPacing("10", cfg)
	require.NoError(t, err)
	// The emulator's SetQuotaScale keeps the burst and refills 10× faster.
	require.Equal(t, pace.Quota{Requests: 3000, Per: 15 * time.Second}, s.AppTenant)
	require.Equal(t, pace.Quota{Requests: 35000, Per: 30 * time.Second}, s.App)
	require.Zero(t, s.Scale)

	for _, host := range []string{"SlackAPIURL", "AuthorityHost", "Graph"} {
		c := *cfg
		switch host {
		case "SlackAPIURL":
			c.Env.SlackAPIURL = "https://slack.com/api/"
		case "AuthorityHost":
			c.Env.AuthorityHost = "https://login.microsoftonline.com/"
		case "Graph":
			c.Graph.BaseURL = "https://graph.microsoft.com/v1.0"
		}
		_, err := emulatedQuotaPacing("10", &c)
		require.ErrorContains(t, err, "not on loopback", host)
	}
	for _, bad := range []string{"", "0", "-1", "x", "1e9"} {
		_, err := emulatedQuotaPacing(bad, cfg)
		require.Error(t, err, bad)
	}
}
