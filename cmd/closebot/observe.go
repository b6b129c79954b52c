package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/closebot/closebot/bot"
	"github.com/closebot/closebot/internal/metrics"
	"github.com/closebot/closebot/store"
)

// observer is what `closebot run --listen` serves: /healthz (the process
// answers), /readyz (the socket is connected, alone, and the database is
// open) and /metrics (Prometheus).
type observer struct {
	metrics *metrics.Metrics
	db      *store.DB

	mu        sync.Mutex
	connected bool // a hello came and the socket has not been lost since
	conns     int  // that hello's num_connections
}

func newObserver(db *store.DB) *observer {
	o := &observer{db: db}
	o.metrics = metrics.New(func(ctx context.Context) (map[string]int, error) {
		rs, err := db.List(ctx, false, 0)
		if err != nil {
			return nil, err
		}
		out := map[string]int{}
		for _, r := range rs {
			out[string(r.State)]++
		}
		return out, nil
	})
	return o
}

// watch is the bot's hook: the socket's state and the acks' latency.
func (o *observer) watch() bot.Watch {
	return bot.Watch{
		Socket: func(connected bool, n int) {
			o.mu.Lock()
			o.connected, o.conns = connected, n
			o.mu.Unlock()
			o.metrics.SetSocket(connected, n)
		},
		Ack: o.metrics.ObserveAck,
	}
}

// notReady lists why closebot is not ready; none means ready.
func (o *observer) notReady(ctx context.Context) []string {
	var why []string
	o.mu.Lock()
	connected, n := o.connected, o.conns
	o.mu.Unlock()
	switch {
	case !connected:
		why = append(why, "slack socket not connected")
	case n != 1:
		// Another closebot (or a socket Slack still counts) uses the app:
		// closebot refuses to act until it is alone (README, one replica).
		why = append(why, fmt.Sprintf("slack reports %d connections, want 1", n))
	}
	var v json.RawMessage
	if _, err := o.db.GetMeta(ctx, metaConfigSnapshot, &v); err != nil {
		why = append(why, "database: "+err.Error())
	}
	return why
}

func (o *observer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if why := o.notReady(ctx); len(why) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready: "+strings.Join(why, "; "))
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", o.metrics.Handler())
	return mux
}

// serveObserver serves the observer on addr until the returned stop is
// called; the listener is opened before it returns, so a bad address fails
// the start.
func serveObserver(addr string, o *observer, log *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: o.handler(), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("observability listener", "addr", addr, "err", err)
		}
	}()
	log.Info("serving /healthz, /readyz and /metrics", "addr", ln.Addr().String())
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-done
	}, nil
}
