package main

// Issue 14 items 3 and 5: a whole closure under the faults a real tenant and
// workspace throw at it, judged on the emulators' own records; then every
// secret the run used is looked for in the logs, in everything Slack was
// sent and in the raw database file.

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/closebot/closebot/bot/slacktest"
	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/graphtest"
	"github.com/closebot/closebot/internal/demo"
	"github.com/closebot/closebot/store"
)

// longRun reports whether CLOSEBOT_LONG asks for the long versions of the
// fault and gate tests (a bigger tenant, more days).
func longRun() bool { return os.Getenv("CLOSEBOT_LONG") != "" }

// injectFaults turns on the faults. Graph: 10 % of writes 429 with
// Retry-After, 2 % 503, 1 % of all calls dropped, and other apps writing
// into the tenant so closebot runs against what is left of the tenant's
// write quota. Slack: a disconnect every 10 s and 429s on chat.update and
// chat.postMessage.
func injectFaults(w *demo.World) {
	g := w.Graph()
	// Faults are tried in order: each later rate applies to what the
	// earlier ones let through, close enough to the percentages.
	g.InjectFault(graphtest.Fault{Writes: true, Rate: 0.10, Status: http.StatusTooManyRequests, RetryAfter: "2"})
	g.InjectFault(graphtest.Fault{Writes: true, Rate: 0.02, Status: http.StatusServiceUnavailable, RetryAfter: "1"})
	g.InjectFault(graphtest.Fault{Rate: 0.01, Drop: true})
	s := w.Slack()
	s.DisconnectEvery(10 * time.Second)
	s.SetRateLimitFaults("chat.update", 0.10, 1)
	s.SetRateLimitFaults("chat.postMessage", 0.10, 1)
}

