package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/closebot/closebot/bot"
	"github.com/closebot/closebot/bot/blocks"
	"github.com/closebot/closebot/bot/outbound"
	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/msgraph"
	closurerun "github.com/closebot/closebot/closure/run"
	"github.com/closebot/closebot/config"
)

// errPreflightRefused makes `closebot plan` exit 1 after printing a plan
// whose preflight failed.
var errPreflightRefused = errors.New("preflight refused the tenant (see above)")

// runPlan is `closebot plan --tenant <domain>`: read the tenant through
// Graph (read-only), run preflight and print the full plan in the words
// Slack uses. It opens no database and no socket, so it runs beside a
// running closebot.
func runPlan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (default $CLOSEBOT_CONFIG, else closebot.yaml)")
	tenant := fs.String("tenant", "", "the tenant's initial domain (or id), as configured")
	asJSON := fs.Bool("json", false, "print JSON (preflight, summary, plan, text) for scripts")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *tenant == "" && fs.NArg() == 1 {
		*tenant = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *tenant == "" {
		return errors.New("--tenant <domain> is required")
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	log := slog.New(newLogHandler(stderr, false, slog.LevelWarn, configSecrets(cfg), nil))
	return showPlan(ctx, cfg, wiring{Log: log}, *tenant, *asJSON, stdout)
}

// planReport is `closebot plan --json`.
type planReport struct {
	Tenant    string              `json:"tenant"`
	TenantID  string              `json:"tenant_id"`
	Preflight planPreflight       `json:"preflight"`
	Summary   closure.PlanSummary `json:"summary"`
	Plan      *closure.Plan       `json:"plan"`
	Text      string              `json:"text"`
}

type planPreflight struct {
	OK    bool                    `json:"ok"`
	Items []closure.PreflightItem `json:"items"`
}

// showPlan reads the tenant, builds its plan and prints it; a failed
// preflight prints everything, then returns errPreflightRefused.
func showPlan(ctx context.Context, cfg *config.Config, w wiring, tenant string, asJSON bool, out io.Writer) error {
	policy := cfg.Policy()
	t, ok := policy.Tenant(tenant)
	if !ok {
		var known []string
		for _, c := range cfg.Tenants {
			known = append(known, c.Domain)
		}
		return fmt.Errorf("tenant %q is not in the configuration (configured: %s)", tenant, strings.Join(known, ", "))
	}
	ct, _ := cfg.Tenant(t.ID)
	log := w.Log
	if log == nil {
		log = slog.Default()
	}
	dir, err := msgraph.New(ctx, graphConfig(cfg, ct, w.Transport, log.With("tenant", ct.Domain)))
	if err != nil {
		return fmt.Errorf("tenant %s: %w", ct.Domain, err)
	}
	now := time.Now()
	if w.Clock != nil {
		now = w.Clock.Now()
	}
	in, err := closurerun.ReadTenant(ctx, dir, t, nil)
	if err != nil {
		// A missing permission is named as Slack names it.
		if words := closure.GrantWords(err); words != "" {
			return fmt.Errorf("%s (%w)", words, err)
		}
		return err
	}
	plan, items := closure.BuildPlan(t, in, now)
	text := planText(t.Domain, plan, items)
	if asJSON {
		if items == nil {
			items = []closure.PreflightItem{}
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		err = enc.Encode(planReport{
			Tenant: t.Domain, TenantID: t.ID, Preflight: planPreflight{OK: len(items) == 0, Items: items},
			Summary: plan.Summary(), Plan: plan, Text: text,
		})
	} else {
		_, err = fmt.Fprintln(out, text)
	}
	if err != nil {
		return err
	}
	if len(items) > 0 {
		return errPreflightRefused
	}
	return nil
}

// planText is preflight, the plan's counts and the full plan, in the words
// of Slack's refusal, its `plan` answer and the request thread's full plan.
func planText(domain string, p *closure.Plan, items []closure.PreflightItem) string {
	var b strings.Builder
	if len(items) > 0 {
		b.WriteString(bot.PreflightText(&closure.PreflightError{TenantID: p.TenantID, Items: items}))
	} else {
		b.WriteString("Preflight: every check passes; a request for this tenant can be opened.")
	}
	b.WriteString("\n\n")
	b.WriteString(bot.PlanText(domain, p))
	b.WriteString("\n\nFull plan:")
	groups := outbound.PlanGroups(p)
	if len(groups) == 0 {
		b.WriteString(" the plan deletes nothing.")
	}
	for _, g := range groups {
		writeGroup(&b, g)
	}
	return b.String()
}

func writeGroup(b *strings.Builder, g blocks.ItemGroup) {
	fmt.Fprintf(b, "\n\n%s (%d)", g.Title, max(g.Total, len(g.Items)))
	for _, it := range g.Items {
		b.WriteString("\n• " + it)
	}
}
