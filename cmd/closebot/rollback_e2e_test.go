package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/closebot/closebot/bot/blocks"
	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/graphtest"
	"github.com/closebot/closebot/internal/demo"
	"github.com/closebot/closebot/store"
)

// syncBuffer is a log sink closebot's goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Issue 11 item 6, end to end through both emulators: closebot's database
// file is replaced by an earlier copy of itself (last night's backup) after
// the request was aborted. The copy verifies on its own; the request in it
// is still proving, and would resume. closebot reads the request's thread
// back at start-up, sees the abort it posted there, and refuses to resume,
// saying why in the thread and the log.
func TestE2ERestoredDatabaseIsNotResumed(t *testing.T) {
	ctx, clock, w := restartWorld(t, 2*time.Minute, 20, func(s *graphtest.TenantSpec) { s.RestrictedAUMembers = 0 })
	dbPath := filepath.Join(w.Dir(), "closebot.db")
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	start := func(log *slog.Logger) (*product, func()) {
		t.Helper()
		return startClosebot(ctx, t, w, clock, log)
	}
	stateIs := func(p *product, id string, s closure.State) func() bool {
		return func() bool {
			req, err := p.db.Get(ctx, id)
			return err == nil && req.State == s
		}
	}

	// Run 1: alice asks, bob approves; the kept admin is sent a sign-in code.
	p, stop := start(quiet)
	h := demo.NewHumans(w, p.db, clock, func(string, ...any) {})
	id, err := h.Open(ctx, "Company dissolved")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Slack().WaitFor(10*time.Second, func() bool { _, ok, _ := p.db.Ref(ctx, id, "card"); return ok }); err != nil {
		t.Fatal("no card")
	}
	req, err := p.db.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Approve(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := w.Slack().WaitFor(10*time.Second, stateIs(p, id, closure.StateProving)); err != nil {
		t.Fatalf("not proving")
	}
	if err := w.Slack().WaitFor(10*time.Second, func() bool { return len(w.Slack().DMs(demo.Carol)) > 0 }); err != nil {
		t.Fatal("no sign-in code for carol")
	}
	stop()
	backup := dbPath + ".backup"
	copyTestFile(t, dbPath, backup)
	backupHead := lastEventOf(t, backup, w.KeyFile(), id)

	// Run 2: alice aborts. The abort is a new message in the thread.
	p, stop = start(quiet)
	h.SetDB(p.db)
	if err := h.Click(ctx, demo.Alice, "card", blocks.ActionAbort); err != nil {
		t.Fatal(err)
	}
	if err := w.Slack().WaitFor(10*time.Second, stateIs(p, id, closure.StateAborted)); err != nil {
		t.Fatal("not aborted")
	}
	evs, err := p.db.Events(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	abort := evs[len(evs)-1]
	posted := id + " · #" + itoa(abort.Seq) + " · mac " + store.ShortMAC(abort.MAC)
	card, _, _ := p.db.Ref(ctx, id, "card")
	if err := w.Slack().WaitFor(10*time.Second, func() bool { return threadHas(w, card, posted) }); err != nil {
		t.Fatalf("the abort (%s) was not posted in the thread", posted)
	}
	stop()

	// Last night's backup is put back.
	copyTestFile(t, backup, dbPath)
	res, err := verifyFile(dbPath, w.KeyFile())
	if err != nil || !res.OK() {
		t.Fatalf("the restored copy should verify on its own: %v %+v", err, res)
	}
	dmsBefore := len(w.Slack().DMs(demo.Carol))
	graphBefore := len(w.Graph().Requests())

	// Run 3: closebot must not resume it, and must say why.
	var logs syncBuffer
	p, _ = start(slog.New(slog.NewTextHandler(&logs, nil)))
	if f := p.db.Held(id); f == nil || f.Reason != store.ReasonBehindSlack {
		t.Fatalf("%s is not held: %v", id, f)
	}
	want := "closebot will not resume " + id + ": its database does not match what closebot posted in this thread"
	if err := w.Slack().WaitFor(10*time.Second, func() bool { return threadHas(w, card, want) }); err != nil {
		t.Fatalf("no notice in the thread")
	}
	if !threadHas(w, card, "closebot posted #"+itoa(abort.Seq)+" · mac "+store.ShortMAC(abort.MAC)) || !threadHas(w, card, "restored from an older copy") {
		t.Errorf("the notice does not say why")
	}
	time.Sleep(500 * time.Millisecond) // a resumed proof would send a code by now
	if n := len(w.Slack().DMs(demo.Carol)); n != dmsBefore {
		t.Errorf("carol got %d new DM(s): the restored request resumed", n-dmsBefore)
	}
	if _, err := p.db.Get(ctx, id); err == nil {
		t.Errorf("the held request is readable: a click could move it")
	}
	for _, r := range w.Graph().Requests()[graphBefore:] {
		if r.Kind == "graph" && r.Method != "GET" {
			t.Errorf("Graph write after the restore: %s %s", r.Method, r.Path)
		}
	}
	out := logs.String()
	for _, want := range []string{"the database is behind what closebot posted in Slack", "request=" + id,
		"posted=\"#" + itoa(abort.Seq) + " · mac " + store.ShortMAC(abort.MAC) + "\"", "stored_head=\"#" + itoa(backupHead.Seq) + " · mac " + store.ShortMAC(backupHead.MAC) + "\""} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func threadHas(w *demo.World, card store.Ref, text string) bool {
	for _, m := range w.Slack().Thread(card.Channel, card.TS) {
		if strings.Contains(m.Text, text) || strings.Contains(string(m.Blocks), text) {
			return true
		}
	}
	return false
}

func copyTestFile(t *testing.T, from, to string) {
	t.Helper()
	raw, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

func verifyFile(path, keyFile string) (store.Report, error) {
	key, err := store.LoadKey(keyFile)
	if err != nil {
		return store.Report{}, err
	}
	db, err := store.OpenReadOnly(path, key, store.Options{})
	if err != nil {
		return store.Report{}, err
	}
	defer db.Close()
	return db.VerifyDatabase(context.Background())
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// lastEventOf reads the head of request id's chain in the file at path.
func lastEventOf(t *testing.T, path, keyFile, id string) closure.Event {
	t.Helper()
	key, err := store.LoadKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenReadOnly(path, key, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	evs, err := db.Events(context.Background(), id)
	if err != nil || len(evs) == 0 {
		t.Fatalf("events of %s in %s: %v", id, path, err)
	}
	return evs[len(evs)-1]
}
