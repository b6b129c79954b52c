package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/closebot/closebot/bot/blocks"
	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/store"
)

// Script is what Run needs of a world closebot is already running on. The
// caller launches closebot (this package does not know how it is
// assembled) and passes in the handles of the running product.
type Script struct {
	World *World
	Clock *Clock
	// DB is the running closebot's store: the people read the request's
	// state and message refs from it, as they would read Slack.
	DB *store.DB
	// Flush waits until everything closebot queued for Slack was sent.
	Flush func(context.Context) error
	// Out is where the channel, the thread, the DMs and the summary go.
	Out io.Writer
	// Started is when the demo started, for the wall time in the summary.
	Started time.Time
}

// Run is the demo's story: alice requests, bob approves, carol (the kept
// admin) signs in and acts at the gates, while the terminal shows the
// Slack channel, thread and DMs as they unfold; then a summary computed
// from the Graph emulator's request log and from Slack read back. It
// returns nil only if the tenant really was closed and every check passed.
func Run(ctx context.Context, s Script) error {
	w, stdout := s.World, s.Out
	fmt.Fprintf(stdout, "closebot demo: tenant %s (%d users), Slack channel #it-ops; alice requests, bob approves, carol is the kept admin.\n\n", w.tenant.Domain, w.opts.Users)
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

	h := NewHumans(w, s.DB, s.Clock, say)
	// Let the bot connect before alice types.
	id, err := h.Open(ctx, "Company dissolved, ticket OPS-1234")
	if err == nil {
		err = h.Play(ctx)
	}
	if err == nil {
		// Let everything closebot queued reach Slack (the thread moves at
		// Slack's one message a second per channel), the summary included.
		flushCtx, cancelFlush := context.WithTimeout(ctx, 60*time.Second)
		err = s.Flush(flushCtx)
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
	req, err := s.DB.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("read %s: %w", id, err)
	}
	res, err := s.DB.Verify(ctx, id)
	if err != nil {
		return fmt.Errorf("verify %s: %w", id, err)
	}
	events, err := s.DB.Events(ctx, id)
	if err != nil {
		return fmt.Errorf("read %s's events: %w", id, err)
	}
	card, _, err := s.DB.Ref(ctx, id, "card")
	if err != nil {
		return fmt.Errorf("read %s's card: %w", id, err)
	}
	ok := printSummary(stdout, w, req.State == "closed", res.OK(), res.Events, time.Since(s.Started), s.Clock.Now().Sub(req.CreatedAt))
	ok = printSlackChecks(stdout, w, card.TS, events) && ok
	if !ok {
		return errors.New("the closure is not complete (see the summary)")
	}
	return nil
}

func (n *narrator) summaryPosted() bool {
	for _, m := range n.w.slack.Messages(Channel) {
		if m.ReplyBroadcast {
			return true
		}
	}
	return false
}

// printSummary checks the closure against the Graph emulator's own
// records, not closebot's word, and prints what it found.
func printSummary(out io.Writer, w *World, closed, chainOK bool, events int, wall, emulated time.Duration) bool {
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
func printSlackChecks(out io.Writer, w *World, cardTS string, events []closure.Event) bool {
	refused := w.RefusalsTo(Alice, Bob, Carol)
	order := ThreadOrderProblems(w.slack.Calls("chat.postMessage"), Channel, cardTS, events)
	fmt.Fprintf(out, "  refusals shown to alice, bob or carol: %d\n", len(refused))
	for _, r := range refused {
		fmt.Fprintf(out, "    %s\n", r)
	}
	fmt.Fprintf(out, "  thread reads in audit order:          %v\n", len(order) == 0)
	for _, p := range order {
		fmt.Fprintf(out, "    %s\n", p)
	}
	bad := w.BlockKitRefusals()
	fmt.Fprintf(out, "  messages Slack refused as invalid:    %d\n", len(bad))
	for _, b := range bad {
		fmt.Fprintf(out, "    %s\n", b)
	}
	return len(refused) == 0 && len(order) == 0 && len(bad) == 0
}

// BlockKitRefusals are the messages and views the Slack emulator refused
// against Block Kit's reference (a required field missing, a limit passed).
func (w *World) BlockKitRefusals() []string {
	var out []string
	for _, r := range w.slack.Refusals() {
		switch r.Error {
		case "invalid_blocks", "invalid_arguments", "view_too_large", "msg_too_long", "invalid_blocks_format":
			out = append(out, r.Method+": "+r.Error+" "+r.Detail)
		}
	}
	return out
}

// RefusalsTo lists the refusals (ephemeral or DM) closebot showed the users.
func (w *World) RefusalsTo(users ...string) []string {
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
func tenantGone(w *World) (bool, string) {
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
