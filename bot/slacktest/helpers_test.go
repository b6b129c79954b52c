package slacktest

import (
	"context"
	"errors"
	"io"
	"log"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// manualClock is a Clock tests move by hand.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newServer(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.PingInterval == 0 {
		opts.PingInterval = 200 * time.Millisecond
	}
	srv := New(opts)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	srv.AddUser(User{ID: "U1", Name: "alice", IsAdmin: true})
	srv.AddUser(User{ID: "U2", Name: "bob", IsAdmin: true})
	srv.AddChannel(Channel{ID: "C1", Name: "ops"})
	return srv
}

func newAPI(srv *Server) *slack.Client {
	o := srv.Options()
	return slack.New(o.BotToken, slack.OptionAPIURL(srv.APIURL()), slack.OptionAppLevelToken(o.AppToken))
}

// client is a real slack-go socketmode client whose events the test reads.
type client struct {
	api    *slack.Client
	sm     *socketmode.Client
	events chan socketmode.Event
	hellos atomic.Int32
	helloN atomic.Int32 // num_connections of the last hello
}

func newClient(t *testing.T, srv *Server) *client {
	t.Helper()
	api := newAPI(srv)
	c := &client{api: api, events: make(chan socketmode.Event, 200),
		sm: socketmode.New(api, socketmode.OptionPingInterval(3*time.Second), socketmode.OptionLog(log.New(io.Discard, "", 0)))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.sm.RunContext(ctx)
	}()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-c.sm.Events:
				if ev.Type == socketmode.EventTypeHello {
					c.hellos.Add(1)
					c.helloN.Store(int32(ev.Request.NumConnections))
				}
				select {
				case c.events <- ev:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return c
}

// next returns the next event of type typ, skipping others.
func (c *client) next(t *testing.T, typ socketmode.EventType) socketmode.Event {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev := <-c.events:
			if ev.Type == typ {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event within 5s", typ)
		}
	}
}

func slackErr(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}
