package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/closebot/closebot/closure/graphtest"
	"github.com/closebot/closebot/internal/demo"
)

// runEmulate starts both emulators with a seeded world and serves until
// interrupted, printing the environment and closebot.yaml that point a
// closebot process at them.
func runEmulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("emulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	users := fs.Int("users", 200, "users in the emulated tenant, the kept admin included")
	latency := fs.Duration("latency", 0, "latency added to every Graph and Slack answer")
	scale := fs.Float64("time-scale", 1, "emulated seconds per wall second (e.g. 3600: an hour a second)")
	epoch := fs.String("epoch", "", "RFC 3339 wall instant where emulated time equals wall time (default: now); give the same --epoch and --time-scale to another process to share the clock")
	configOut := fs.String("write-config", "", "also write the sample closebot.yaml to this file")
	once := fs.Bool("print-only", false, "print the environment and configuration, then stop")
	tenants := fs.Int("tenants", 1, "tenants under closebot's one app registration, each with --users users (the bench's concurrent closures)")
	plain := fs.Bool("plain-users", false, "every user a cloud-only account outside any restricted admin unit, sync off: step 1 deletes them all without a gate (the bench)")
	quota := fs.Float64("quota-scale", 1, "test knob: Graph's throttling quotas refill this many times faster (bursts unchanged)")
	background := fs.Float64("background-writes", 0, "other apps write this many times a second into every tenant, having just spent the tenant's write burst")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *tenants < 1 || *tenants > 50 {
		return fmt.Errorf("--tenants must be between 1 and 50, got %d", *tenants)
	}
	if *quota <= 0 || *background < 0 {
		return fmt.Errorf("--quota-scale must be positive and --background-writes not negative")
	}
	o := demo.Options{Users: *users, Latency: *latency, Scale: *scale}
	if *plain {
		o.Spec = plainUsers
	}
	if *epoch != "" {
		t, err := time.Parse(time.RFC3339Nano, *epoch)
		if err != nil {
			return fmt.Errorf("--epoch: want RFC 3339 like 2026-11-26T12:00:00Z: %w", err)
		}
		o.Epoch = t
	}
	w, err := demo.StartWorld(o)
	if err != nil {
		return err
	}
	defer w.Close()
	extra := addTenants(w, *tenants-1, *users, *plain)
	w.Graph().SetQuotaScale(*quota)
	if *background > 0 {
		for _, tn := range append([]*graphtest.Tenant{w.Tenant()}, extra...) {
			w.Graph().SetBackgroundWrites(tn.ID, *background)
			w.Graph().SpendTenantWrites(tn.ID)
		}
	}

	fmt.Fprintf(stdout, "# closebot emulators: Slack at %s, Graph and Entra login at %s\n", w.Slack().URL(), w.Graph().URL())
	fmt.Fprintf(stdout, "# tenant %s (%s), %d users; clock: epoch %s, time-scale %g\n",
		w.Tenant().Domain, w.Tenant().ID, o.Users, w.Epoch().UTC().Format(time.RFC3339Nano), o.Scale)
	for _, tn := range extra {
		fmt.Fprintf(stdout, "# tenant %s (%s), %d users\n", tn.Domain, tn.ID, o.Users)
	}
	if *quota != 1 || *background > 0 {
		fmt.Fprintf(stdout, "# throttling: quota scale %g (test knob), background writes %g/s per tenant\n", *quota, *background)
	}
	fmt.Fprintf(stdout, "# request log and counters: %s/emulator/stats and %s/emulator/stats\n", w.Slack().URL(), w.Graph().URL())
	fmt.Fprintln(stdout, "# environment for closebot:")
	for _, kv := range w.Env() {
		fmt.Fprintln(stdout, "export "+shellQuoteKV(kv))
	}
	fmt.Fprintln(stdout, "# closebot.yaml:")
	cfg := w.ConfigYAML("closebot.db") + extraTenantsYAML(w, extra)
	fmt.Fprint(stdout, cfg)
	if *configOut != "" {
		if err := os.WriteFile(filepath.Clean(*configOut), []byte(cfg), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", *configOut, err)
		}
	}
	if o.Scale != 1 {
		fmt.Fprintf(stdout, "# run closebot on the same clock: closebot run --emulated-clock %s,%g\n",
			w.Epoch().UTC().Format(time.RFC3339Nano), o.Scale)
	}
	if *once {
		return nil
	}
	fmt.Fprintln(stdout, "# serving; Ctrl-C stops")
	<-ctx.Done()
	return nil
}

func shellQuoteKV(kv string) string {
	k, v, _ := strings.Cut(kv, "=")
	return k + "='" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}

// plainUsers makes every user one step 1 deletes without a gate: no
// directory sync, no synced users, nobody in a restricted admin unit.
func plainUsers(spec *graphtest.TenantSpec) {
	spec.SyncEnabled = false
	spec.Members += spec.Synced + spec.RestrictedAUMembers
	spec.Synced, spec.RestrictedAUMembers = 0, 0
}

// addTenants seeds n more tenants (contoso2, contoso3, …) under closebot's
// app registration and its one client secret, so their closures share the
// app's per-app quotas.
func addTenants(w *demo.World, n, users int, plain bool) []*graphtest.Tenant {
	var out []*graphtest.Tenant
	for i := 2; i <= n+1; i++ {
		spec := graphtest.DefaultTenantSpec(users)
		spec.Seed = uint64(i)
		spec.Domain, spec.Name = fmt.Sprintf("contoso%d", i), fmt.Sprintf("Contoso %d", i)
		spec.VerifiedDomains, spec.FederatedDomains = []string{fmt.Sprintf("contoso%d.com", i)}, nil
		spec.ClosebotAppID = w.Tenant().ClosebotAppID
		if plain {
			plainUsers(&spec)
		}
		tn := w.Graph().AddTenant(spec)
		w.Graph().RegisterClientSecret(tn.ID, tn.ClosebotAppID, w.Secret())
		out = append(out, tn)
	}
	return out
}

// extraTenantsYAML repeats the first tenant's entry of the configuration
// for each extra tenant: same app, secret and people, its own id, domain
// and kept admin.
func extraTenantsYAML(w *demo.World, extra []*graphtest.Tenant) string {
	if len(extra) == 0 {
		return ""
	}
	cfg := w.ConfigYAML("closebot.db")
	i := strings.Index(cfg, "  - id: ")
	first, keep := cfg[i:], w.Tenant().KeptAdmin().UPN
	var b strings.Builder
	for _, tn := range extra {
		r := strings.NewReplacer("id: "+w.Tenant().ID, "id: "+tn.ID, "domain: "+w.Tenant().Domain, "domain: "+tn.Domain, "keep: "+keep, "keep: "+tn.KeptAdmin().UPN)
		b.WriteString(r.Replace(first))
	}
	return b.String()
}
