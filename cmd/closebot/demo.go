package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/closebot/closebot/bot"
	"github.com/closebot/closebot/bot/blocks"
	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/config"
)

// runDemo is `closebot demo`: both emulators in-process, a seeded tenant,
// closebot itself, and the people of a closure played by a script — alice
// requests, bob approves, carol (the kept admin) signs in and acts at the
// gates. Emulated time runs scaled, and the long waits are fast-forwarded,
// so days pass in seconds. The terminal shows the Slack channel, thread and
// DMs as they unfold, then a summary computed from the Graph emulator's
// request log. It exits 0 only if the tenant really was closed.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	users := fs.Int("users", 60, "users in the emulated tenant, the kept admin included")
	scale := fs.Float64("time-scale", 60, "emulated seconds per wall second")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long (wall time)")
	verbose := fs.Bool("v", false, "show closebot's own logs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	started := time.Now()

	clock := newDemoClock(time.Now().UTC(), *scale)
	defer clock.Close()
	w, err := startWorld(worldOptions{Users: *users, Scale: *scale, Clock: clock})
	if err != nil {
		return err
	}
	defer w.close()
	level := slog.LevelError
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	p, stopBot, err := launch(ctx, w, clock, log, nil)
	if err != nil {
		return err
	}
	defer stopBot()

	fmt.Fprintf(stdout, "closebot demo: tenant %s (%d users), Slack channel #it-ops; alice requests, bob approves, carol is the kept admin.\n\n", w.tenant.Domain, *users)
	var mu sync.Mutex // one writer on stdout: the narrator and the humans
	n := &narrator{w: w, out: stdout}
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		n.poll()
		fmt.Fprintf(stdout, "▶ %s\n", fmt.Sprintf(format, args...))
	}
	narrating, stopNarrating := context.WithCancel(ctx)
	go func() {
		for narrating.Err() == nil {
			mu.Lock()
			n.poll()
			mu.Unlock()
			time.Sleep(100 * time.Millisecond)
		}
	}()

	h := &humans{w: w, db: p.db, clock: clock, say: say}
	// Let the bot connect before alice types.
	id, err := h.open(ctx, "Company dissolved, ticket OPS-1234")
	if err == nil {
		err = h.play(ctx)
	}
	if err == nil {
		// Let everything closebot queued reach Slack (the thread moves at
		// Slack's one message a second per channel), the summary included.
		flushCtx, cancelFlush := context.WithTimeout(ctx, 60*time.Second)
		err = p.reporter.Flush(flushCtx)
		cancelFlush()
		if err == nil && !n.summaryPosted() {
			err = errors.New("closebot posted no closing summary")
		}
	}
	mu.Lock()
	n.poll()
	mu.Unlock()
	stopNarrating()
	if err != nil {
		return fmt.Errorf("demo stopped: %w", err)
	}
	req, err := p.db.Get(ctx, id)
	if err != nil {
		return err
	}
	res, err := p.db.Verify(ctx, id)
	if err != nil {
		return err
	}
	events, err := p.db.Events(ctx, id)
	if err != nil {
		return err
	}
	card, _, err := p.db.Ref(ctx, id, "card")
	if err != nil {
		return err
	}
	ok := printDemoSummary(stdout, w, req.State == "closed", res.OK(), res.Events, time.Since(started), clock.Now().Sub(req.CreatedAt))
	ok = printSlackChecks(stdout, w, card.TS, events) && ok
	if !ok {
		return errors.New("the closure is not complete (see the summary)")
	}
	return nil
}

// launch starts closebot on the emulated world, as `closebot run` would
// with the world's closebot.yaml and environment, and waits until it is
// connected to Slack. stop ends it and returns its error.
func launch(ctx context.Context, w *world, clock *demoClock, log *slog.Logger, botOpts func(*bot.Config)) (*product, func() error, error) {
	cfg, err := w.loadConfig(filepath.Join(w.dir, "closebot.db"))
	if err != nil {
		return nil, nil, err
	}
	p, err := assemble(ctx, cfg, wiring{Transport: w.graph.Client().Transport, Clock: clock, After: clock.After, Log: log, BotOptions: botOpts})
	if err != nil {
		return nil, nil, err
	}
	botCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.run(botCtx) }()
	stop := func() error { cancel(); return <-done }
	if err := w.slack.WaitConnections(1, 10*time.Second); err != nil {
		cancel()
		return nil, nil, fmt.Errorf("closebot did not connect to Slack: %w (%v)", err, <-done)
	}
	return p, stop, nil
}

// loadConfig writes the emulated world's closebot.yaml and loads it as
// `closebot run` would, with the world's environment.
func (w *world) loadConfig(storePath string) (*config.Config, error) {
	path := filepath.Join(w.dir, "closebot.yaml")
	if err := os.WriteFile(path, []byte(w.configYAML(storePath)), 0o600); err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, kv := range w.env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return config.Load(path, func(k string) string { return env[k] })
}

