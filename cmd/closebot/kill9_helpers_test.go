package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/closebot/closebot/bot/slacktest"
	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/graphtest"
	"github.com/closebot/closebot/internal/demo"
)

// The SIGKILL tests (issue 14 item 1) run the real `closebot run` binary
// as a child process against the emulators, which stay in the test
// process, and kill it with SIGKILL at a crash point.

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// closebotBinary builds ./cmd/closebot once per test binary (no -race: the
// child is the product as shipped).
func closebotBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "closebot-kill9-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "closebot")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// child is one closebot process after another on the same database.
type child struct {
	t      *testing.T
	w      *demo.World
	bin    string
	config string
	clock  string // --emulated-clock
	db     string

	mu    sync.Mutex
	cmd   *exec.Cmd
	done  chan struct{}
	logs  []string    // one log file per incarnation
	kills []time.Time // wall time of each SIGKILL
	// started is when the last incarnation's process started: a write
	// that arrives later is its own (a killed process's last requests may
	// reach the emulator just after it died).
	started time.Time
}

// start runs a new closebot process and waits until it is connected to Slack.
func (c *child) start() {
	c.t.Helper()
	c.mu.Lock()
	logPath := filepath.Join(c.w.Dir(), fmt.Sprintf("closebot.%d.log", len(c.logs)+1))
	f, err := os.Create(logPath)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(c.bin, "run", "--config", c.config, "--emulated-clock", c.clock)
	cmd.Env = append(os.Environ(), c.w.Env()...)
	cmd.Stdout, cmd.Stderr = f, f
	dieWithParent(cmd)
	opened := c.w.Slack().ConnectionsOpened()
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.started = time.Now()
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); _ = f.Close(); close(done) }()
	c.cmd, c.done = cmd, done
	c.logs = append(c.logs, logPath)
	c.mu.Unlock()
	// The lock is not held here: a crash point may kill this process
	// while it connects.
	if err := c.w.Slack().WaitFor(30*time.Second, func() bool { return c.w.Slack().ConnectionsOpened() > opened && c.w.Slack().Connections() > 0 }); err != nil {
		b, _ := os.ReadFile(logPath)
		c.t.Fatalf("closebot (incarnation %d) did not connect to Slack: %v\n%s", len(c.logs), err, b)
	}
}

// kill sends SIGKILL and waits for the process to be gone; it may run on
// an emulator's request goroutine (a write in flight).
func (c *child) kill() {
	c.mu.Lock()
	cmd, done := c.cmd, c.done
	c.kills = append(c.kills, time.Now())
	c.mu.Unlock()
	_ = cmd.Process.Kill()
	<-done
}

// stop ends the last incarnation gracefully (SIGTERM).
func (c *child) stop() {
	c.mu.Lock()
	cmd, done := c.cmd, c.done
	c.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func (c *child) log(i int) string {
	b, _ := os.ReadFile(c.logs[i])
	return string(b)
}

// childClock is the people's clock: a fast-forward moves the child
// closebot's clock first (through the skip file, waiting for its ack, also
// across a restart), then the emulators'.
type childClock struct {
	c    *demo.Clock
	skip string
}

func (k childClock) Now() time.Time { return k.c.Now() }

func (k childClock) FastForward(d time.Duration) {
	total := k.c.Skipped() + d
	if err := demo.WriteSkip(k.skip, total); err != nil {
		panic(err)
	}
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if got, err := demo.ReadSkip(k.skip + ".ack"); err == nil && got >= total {
			break
		}
	}
	k.c.FastForward(d)
}

// trigger decides when to kill: onGraph sees each Graph or authority
// request as it arrives (a write in flight), onSlack each Slack call once
// Slack acted on it and before closebot has the answer, poll is asked every few
// milliseconds with the latest audit events (nil before the request
// exists) and reads the emulators itself.
type trigger struct {
	onGraph func(q graphtest.Request) bool
	onSlack func(c slacktest.Call) bool
	poll    func(w *demo.World, events []closure.Event) bool
}

// crashPoint is a named moment of a closure to SIGKILL closebot at.
type crashPoint struct {
	name string
	make func(users int) trigger // a fresh trigger per run
}

func graphCount(match func(q graphtest.Request) bool, n int) func(int) trigger {
	return func(int) trigger {
		seen := 0
		var mu sync.Mutex
		return trigger{onGraph: func(q graphtest.Request) bool {
			if !match(q) {
				return false
			}
			mu.Lock()
			defer mu.Unlock()
			seen++
			return seen == n
		}}
	}
}

// userDeletes counts step 1's DELETE /users calls; the n-th is given as a
// share of the tenant's users.
func userDeletes(share float64) func(int) trigger {
	return func(users int) trigger {
		n := max(1, int(share*float64(users)))
		return graphCount(isUserDelete, n)(users)
	}
}

