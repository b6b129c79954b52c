package bench

import (
	"bytes"
	"context"
	"math"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestBenchSmoke runs the closebot scenario end to end on a small tenant
// at a high time scale: real `closebot emulate` and `closebot run`
// children, the people through Slack. It checks the numbers are sane, not
// how fast anything was.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds closebot and runs it as child processes")
	}
	exe := filepath.Join(t.TempDir(), "closebot")
	build := exec.Command("go", "build", "-o", exe, "github.com/closebot/closebot/cmd/closebot")
	built := time.Now()
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	t.Logf("built closebot in %s", time.Since(built).Round(time.Second))

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var progress bytes.Buffer
	o := Options{Exe: exe, Users: 200, Latency: 150 * time.Millisecond, TimeScale: 20, Limit: 24 * time.Hour, Only: ScenarioClosebot, Dir: t.TempDir(), Progress: &progress}
	rs, err := Run(ctx, o)
	t.Log(progress.String())
	require.NoError(t, err)
	require.Len(t, rs, 1)
	r := rs[0]
	require.NoError(t, r.Err)
	require.Equal(t, ScenarioClosebot, r.Scenario)
	require.Greater(t, r.Target, 190, "the card's users to delete")
	require.Equal(t, r.Target, r.Deleted, "every user deleted, counted at the emulator")
	require.Zero(t, r.Failures)
	require.False(t, r.Projected)
	require.Greater(t, r.Total, time.Duration(0))
	require.True(t, r.Share429 >= 0 && r.Share429 <= 1)
	require.Greater(t, r.PeakRSS, int64(1<<20), "the bot's VmHWM")
	require.Zero(t, r.Ideal, "200 users fit in the 3,000-write burst")

	var table bytes.Buffer
	Print(&table, o, rs)
	t.Log(table.String())
	require.Contains(t, table.String(), "| closebot | ")
	require.NotContains(t, table.String(), "Errors:")
}

func TestMeasureSteadyStateAnd429s(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	g := &graphLog{}
	// 3,000 at once, then 20/s for 200 s, a 429 every second and one 500.
	for i := range 3000 {
		g.writes = append(g.writes, write{at: t0.Add(time.Duration(i) * time.Millisecond), tenant: "t", status: http.StatusNoContent, userDel: true})
	}
	for i := range 4000 {
		at := t0.Add(3*time.Second + time.Duration(i)*50*time.Millisecond)
		g.writes = append(g.writes, write{at: at, tenant: "t", status: http.StatusNoContent, userDel: true})
		if i%20 == 0 {
			g.writes = append(g.writes, write{at: at, tenant: "t", status: http.StatusTooManyRequests, throttled: true, userDel: true})
		}
	}
	g.writes = append(g.writes, write{at: t0, tenant: "t", status: http.StatusInternalServerError, userDel: true},
		write{at: t0, tenant: "other", status: http.StatusNoContent, userDel: true})
	m := g.measure("T", 150*time.Second)
	require.Equal(t, 7000, m.deleted)
	require.Equal(t, 200, m.n429)
	require.Equal(t, 7201, m.attempts)
	require.Equal(t, 1, m.failures)
	require.InDelta(t, 20, m.steady, 0.5)
	require.True(t, math.IsNaN(g.measure("t", time.Hour).steady), "no steady state in a run shorter than the warm-up")
}

func TestP99(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 20; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	require.Equal(t, 20*time.Millisecond, p99(ds))
	require.Zero(t, p99(nil))
}

func TestRunRefusesBadOptions(t *testing.T) {
	_, err := Run(context.Background(), Options{Exe: "closebot", Users: 100, Only: "nope"})
	require.ErrorContains(t, err, "closebot, sequential")
	_, err = Run(context.Background(), Options{Exe: "closebot", Users: 1})
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), "--users"))
}
