package outbound

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

func TestOutboundLostCardRepostedAndRefUpdated(t *testing.T) {
	h := newOutHarness(t, harnessOpt{fast: true})
	req := h.open("Company dissolved", "Contoso")
	h.flush()
	old := h.ref(req, RefCard)

	// Someone deleted the card: chat.update answers message_not_found.
	h.emu.InjectError("chat.update", 1, "message_not_found")
	req = h.change(req, uAlice, closure.EvCancel, func(r *closure.Request) { r.State = closure.StateCancelled })
	h.flush()
	card := h.ref(req, RefCard)
	assert.NotEqual(t, old.TS, card.TS, "card re-posted, ref updated")
	m, ok := h.emu.Message(chOps, card.TS)
	require.True(t, ok)
	assert.Contains(t, m.Text, "Cancelled")
	assert.Empty(t, m.ThreadTS)

	// The thread parent gone: the reply's post fails, the card is posted again and the reply goes under it.
	req2 := h.running()
	h.flush()
	first := h.ref(req2, RefCard)
	h.emu.InjectError("chat.postMessage", 1, "thread_not_found")
	req2 = h.change(req2, uBob, closure.EvPause, func(r *closure.Request) { r.State, r.PausedFrom = closure.StatePaused, closure.StateRunning })
	h.flush()
	second := h.ref(req2, RefCard)
	assert.NotEqual(t, first.TS, second.TS, "lost thread: card re-posted")
	thread := h.emu.Thread(chOps, second.TS)
	require.GreaterOrEqual(t, len(thread), 2)
	assert.Contains(t, thread[len(thread)-1].Text, "paused the closure")
}

func TestOutboundCoalescesBurstUnderRateLimits(t *testing.T) {
	h := newOutHarness(t, harnessOpt{}) // the emulator's real limits: chat.update 50/min
	req := h.running()
	h.flush()
	before := len(h.emu.Calls("chat.update"))
	for i := 1; i <= 200; i++ {
		req = h.progress(req, 1, func(s *closure.StepProgress) { s.Status, s.Done, s.Total = closure.StepRunning, i, 200 })
	}
	h.flush()
	updates := len(h.emu.Calls("chat.update")) - before
	t.Logf("%d chat.update calls for 200 progress reports (card and step)", updates)
	assert.Less(t, updates, 30, "200 reports (each a card change and a step change) coalesce into far fewer edits")
	steps := stepMessages(t, h, req)
	require.Len(t, steps[1], 1)
	assert.Contains(t, steps[1][0], "200 of 200 done", "the final state is shown")
	card, _ := h.emu.Message(chOps, h.ref(req, RefCard).TS)
	assert.Contains(t, card.Text, "Running")
	assert.Contains(t, string(card.Blocks), "version "+strconv.FormatUint(req.Version, 10), "the card shows the latest version")
	sent, dropped := h.rep.Outbox().Stats()
	assert.Zero(t, dropped)
	assert.NotZero(t, sent)
	for _, rf := range h.emu.Refusals() {
		assert.Equal(t, 429, rf.Status, "only rate limits were refused: %+v", rf)
	}
}

func TestOutboundRetryAfterHonoured(t *testing.T) {
	h := newOutHarness(t, harnessOpt{fast: true})
	req := h.open("Company dissolved", "Contoso")
	h.flush()
	h.emu.InjectRateLimit("chat.update", 1, 1)
	req = h.change(req, uAlice, closure.EvCancel, func(r *closure.Request) { r.State = closure.StateCancelled })
	h.flush()
	calls := h.emu.Calls("chat.update")
	require.Len(t, calls, 2, "refused once with 429, then retried")
	assert.Equal(t, 429, calls[0].Status)
	assert.GreaterOrEqual(t, calls[1].Time.Sub(calls[0].Time), time.Second, "Retry-After honoured")
	m, _ := h.emu.Message(chOps, h.ref(req, RefCard).TS)
	assert.Contains(t, m.Text, "Cancelled")
}

// fakeTimer is a manual clock for the outbox.
type fakeTimer struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func (f *fakeTimer) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }

func (f *fakeTimer) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan time.Time, 1)
	f.waiters = append(f.waiters, waiter{f.now.Add(d), ch})
	return ch
}

// pending is how many After channels have not fired: a test advances
// the clock only once the outbox waits on it, or the wait it computes
// afterwards starts from the advanced time and never fires.
func (f *fakeTimer) pending() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.waiters) }

func (f *fakeTimer) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	keep := f.waiters[:0]
	for _, w := range f.waiters {
		if !w.at.After(f.now) {
			w.ch <- f.now
		} else {
			keep = append(keep, w)
		}
	}
	f.waiters = keep
}