func isUserDelete(q graphtest.Request) bool {
	return q.Kind == "graph" && q.Method == "DELETE" && strings.HasPrefix(strings.ToLower(q.Path), "/v1.0/users/")
}

func isAppDelete(q graphtest.Request) bool {
	p := strings.ToLower(q.Path)
	return q.Kind == "graph" && q.Method == "DELETE" && (strings.Contains(p, "/applications/") || strings.Contains(p, "/serviceprincipals/"))
}

// auditEvent fires once the n-th event matching action (and, if step is
// set, the step in its detail) is in the audit trail.
func auditEvent(action closure.EventAction, step string, n int) func(int) trigger {
	return func(int) trigger {
		return trigger{poll: func(_ *demo.World, evs []closure.Event) bool {
			seen := 0
			for _, ev := range evs {
				if ev.Action == action && (step == "" || ev.Detail["step"] == step) {
					seen++
				}
			}
			return seen >= n
		}}
	}
}

// slackPost fires when Slack has stored closebot's n-th call of method
// that match accepts, before closebot has the answer (for a post: its ts).
func slackPost(method string, n int, match func(c slacktest.Call) bool) func(int) trigger {
	return func(int) trigger {
		seen := 0
		var mu sync.Mutex
		return trigger{onSlack: func(c slacktest.Call) bool {
			if c.Method != method || c.Error != "" || (match != nil && !match(c)) {
				return false
			}
			mu.Lock()
			defer mu.Unlock()
			seen++
			return seen == n
		}}
	}
}

func isCard(c slacktest.Call) bool {
	return c.Params.Get("channel") == demo.Channel && c.Params.Get("thread_ts") == "" && strings.Contains(c.Params.Get("text"), "close tenant")
}

func isStepMessage(step string) func(c slacktest.Call) bool {
	return func(c slacktest.Call) bool {
		return c.Params.Get("channel") == demo.Channel && c.Params.Get("thread_ts") != "" && strings.Contains(c.Params.Get("blocks"), "*Step "+step+" of")
	}
}

// The twenty crash points, in the order a closure meets them.
var crashPoints = []crashPoint{
	{"preflight: first users page read", graphCount(func(q graphtest.Request) bool {
		return q.Kind == "graph" && q.Method == "GET" && strings.HasPrefix(strings.ToLower(q.Path), "/v1.0/users")
	}, 1)},
	{"preflight: card posted, its ts not yet recorded", slackPost("chat.postMessage", 1, isCard)},
	{"the modal: open, not yet submitted", slackPost("views.open", 1, nil)},
	{"approved: the approval recorded", auditEvent(closure.EvApprove, "", 1)},
	{"proof: device code issued", graphCount(func(q graphtest.Request) bool {
		return q.Kind == "authority" && strings.Contains(strings.ToLower(q.Path), "devicecode")
	}, 1)},
	{"the abort window: proof passed", auditEvent(closure.EvProofPassed, "", 1)},
	{"steps started, before the first write", auditEvent(closure.EvStepsStart, "", 1)},
	{"step 1: first user DELETE in flight", userDeletes(0)},
	{"step 1: DELETE at 10% in flight", userDeletes(0.10)},
	{"step 1: DELETE at 50% in flight", userDeletes(0.50)},
	{"step 1: DELETE at 95% in flight", userDeletes(0.95)},
	{"at a gate: first gate opened", auditEvent(closure.EvGateOpen, "", 1)},
	{"between steps: step 1 done", auditEvent(closure.EvStepDone, "1", 1)},
	{"at a gate: an attestation recorded", auditEvent(closure.EvAttest, "", 1)},
	{"between steps: step 2 done", auditEvent(closure.EvStepDone, "2", 1)},
	{"step 3's message posted, its ts not yet recorded", slackPost("chat.postMessage", 1, isStepMessage("3"))},
	{"between steps: step 3 done", auditEvent(closure.EvStepDone, "3", 1)},
	{"step 5: awaiting the point-of-no-return approval", auditEvent(closure.EvConfirmAwait, "", 1)},
	{"step 5: first deletion in flight", graphCount(isAppDelete, 1)},
	{"step 5: fourth deletion in flight", graphCount(isAppDelete, 4)},
}

// ciCrashPoints are the three CI runs: mid-step-1 with writes in flight,
// at a gate, during step 5's deletions.
var ciCrashPoints = []string{
	"step 1: DELETE at 50% in flight",
	"at a gate: first gate opened",
	"step 5: fourth deletion in flight",
}

func crashPointNamed(name string) crashPoint {
	for _, p := range crashPoints {
		if p.name == name {
			return p
		}
	}
	panic("no crash point " + strconv.Quote(name))
}

// waitCtx waits for f or ctx.
func waitCtx(ctx context.Context, every time.Duration, f func() bool) bool {
	for ctx.Err() == nil {
		if f() {
			return true
		}
		time.Sleep(every)
	}
	return false
}
