package bench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// Print writes the results as a Markdown table, then the Slack side and
// the targets closebot missed.
func Print(w io.Writer, o Options, rs []Result) {
	fmt.Fprintf(w, "| scenario | users deleted | steady writes/s (per tenant) | of the quota | total time | ideal | total ÷ ideal | 429s | failures | bot peak RSS |\n")
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rs {
		if r.Scenario == ScenarioSlack {
			continue
		}
		fmt.Fprintf(w, "| %s | %d of %d | %s | %s | %s | %s | %s | %.1f %% | %d | %s |\n",
			label(r), r.Deleted, r.Target, num(r.Steady), pct(r.Steady, r.Allowed), total(r), dur(r.Ideal), ratio(r),
			100*r.Share429, r.Failures, mib(r.PeakRSS))
	}
	for _, r := range rs {
		if r.Scenario != ScenarioSlack || r.Commands == 0 {
			continue
		}
		fmt.Fprintf(w, "\nSlack side: %d concurrent /close-tenant: ack p99 %s, time to card p99 %s, Slack 429s %s; bot peak RSS %s\n",
			r.Commands, r.AckP99.Round(time.Millisecond), r.CardP99.Round(100*time.Millisecond), slack429(r.Slack429), mib(r.PeakRSS))
	}
	var errs []string
	for _, r := range rs {
		if r.Err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", r.Scenario, r.Err))
		}
	}
	if len(errs) > 0 {
		fmt.Fprintf(w, "\nErrors:\n- %s\n", strings.Join(errs, "\n- "))
	}
	if missed := Missed(o, rs); len(missed) > 0 {
		fmt.Fprintf(w, "\nTargets missed:\n- %s\n", strings.Join(missed, "\n- "))
	}
}

// Missed lists the targets closebot's own scenarios did not meet,
// each with by how much.
func Missed(o Options, rs []Result) []string {
	var out []string
	want := 0.95
	if o.QuotaScale > 1 {
		want = 0.90
	}
	for _, r := range rs {
		if r.Err != nil || r.Scenario == ScenarioSequential || r.Scenario == ScenarioUnpaced {
			continue
		}
		if r.Scenario == ScenarioSlack {
			if r.AckP99 > 100*time.Millisecond {
				out = append(out, fmt.Sprintf("slack: ack p99 %s > 100 ms", r.AckP99.Round(time.Millisecond)))
			}
			continue
		}
		if !math.IsNaN(r.Steady) && r.Steady < want*r.Allowed {
			out = append(out, fmt.Sprintf("%s: steady %.1f writes/s < %.0f %% of %.0f (%.1f short)", r.Scenario, r.Steady, 100*want, r.Allowed, want*r.Allowed-r.Steady))
		}
		if r.Ideal > 0 && (r.Total < 0 || float64(r.Total) > 1.05*float64(r.Ideal)) {
			out = append(out, fmt.Sprintf("%s: total %s > 1.05 × ideal %s", r.Scenario, total(r), dur(r.Ideal)))
		}
		if r.Share429 > 0.01 {
			out = append(out, fmt.Sprintf("%s: %.1f %% 429s > 1 %%", r.Scenario, 100*r.Share429))
		}
		if r.Failures > 0 {
			out = append(out, fmt.Sprintf("%s: %d failed writes", r.Scenario, r.Failures))
		}
		if r.PeakRSS > 64<<20 {
			out = append(out, fmt.Sprintf("%s: bot peak RSS %s > 64 MiB", r.Scenario, mib(r.PeakRSS)))
		}
	}
	return out
}

func label(r Result) string {
	switch r.Scenario {
	case ScenarioClosebot:
		return "closebot"
	case ScenarioSequential:
		return "baseline: sequential (msgraph adapter, 1 in flight)"
	case ScenarioUnpaced:
		return fmt.Sprintf("baseline: unpaced (%d in flight, Retry-After honoured)", unpacedWorkers)
	case ScenarioTwoTenants:
		return "closebot, two tenants at once (one app)"
	case ScenarioBackground:
		return fmt.Sprintf("closebot, other apps busy (%.0f writes/s of the tenant's quota left)", r.Allowed)
	}
	return r.Scenario
}

func num(f float64) string {
	if math.IsNaN(f) {
		return "—"
	}
	return fmt.Sprintf("%.1f", f)
}

func pct(f, of float64) string {
	if math.IsNaN(f) || of <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f %% of %.0f", 100*f/of, of)
}

func dur(d time.Duration) string {
	if d <= 0 {
		return "—"
	}
	return d.Round(time.Second).String()
}

func total(r Result) string {
	if r.Total < 0 {
		return "—"
	}
	s := dur(r.Total)
	if r.Projected && s != "—" {
		s = "≈ " + s + " (projected)"
	}
	return s
}

func ratio(r Result) string {
	if r.Ideal <= 0 || r.Total <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", float64(r.Total)/float64(r.Ideal))
}

func mib(n int64) string {
	if n <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
}

func slack429(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
