package bot

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/closebot/closebot/bot/blocks"
	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/commands"
)

// lookup resolves /close-tenant arguments against the configured tenants
// and the store.
type lookup struct {
	ctx context.Context
	b   *Bot
}

func (l lookup) Tenant(arg string) (commands.Tenant, bool) {
	return commands.FindTenant(l.b.deps.Tenants, arg)
}

// RequestExists answers true when the store cannot tell, so the action
// reports its own error (commands.Lookup's contract).
func (l lookup) RequestExists(id string) bool {
	_, err := l.b.deps.Service.Lookup(l.ctx, id)
	return err == nil || !errors.Is(err, closure.ErrNotFound)
}

// slashCommand handles /close-tenant: channel, actor, then the command.
func (b *Bot) slashCommand(ctx context.Context, j *job) error {
	cmd := j.slash
	if err := b.checkChannel(ctx, cmd.ChannelID); err != nil {
		return err
	}
	c, parseErr := commands.Parse(cmd.Text, lookup{ctx: ctx, b: b})
	// Opening and the controls write: their group membership is read now.
	f := cachedGroups
	switch c.Kind {
	case commands.Open, commands.Resume:
		f = freshGroups
	case commands.Pause, commands.Abort:
		f = stopGroups
	}
	a, err := b.actor(ctx, cmd.UserID, f)
	if err != nil {
		return err
	}
	if parseErr != nil {
		return parseErr
	}
	switch c.Kind {
	case commands.Open:
		return b.open(ctx, j, a, c)
	case commands.Plan:
		return b.plan(ctx, j, a, c)
	case commands.Status:
		return b.status(ctx, j, a, c.RequestID)
	case commands.List:
		rs, err := b.deps.Service.List(ctx, a, false, 20)
		if err != nil {
			return err
		}
		b.answer(ctx, j, blocks.Notice(requestLines("Recent requests", rs)))
		return nil
	case commands.Pause, commands.Resume, commands.Abort:
		return b.control(ctx, j, a, c)
	}
	b.answer(ctx, j, blocks.Help(commands.Usage()))
	return nil
}

// open is the domain's "open a request" use case (authorise, tenant lock,
// preflight, open); its commit makes the Reporter post the card, then the
// full plan goes in its thread.
func (b *Bot) open(ctx context.Context, j *job, a closure.Actor, c commands.Command) error {
	req, plan, err := b.deps.Service.OpenTenant(ctx, a, closure.OpenCommand{
		Tenant: c.Tenant.ID, Reason: c.Reason, Channel: j.slash.ChannelID,
	}, func() {
		b.answer(ctx, j, blocks.Notice("Reading "+c.Tenant.Domain+" (read-only preflight); the request card follows."))
	})
	if err != nil {
		return err
	}
	if err := b.deps.Reporter.PostPlan(ctx, req, plan); err != nil {
		b.log.WarnContext(ctx, "post plan", "request", req.ID, "err", err)
	}
	return nil
}

// plan shows a tenant's plan summary to the requester only: no request,
// no writes.
func (b *Bot) plan(ctx context.Context, j *job, a closure.Actor, c commands.Command) error {
	plan, err := b.deps.Service.PlanFor(ctx, a, c.Tenant.ID)
	if err != nil {
		return err
	}
	b.answer(ctx, j, blocks.Notice(planWords(c.Tenant.Domain, plan)))
	return nil
}

// planWords is the plan in counts (plain words; Notice escapes it).
func planWords(domain string, p *closure.Plan) string {
	s := p.Summary()
	var b strings.Builder
	fmt.Fprintf(&b, "Plan for %s (%s, %s, tenant id %s), read-only; nothing was changed.\n", domain, s.TenantName, s.TenantType, p.TenantID)
	kinds := make([]string, 0, len(s.UsersByKind))
	for k, n := range s.UsersByKind {
		kinds = append(kinds, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(kinds)
	fmt.Fprintf(&b, "• Users to delete: %d (%s); kept admin: %s\n", s.UsersToDelete, strings.Join(kinds, ", "), s.Keep.UPN)
	if s.SyncEnabled {
		b.WriteString("• Directory sync is on: it will be turned off (cannot be re-enabled for 72 h)\n")
	}
	fmt.Fprintf(&b, "• Subscriptions: %d\n", s.SubscriptionsTotal)
	fmt.Fprintf(&b, "• App registrations: %d (%d to delete, %d multi-tenant); tenant-owned service principals: %d\n",
		s.Apps, s.AppsToDelete, s.MultiTenantAppsTotal, s.ServicePrincipals)
	fmt.Fprintf(&b, "• Devices: %d; Microsoft 365 groups: %d\n", s.Counts.Devices, s.Counts.UnifiedGroups)
	for _, w := range s.Warnings {
		fmt.Fprintf(&b, "• Warning: %s\n", w)
	}
	return strings.TrimRight(b.String(), "\n")
}

// status shows one request, or the open ones.
func (b *Bot) status(ctx context.Context, j *job, a closure.Actor, id string) error {
	if id == "" {
		rs, err := b.deps.Service.List(ctx, a, true, 0)
		if err != nil {
			return err
		}
		b.answer(ctx, j, blocks.Notice(requestLines("Open requests", rs)))
		return nil
	}
	r, err := b.deps.Service.Get(ctx, a, id)
	if err != nil {
		return err
	}
	b.answer(ctx, j, blocks.Notice(requestLine(r, b.deps.Policy.Required)+"\nReason: "+r.Reason))
	return nil
}

func requestLines(title string, rs []*closure.Request) string {
	if len(rs) == 0 {
		return title + ": none."
	}
	lines := []string{title + ":"}
	for _, r := range rs {
		lines = append(lines, "• "+requestLine(r, 0))
	}
	return strings.Join(lines, "\n")
}

// requestLine says where a request stands, in plain words.
func requestLine(r *closure.Request, required int) string {
	s := fmt.Sprintf("%s: %s, %s (requested by %s, %s)", r.ID, r.TenantDomain, r.State, r.Requester, r.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"))
	if r.State == closure.StatePending && required > 0 {
		s += fmt.Sprintf("; approvals %d of %d", r.CountApprovals(r.ConfigDigest), required)
	}
	if r.Step > 0 {
		s += fmt.Sprintf("; step %d", r.Step)
	}
	if r.FailReason != "" {
		s += "; failed: " + r.FailReason
	}
	return s
}

// control handles pause, resume and abort typed as commands.
func (b *Bot) control(ctx context.Context, j *job, a closure.Actor, c commands.Command) error {
	var (
		r   *closure.Request
		err error
		did string
	)
	switch c.Kind {
	case commands.Pause:
		r, _, err = b.deps.Service.Pause(ctx, a, c.RequestID)
		did = "Paused"
	case commands.Resume:
		r, _, err = b.deps.Service.Resume(ctx, a, c.RequestID, closure.Typed)
		did = "Resumed"
	default:
		r, _, err = b.deps.Service.Abort(ctx, a, c.RequestID)
		did = "Aborted"
	}
	if err != nil {
		return err
	}
	b.answer(ctx, j, blocks.Notice(did+" "+r.ID+"."))
	return nil
}