func TestOutboundOutboxPriorityCoalescingAndBudget(t *testing.T) {
	ft := &fakeTimer{now: outT0}
	o := NewOutbox(Budgets{Update: Budget{PerMinute: 60, Burst: 1}}, ft, slog.New(slog.DiscardHandler))
	var mu sync.Mutex
	var sent []string
	job := func(k string, p Priority, label string, m string) Job {
		return Job{Key: k, Priority: p,
			Route: func(context.Context) (string, string, error) { return m, "C1", nil },
			Send: func(context.Context) error {
				mu.Lock()
				defer mu.Unlock()
				sent = append(sent, label)
				return nil
			}}
	}
	o.Enqueue(job("step.1", PriorityProgress, "step v1", MethodUpdate))
	o.Enqueue(job("card", PriorityAction, "card", MethodUpdate))
	o.Enqueue(job("step.1", PriorityProgress, "step v2", MethodUpdate)) // replaces v1
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = o.Run(ctx) }()
	defer func() { cancel(); <-done }()

	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(sent) == 1 }, 2*time.Second, time.Millisecond)
	assert.Equal(t, 1, o.Len(), "the budget (1 burst) holds the progress edit")
	o.Enqueue(job("step.1", PriorityProgress, "step v3", MethodUpdate)) // latest state wins
	// The enqueue wakes the outbox, which may compute its budget wait just
	// before an advance and register it just after: advance until idle.
	idle := func() bool {
		select {
		case <-o.Idle():
			return true
		default:
			return false
		}
	}
	require.Eventually(t, func() bool { ft.Advance(time.Second); return idle() }, 5*time.Second, 10*time.Millisecond)
	mu.Lock()
	assert.Equal(t, []string{"card", "step v3"}, sent, "action first; progress coalesced to the latest")
	mu.Unlock()

	// A 429 holds the method for Retry-After and retries the job.
	var tries int
	o.Enqueue(Job{Key: "x", Priority: PriorityAction,
		Route: func(context.Context) (string, string, error) { return MethodPostMessage, "C1", nil },
		Send: func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			tries++
			if tries == 1 {
				return &slack.RateLimitedError{RetryAfter: 5 * time.Second}
			}
			return nil
		}})
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return tries == 1 }, 2*time.Second, time.Millisecond)
	require.Eventually(t, func() bool { return ft.pending() > 0 }, 2*time.Second, time.Millisecond)
	ft.Advance(4 * time.Second)
	time.Sleep(20 * time.Millisecond) // let a wrong early retry show
	mu.Lock()
	assert.Equal(t, 1, tries, "no retry before Retry-After")
	mu.Unlock()
	ft.Advance(time.Second)
	<-o.Idle()
	assert.Equal(t, 2, tries)

	// A permanent refusal is dropped, not retried.
	o.Enqueue(Job{Key: "bad", Priority: PriorityAction,
		Route: func(context.Context) (string, string, error) { return MethodPostMessage, "C1", nil },
		Send:  func(context.Context) error { return slack.SlackErrorResponse{Err: "invalid_blocks"} }})
	<-o.Idle()
	_, dropped := o.Stats()
	assert.Equal(t, 1, dropped)
}

// TestOutboundNewPostsKeepTheirOrder: new posts in one channel go out in
// the order they were first queued, whatever their priority; edits and
// other channels are not held behind them.
func TestOutboundNewPostsKeepTheirOrder(t *testing.T) {
	ft := &fakeTimer{now: outT0}
	o := NewOutbox(Budgets{}, ft, slog.New(slog.DiscardHandler))
	var mu sync.Mutex
	var sent []string
	job := func(k string, p Priority, m, ch string) Job {
		return Job{Key: k, Priority: p,
			Route: func(context.Context) (string, string, error) { return m, ch, nil },
			Send: func(context.Context) error {
				mu.Lock()
				defer mu.Unlock()
				sent = append(sent, k)
				return nil
			}}
	}
	o.Enqueue(job("step.1 first post", PriorityProgress, MethodPostMessage, "C1"))
	o.Enqueue(job("approved", PriorityAction, MethodPostMessage, "C1"))
	o.Enqueue(job("card edit", PriorityAction, MethodUpdate, "C1"))
	o.Enqueue(job("dm", PriorityAction, MethodPostMessage, "D1"))
	o.Enqueue(job("step.1 first post", PriorityProgress, MethodPostMessage, "C1")) // coalesced: keeps its place
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = o.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-o.Idle()
	mu.Lock()
	defer mu.Unlock()
	pos := map[string]int{}
	for i, k := range sent {
		pos[k] = i
	}
	require.Len(t, sent, 4)
	assert.Less(t, pos["step.1 first post"], pos["approved"], "new posts in C1 keep their first-queued order")
	assert.Less(t, pos["card edit"], pos["step.1 first post"], "an edit is not held behind a new post")
	assert.Less(t, pos["dm"], pos["step.1 first post"], "another channel is not held behind C1's posts")
}