func TestE2EClosureCompletesUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("a whole closure under faults")
	}
	// Other apps leave closebot's writes net tokens a second of the tenant's
	// write quota once step 1 starts.
	users, timeout, net := 20, 4*time.Minute, 0.5
	if longRun() {
		users, timeout, net = 500, 20*time.Minute, 5
	}
	// Emulated time runs at wall speed while closebot works, so the Graph
	// throttler's Retry-After (emulated seconds) and closebot's waits (wall
	// seconds, until the pacer) mean the same; the long waits are still
	// fast-forwarded.
	ctx, clock, w := faultWorld(t, timeout, users, 1)
	injectFaults(w)
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p, stop := startClosebot(ctx, t, w, clock, log)
	h := demo.NewHumans(w, p.db, clock, func(string, ...any) {})
	id, err := h.Open(ctx, "Company dissolved, ticket OPS-14")
	if err != nil {
		t.Fatal(err)
	}
	card := waitCard(ctx, t, w, p.db, id)
	cards := []string{card.TS}

	// bob approves and carol proves her sign-in; the abort window opens.
	if err := h.Approve(ctx, p.get(t, id)); err != nil {
		t.Fatal(err)
	}
	if err := w.Slack().WaitFor(time.Minute, func() bool { acted, _ := h.SignIn(ctx); return acted }); err != nil {
		t.Fatal("no sign-in code for carol")
	}
	if err := w.Slack().WaitFor(time.Minute, func() bool { return p.get(t, id).State == closure.StateWaitingWindow }); err != nil {
		t.Fatalf("no abort window: %s", p.get(t, id).State)
	}
	// Someone deletes the card: its next edit finds message_not_found and
	// closebot posts it again.
	if err := w.Slack().DeleteMessage(card.Channel, card.TS); err != nil {
		t.Fatal(err)
	}
	clock.FastForward(p.get(t, id).WindowEndsAt.Sub(clock.Now()) + time.Second)
	// When step 1 starts deleting users, other apps use up the tenant's
	// all-apps write quota (18,000 per 5 min) and keep writing just under
	// its refill: closebot's deletes get net tokens a second.
	go func() {
		for ctx.Err() == nil {
			for _, r := range w.Graph().Requests() {
				if r.Method == http.MethodDelete && strings.Contains(r.Path, "/users/") {
					tenant := w.Tenant().ID
					w.Graph().SetBackgroundWrites(tenant, 1e6)
					time.Sleep(20 * time.Millisecond)
					w.Graph().SetBackgroundWrites(tenant, 60-net)
					return
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	if err := h.Play(ctx); err != nil {
		t.Fatalf("the closure did not complete under faults: %v", err)
	}
	if err := p.reporter.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	events, err := p.db.Events(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if now := waitCard(ctx, t, w, p.db, id); now.TS != card.TS {
		cards = append(cards, now.TS)
	} else if m, _ := w.Slack().Message(card.Channel, card.TS); m.Deleted {
		t.Errorf("the deleted card was never posted again")
	}
	req, err := p.db.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	stop()

	reqs := w.Graph().Requests()
	st := w.Graph().Stats()
	t.Logf("%d users; Graph: %d requests, %d answered 429 (%d by the throttler), %d injected faults; Slack: %d disconnects, %d connections, %d rate-limited calls",
		users, st.Requests, st.TooMany, st.Throttled, st.Faults, w.Slack().Disconnects(), w.Slack().ConnectionsOpened(), rateLimited(w.Slack()))
	if st.Faults == 0 || st.TooMany == 0 || st.Throttled == 0 || w.Slack().Disconnects() == 0 || rateLimited(w.Slack()) == 0 {
		t.Errorf("the faults did not strike: %+v", st)
	}
	oneDeletePerUser(t, w, reqs, req.Plan.UsersToDelete)
	for _, p := range retryAfterViolations(reqs) {
		t.Errorf("Graph: %s", p)
	}
	for _, p := range slackRetryAfterViolations(w.Slack().Calls("")) {
		t.Errorf("Slack: %s", p)
	}
	for _, a := range w.Slack().Acks() {
		if a.Kind != slacktest.AckOnTime && a.Kind != slacktest.AckDuplicate || a.Latency > 3*time.Second {
			t.Errorf("envelope %s: ack %s after %s", a.EnvelopeID, a.Kind, a.Latency)
		}
	}
	calls := w.Slack().Calls("chat.postMessage")
	for _, ts := range cards {
		if p := demo.ThreadOrderProblems(calls, card.Channel, ts, events); len(p) > 0 {
			t.Errorf("thread of card %s out of audit order: %v", ts, p)
		}
	}
	for _, p := range demo.ThreadGaps(calls, card.Channel, cards, events) {
		t.Errorf("thread incomplete: %s", p)
	}

	// Item 5: no secret of the run anywhere closebot writes.
	secrets := runSecrets(t, w)
	db, err := os.ReadFile(filepath.Join(w.Dir(), "closebot.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, where := range []struct {
		name string
		data []byte
	}{{"the log", []byte(logs.String())}, {"Slack", slackSent(w.Slack())}, {"the database", db}} {
		if len(where.data) == 0 {
			t.Errorf("%s is empty: nothing was checked", where.name)
		}
		for name, s := range secrets {
			if bytes.Contains(where.data, []byte(s)) {
				t.Errorf("%s contains %s", where.name, name)
			}
		}
	}
}

// faultWorld is restartWorld with the clock at scale.
func faultWorld(t *testing.T, timeout time.Duration, users int, scale float64) (context.Context, *demo.Clock, *demo.World) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	clock := demo.NewClock(time.Now().UTC(), scale)
	t.Cleanup(clock.Close)
	w, err := demo.StartWorld(demo.Options{Users: users, Scale: scale, Clock: clock,
		Spec: func(s *graphtest.TenantSpec) { s.RestrictedAUMembers = 0 }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	t.Cleanup(func() { noBlockKitRefusals(t, w) })
	return ctx, clock, w
}

// waitCard waits for the request's card ref.
func waitCard(ctx context.Context, t *testing.T, w *demo.World, db *store.DB, id string) store.Ref {
	t.Helper()
	var ref store.Ref
	if err := w.Slack().WaitFor(30*time.Second, func() bool {
		r, ok, err := db.Ref(ctx, id, "card")
		ref = r
		return err == nil && ok
	}); err != nil {
		t.Fatalf("no card for %s", id)
	}
	return ref
}

func (p *product) get(t *testing.T, id string) *closure.Request {
	t.Helper()
	r, err := p.db.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func rateLimited(s *slacktest.Server) int {
	n := 0
	for _, c := range s.Calls("") {
		if c.Status == http.StatusTooManyRequests {
			n++
		}
	}
	return n
}

// oneDeletePerUser: each user the plan deletes was deleted by exactly one
// successful DELETE, whatever was retried, and the kept admin by none.
func oneDeletePerUser(t *testing.T, w *demo.World, reqs []graphtest.Request, planned int) {
	t.Helper()
	ok := map[string]int{}
	for _, r := range reqs {
		if r.Kind != "graph" || r.Method != http.MethodDelete || r.Status != http.StatusNoContent {
			continue
		}
		if rest, found := strings.CutPrefix(graphPath(r.Path), "/users/"); found && !strings.Contains(rest, "/") {
			ok[strings.ToLower(rest)]++
		}
	}
	keep := w.Tenant().KeptAdmin()
	for id, n := range ok {
		if id == strings.ToLower(keep.ID) || id == strings.ToLower(keep.UPN) {
			t.Errorf("the kept admin was deleted")
		}
		if n != 1 {
			t.Errorf("user %s: %d successful DELETEs, want 1", id, n)
		}
	}
	if len(ok) != planned {
		t.Errorf("%d users deleted, the plan said %d", len(ok), planned)
	}
}

// graphPath drops the /v1.0 or /beta prefix.
func graphPath(p string) string {
	for _, v := range []string{"/v1.0", "/beta"} {
		if rest, ok := strings.CutPrefix(p, v); ok {
			return rest
		}
	}
	return p
}

// retryAfterViolations lists every Graph request that arrived sooner than
// a Retry-After, answered before it to the same call (same method, path and
// query, same app and tenant), told the client to wait, on the emulator's
// clock. A request already on its way when the 429 was answered is not one.
func retryAfterViolations(reqs []graphtest.Request) []string {
	type key struct{ method, path, app, tenant string }
	type hold struct{ answered, until time.Time }
	holds := map[key][]hold{}
	var out []string
	for _, r := range reqs { // in arrival order
		if r.Kind != "graph" {
			continue
		}
		k := key{r.Method, graphPath(r.Path) + "?" + r.RawQuery, strings.ToLower(r.AppID), strings.ToLower(r.TenantID)}
		for _, h := range holds[k] {
			if h.answered.Before(r.Time) && r.Time.Before(h.until) {
				out = append(out, fmt.Sprintf("%s %s at %s, %s before the Retry-After ended", r.Method, r.Path, r.Time.Format(time.RFC3339Nano), h.until.Sub(r.Time)))
			}
		}
		if secs, err := strconv.ParseFloat(r.RetryAfter, 64); err == nil && r.RetryAfter != "" {
			holds[k] = append(holds[k], hold{r.Answered, r.Answered.Add(time.Duration(secs * float64(time.Second)))})
		}
	}
	return out
}

// slackRetryAfterViolations is retryAfterViolations for Slack's Web API,
// in real time: no call of a method (to the same channel, for
// chat.postMessage, whose limit is per channel) arrived after a 429 for it
// was answered and before its Retry-After ended.
func slackRetryAfterViolations(calls []slacktest.Call) []string {
	type hold struct{ answered, until time.Time }
	holds := map[string][]hold{}
	var out []string
	for _, c := range calls {
		k := c.Method
		if c.Method == "chat.postMessage" {
			k += " " + c.Params.Get("channel")
		}
		for _, h := range holds[k] {
			if h.answered.Before(c.Time) && c.Time.Before(h.until) {
				out = append(out, fmt.Sprintf("%s (thread %q) at %s, %s before its Retry-After ended", k, c.Params.Get("thread_ts"), c.Time.Format(time.StampMilli), h.until.Sub(c.Time)))
			}
		}
		if c.Status == http.StatusTooManyRequests {
			holds[k] = append(holds[k], hold{c.Answered, c.Answered.Add(time.Duration(c.RetryAfter) * time.Second)})
		}
	}
	return out
}

// runSecrets is every credential of the run, by name.
func runSecrets(t *testing.T, w *demo.World) map[string]string {
	t.Helper()
	key, err := os.ReadFile(w.KeyFile())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{
		"the client secret":    w.Secret(),
		"the Slack app token":  w.Slack().Options().AppToken,
		"the Slack bot token":  w.Slack().Options().BotToken,
		"the audit key":        strings.TrimSpace(string(key)),
		"the audit key's head": strings.TrimSpace(string(key))[:16],
	}
	issued := w.Graph().IssuedSecrets()
	if len(issued) == 0 {
		t.Errorf("the authority issued no token: nothing to look for")
	}
	for i, s := range issued {
		out["issued credential "+strconv.Itoa(i)] = s
		if parts := strings.Split(s, "."); len(parts) == 3 {
			out["issued token "+strconv.Itoa(i)+"'s signature"] = parts[2]
		}
	}
	return out
}

// slackSent is everything closebot sent Slack beside the token that
// authenticates each call: every message, edit, ephemeral, view and ack
// payload.
func slackSent(s *slacktest.Server) []byte {
	var b bytes.Buffer
	for _, c := range s.Calls("") {
		params := c.Params
		if params.Has("token") {
			params = cloneWithout(params, "token")
		}
		b.WriteString(c.Method + " " + params.Encode() + " ")
		b.Write(c.JSON)
		b.WriteByte('\n')
	}
	for _, a := range s.Acks() {
		b.Write(a.Payload)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func cloneWithout(v url.Values, drop string) url.Values {
	out := url.Values{}
	for k, vals := range v {
		if k != drop {
			out[k] = vals
		}
	}
	return out
}
