package main

import (
	"context"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/config"
)

// secretPattern matches secrets by their shape: Slack tokens, bearer
// tokens, and token or ticket query parameters a dial error may quote.
var secretPattern = regexp.MustCompile(`(?i)\b(xox[a-z]-|xapp-)[a-z0-9-]+|\bbearer\s+[a-z0-9._~+/=-]{16,}|\b(ticket|token|client_secret|access_token|refresh_token|assertion|client_assertion)=[^&\s"]+`)

const redactedText = "[redacted]"

// requestTenants remembers each request's tenant, so a log line that names
// a request names its tenant too. It is filled from the database at start
// and by the reporter as requests change: never read from the log path,
// which may run inside a database transaction.
type requestTenants struct{ m sync.Map }

func (t *requestTenants) note(id, domain string) {
	if id != "" && domain != "" {
		t.m.Store(id, domain)
	}
}

func (t *requestTenants) tenant(id string) (string, bool) {
	v, ok := t.m.Load(id)
	if !ok {
		return "", false
	}
	return v.(string), true
}

// namingReporter notes each request's tenant as the request changes.
type namingReporter struct {
	closure.Reporter
	names *requestTenants
}

func (r namingReporter) RequestChanged(ctx context.Context, req *closure.Request, ev closure.Event) error {
	r.names.note(req.ID, req.TenantDomain)
	return r.Reporter.RequestChanged(ctx, req, ev)
}

// logHandler is closebot's slog handler under `closebot run`: every line
// that names a request also names its tenant, and secret values (the
// configured ones, and anything shaped like a token) never reach the output.
type logHandler struct {
	next    slog.Handler
	secrets []string // exact values from the configuration and environment
	names   *requestTenants
	// tenant is set when With added one.
	tenant bool
}

// newLogHandler writes JSON (or text) to w, redacting the secrets of cfg.
func newLogHandler(w io.Writer, json bool, level slog.Leveler, secrets []string, names *requestTenants) *logHandler {
	opts := &slog.HandlerOptions{Level: level}
	var next slog.Handler = slog.NewTextHandler(w, opts)
	if json {
		next = slog.NewJSONHandler(w, opts)
	}
	var keep []string
	for _, s := range secrets {
		// A short value would redact ordinary words; secrets are long.
		if len(s) >= 8 {
			keep = append(keep, s)
		}
	}
	return &logHandler{next: next, secrets: keep, names: names}
}

// configSecrets are the secret values closebot holds.
func configSecrets(cfg *config.Config) []string {
	out := []string{cfg.Env.SlackAppToken.Reveal(), cfg.Env.SlackBotToken.Reveal(), cfg.Env.AuditKey.Reveal()}
	for _, t := range cfg.Tenants {
		out = append(out, t.ClientSecret.Reveal())
	}
	return out
}

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *logHandler) redact(s string) string {
	for _, v := range h.secrets {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, redactedText)
		}
	}
	return secretPattern.ReplaceAllString(s, redactedText)
}

// attr redacts an attribute's value: strings, errors and anything else
// that prints (a value's String method may quote a secret), group by group.
func (h *logHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.redact(v.String()))
	case slog.KindGroup:
		as := v.Group()
		out := make([]any, 0, len(as))
		for _, g := range as {
			out = append(out, h.attr(g))
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, h.redact(err.Error()))
		}
		// A value that prints no secret keeps its shape (a list stays a
		// JSON array); one that does is logged as its redacted text.
		if s := v.String(); h.redact(s) != s {
			return slog.String(a.Key, h.redact(s))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.redact(r.Message), r.PC)
	var request string
	hasTenant := h.tenant
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "request":
			request = a.Value.String()
		case "tenant":
			hasTenant = true
		}
		out.AddAttrs(h.attr(a))
		return true
	})
	if request != "" && !hasTenant && h.names != nil {
		if t, ok := h.names.tenant(request); ok {
			out.AddAttrs(slog.String("tenant", t))
		}
	}
	return h.next.Handle(ctx, out)
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	red := make([]slog.Attr, 0, len(as))
	var request string
	for _, a := range as {
		switch a.Key {
		case "request":
			request = a.Value.String()
		case "tenant":
			c.tenant = true
		}
		red = append(red, h.attr(a))
	}
	if request != "" && !c.tenant && h.names != nil {
		if t, ok := h.names.tenant(request); ok {
			red, c.tenant = append(red, slog.String("tenant", t)), true
		}
	}
	c.next = h.next.WithAttrs(red)
	return &c
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	return &c
}
