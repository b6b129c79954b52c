package msgraph

import (
	"context"
	"testing"
	"time"

	"github.com/closebot/closebot/closure/graphtest"
)

// BenchmarkDeleteUserSequential is the sequential baseline: one DELETE
// /users/{id} at a time through the real SDK (throttling off), with the
// emulator answering after a fixed latency. It reports deletions per second
// against the documented write quota of 20/s (3,000 per 150 s per app and
// tenant); BenchmarkPacedStep1 (pace_e2e_test.go) measures step 1 with the
// pacer, which closes that gap with requests in flight sized from the
// latency. Run:
//
//	go test -run '^$' -bench DeleteUserSequential -benchtime 200x ./closure/msgraph/
func BenchmarkDeleteUserSequential(b *testing.B) {
	for _, latency := range []time.Duration{0, 50 * time.Millisecond, 150 * time.Millisecond} {
		b.Run(latency.String(), func(b *testing.B) {
			e := newEnv(b, graphtest.DefaultTenantSpec(b.N+50))
			e.s.SetLatency(latency)
			var ids []string
			for _, u := range e.tn.Users() {
				if len(u.Roles) == 0 && !u.Synced && !u.Restricted && u.UPN != e.tn.KeptAdmin().UPN {
					ids = append(ids, u.ID)
				}
			}
			if len(ids) < b.N {
				b.Fatalf("only %d deletable users for %d deletions", len(ids), b.N)
			}
			ctx := context.Background()
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				if err := e.d.DeleteUser(ctx, ids[i]); err != nil {
					b.Fatal(err)
				}
			}
			perSec := float64(b.N) / time.Since(start).Seconds()
			b.ReportMetric(perSec, "deletes/s")
			b.ReportMetric(perSec/20*100, "%quota")
		})
	}
}