func (n *narrator) summaryPosted() bool {
	for _, m := range n.w.slack.Messages(worldChannel) {
		if m.ReplyBroadcast {
			return true
		}
	}
	return false
}

// printDemoSummary checks the closure against the Graph emulator's own
// records, not closebot's word, and prints what it found.
func printDemoSummary(out io.Writer, w *world, closed, chainOK bool, events int, wall, emulated time.Duration) bool {
	deleted, writesToPolicies := 0, 0
	for _, r := range w.graph.Requests() {
		if r.Kind != "graph" {
			continue
		}
		path := strings.ToLower(r.Path)
		if r.Method == http.MethodDelete && strings.HasPrefix(path, "/v1.0/users/") && r.Status == http.StatusNoContent {
			deleted++
		}
		if r.Method != http.MethodGet && (strings.Contains(path, "identitysecuritydefaultsenforcementpolicy") || strings.Contains(path, "conditionalaccess")) {
			writesToPolicies++
		}
	}
	remaining := 0
	for _, u := range w.tenant.Users() {
		if !u.Deleted && !strings.EqualFold(u.UPN, w.tenant.KeptAdmin().UPN) {
			remaining++
		}
	}
	gone, discovery := tenantGone(w)
	fmt.Fprintf(out, "\nSummary, from the Graph emulator's request log:\n")
	fmt.Fprintf(out, "  users deleted by closebot:            %d (users left besides the kept admin: %d)\n", deleted, remaining)
	fmt.Fprintf(out, "  writes to security defaults or CA:    %d\n", writesToPolicies)
	fmt.Fprintf(out, "  tenant discovery:                     %s\n", discovery)
	fmt.Fprintf(out, "  request closed: %v; audit chain of %d events verifies: %v\n", closed, events, chainOK)
	fmt.Fprintf(out, "  %s of emulated time in %s\n", emulated.Round(time.Minute), wall.Round(100*time.Millisecond))
	return closed && chainOK && remaining == 0 && deleted > 0 && writesToPolicies == 0 && gone
}

// printSlackChecks reads Slack back as the demo's people saw it: no button
// they pressed was refused, and the request's thread reads in audit order.
func printSlackChecks(out io.Writer, w *world, cardTS string, events []closure.Event) bool {
	refused := refusalsTo(w, worldAlice, worldBob, worldCarol)
	order := threadOrderProblems(w.slack.Calls("chat.postMessage"), worldChannel, cardTS, events)
	fmt.Fprintf(out, "  refusals shown to alice, bob or carol: %d\n", len(refused))
	for _, r := range refused {
		fmt.Fprintf(out, "    %s\n", r)
	}
	fmt.Fprintf(out, "  thread reads in audit order:          %v\n", len(order) == 0)
	for _, p := range order {
		fmt.Fprintf(out, "    %s\n", p)
	}
	bad := blockKitRefusals(w)
	fmt.Fprintf(out, "  messages Slack refused as invalid:    %d\n", len(bad))
	for _, b := range bad {
		fmt.Fprintf(out, "    %s\n", b)
	}
	return len(refused) == 0 && len(order) == 0 && len(bad) == 0
}

// blockKitRefusals are the messages and views the Slack emulator refused
// against Block Kit's reference (a required field missing, a limit passed).
func blockKitRefusals(w *world) []string {
	var out []string
	for _, r := range w.slack.Refusals() {
		switch r.Error {
		case "invalid_blocks", "invalid_arguments", "view_too_large", "msg_too_long", "invalid_blocks_format":
			out = append(out, r.Method+": "+r.Error+" "+r.Detail)
		}
	}
	return out
}

// refusalsTo lists the refusals (ephemeral or DM) closebot showed the users.
func refusalsTo(w *world, users ...string) []string {
	var out []string
	for _, u := range users {
		for _, m := range w.slack.Ephemerals(u) {
			if strings.Contains(string(m.Blocks), `"block_id":"`+blocks.BlockRefusal+`"`) {
				out = append(out, u+": "+m.Text)
			}
		}
		for _, m := range w.slack.DMs(u) {
			if strings.Contains(string(m.Blocks), `"block_id":"`+blocks.BlockRefusal+`"`) {
				out = append(out, u+": "+m.Text)
			}
		}
	}
	return out
}

// tenantGone asks the authority's discovery for the tenant, as Entra would
// be asked after a real deletion.
func tenantGone(w *world) (bool, string) {
	resp, err := w.graph.Client().Get(w.graph.AuthorityHost() + w.tenant.ID + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	gone := resp.StatusCode == http.StatusBadRequest && strings.Contains(string(body), "AADSTS90002")
	if gone {
		return true, fmt.Sprintf("%d invalid_tenant AADSTS90002 (tenant not found)", resp.StatusCode)
	}
	return false, fmt.Sprintf("%d (the tenant still exists)", resp.StatusCode)
}
