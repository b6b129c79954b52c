package outbound

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/closebot/closebot/bot/blocks"
	"github.com/closebot/closebot/closure"
)

// renderCard builds the request card from the newest snapshot.
func (r *Reporter) renderCard(ctx context.Context, id string) (blocks.Message, error) {
	req, err := r.snapshot(ctx, id)
	if err != nil {
		return blocks.Message{}, err
	}
	return blocks.Card(r.cardView(ctx, req)), nil
}

func (r *Reporter) cardView(ctx context.Context, req *closure.Request) blocks.CardView {
	p := r.cfg.Policy
	v := blocks.CardView{
		RequestID: req.ID, Version: req.Version, PlanDigest: req.PlanDigest,
		TenantDomain: req.TenantDomain, TenantID: req.TenantID,
		Requester: req.Requester, Reason: req.Reason, State: req.State,
		CreatedAt: req.CreatedAt, ExpiresAt: req.ExpiresAt, Now: r.cfg.Clock.Now(),
		DriftLines: req.DriftLines, Approvers: p.Approvers, Approvals: req.CountedApprovers(req.ConfigDigest),
		Required: p.Required, Step: req.Step, PausedFrom: req.PausedFrom, WindowEndsAt: req.WindowEndsAt,
		ProofError: req.ProofError, RejectReason: req.RejectReason, FailReason: req.FailReason,
		RestoreDeadline: req.RestoreDeadline, RestoredAt: req.RestoredAt, ClosedAt: req.ClosedAt,
	}
	if req.State == closure.StateRejected {
		v.RejectedBy = r.actorOf(ctx, req.ID, closure.EvReject)
	}
	if s := req.Plan; s != nil {
		v.TenantName = s.TenantName
		v.Summary, v.Top, v.Warnings = planCard(s)
	}
	return v
}

// actorOf is who did the request's last action of that name.
func (r *Reporter) actorOf(ctx context.Context, id string, action closure.EventAction) string {
	evs, err := r.cfg.Store.Events(ctx, id)
	if err != nil {
		return ""
	}
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Action == action {
			return evs[i].Actor
		}
	}
	return ""
}

// planCard turns a request's plan summary into the card's counts, top
// items ("+k more" comes from the totals) and warnings.
func planCard(s *closure.PlanSummary) ([]blocks.Line, []blocks.ItemGroup, []blocks.Warning) {
	var kinds []string
	for _, k := range []closure.UserKind{closure.KindMember, closure.KindGuest, closure.KindSynced, closure.KindPrivileged} {
		if n := s.UsersByKind[k]; n > 0 {
			kinds = append(kinds, fmt.Sprintf("%d %s", n, k))
		}
	}
	lines := []blocks.Line{{Label: "users to delete", Count: s.UsersToDelete, Detail: strings.Join(kinds, ", ")}}
	apps := blocks.Line{Label: "app registrations to delete", Count: s.AppsToDelete}
	if s.MultiTenantAppsTotal > 0 {
		apps.Detail = fmt.Sprintf("%d multi-tenant", s.MultiTenantAppsTotal)
	}
	lines = append(lines, apps,
		blocks.Line{Label: "service principals to delete", Count: s.ServicePrincipals + s.OtherServicePrincipals,
			Detail: spDetail(s)},
		blocks.Line{Label: "subscriptions to cancel and delete", Count: s.SubscriptionsTotal},
		blocks.Line{Label: "devices and groups at stake", Count: s.Counts.Devices + s.Counts.Groups,
			Detail: fmt.Sprintf("%d devices, %d groups, %d Microsoft 365 groups", s.Counts.Devices, s.Counts.Groups, s.Counts.UnifiedGroups)})

	var top []blocks.ItemGroup
	if len(s.TopUsers) > 0 {
		top = append(top, blocks.ItemGroup{Title: "Users", Items: s.TopUsers, Total: s.UsersToDelete})
	}
	if len(s.Subscriptions) > 0 {
		var subs []string
		for _, sub := range s.Subscriptions {
			subs = append(subs, fmt.Sprintf("%s (%s, %s)", sub.SkuPartNumber, sub.Channel, sub.Status))
		}
		top = append(top, blocks.ItemGroup{Title: "Subscriptions", Items: subs, Total: s.SubscriptionsTotal})
	}
	if len(s.MultiTenantApps) > 0 {
		top = append(top, blocks.ItemGroup{Title: "Multi-tenant apps", Items: s.MultiTenantApps, Total: s.MultiTenantAppsTotal})
	}

	var ws []blocks.Warning
	if s.SyncEnabled {
		ws = append(ws, blocks.Warning{Kind: blocks.WarnSyncOn})
	}
	if s.MultiTenantAppsTotal > 0 {
		ws = append(ws, blocks.Warning{Kind: blocks.WarnMultiTenantApps, Items: s.MultiTenantApps, Total: s.MultiTenantAppsTotal})
	}
	if s.BlockingCAPoliciesTotal > 0 {
		ws = append(ws, blocks.Warning{Kind: blocks.WarnBlockingCAPolicies, Items: s.BlockingCAPolicies, Total: s.BlockingCAPoliciesTotal})
	}
	if s.SecurityDefaults {
		ws = append(ws, blocks.Warning{Kind: blocks.WarnSecurityDefaults})
	}
	if len(s.RestrictedUnits) > 0 {
		var names []string
		for _, u := range s.RestrictedUnits {
			names = append(names, u.Name)
		}
		ws = append(ws, blocks.Warning{Kind: blocks.WarnRestrictedUnits, Items: names})
	}
	if s.EligibleGAs > 0 {
		ws = append(ws, blocks.Warning{Kind: blocks.WarnEligibleGlobalAdmin, Total: s.EligibleGAs})
	}
	for _, w := range s.Warnings {
		ws = append(ws, blocks.Warning{Kind: blocks.WarnOther, Text: w})
	}
	return lines, top, ws
}

func spDetail(s *closure.PlanSummary) string {
	d := fmt.Sprintf("%d kept", s.KeptServicePrincipals)
	if s.OtherServicePrincipals > 0 {
		d = fmt.Sprintf("%d of other publishers, disabled where Graph refuses; ", s.OtherServicePrincipals) + d
	}
	return d
}

// planGroups is the full plan for the thread.
func planGroups(p *closure.Plan) []blocks.ItemGroup {
	var gs []blocks.ItemGroup
	add := func(title string, items []string) {
		if len(items) > 0 {
			gs = append(gs, blocks.ItemGroup{Title: title, Items: items, Total: len(items)})
		}
	}
	var users, apps, sps, subs, units, cas []string
	for _, u := range p.Users {
		users = append(users, fmt.Sprintf("%s (%s)", u.UPN, u.Kind))
	}
	for _, a := range p.Apps {
		s := a.Name + " (" + a.AppID + ")"
		switch {
		case !a.Delete:
			s += ": kept"
		case a.MultiTenant:
			s += ": multi-tenant, other tenants using it break"
		}
		apps = append(apps, s)
	}
	for _, sp := range p.ServicePrincipals {
		sps = append(sps, sp.Name+" ("+sp.AppID+")")
	}
	var others []string
	for _, sp := range p.OtherServicePrincipals {
		others = append(others, fmt.Sprintf("%s (%s, %s, publisher tenant %s)", sp.Name, sp.AppID, orWord(sp.Type, "Application"), orWord(sp.Owner, "unknown")))
	}
	for _, s := range p.Subscriptions {
		subs = append(subs, fmt.Sprintf("%s (%s, %s, %s, %d licences)", s.SkuPartNumber, s.ID, s.Channel, s.Status, s.TotalLicenses))
	}
	for _, u := range p.RestrictedUnits {
		units = append(units, u.Name+": "+strings.Join(u.Members, ", "))
	}
	for _, c := range p.BlockingCAPolicies {
		cas = append(cas, c.DisplayName)
	}
	add("Users to delete", users)
	add("App registrations", apps)
	add("Service principals to delete", sps)
	add("Other publishers' service principals: deleted, or disabled where Graph refuses (they block the tenant's deletion)", others)
	add("Not available on this tenant", p.Unavailable)
	add("Subscriptions", subs)
	add("Restricted administrative units", units)
	add("Conditional-access policies that could block the kept admin", cas)
	add("Verified domains", p.VerifiedDomains)
	return gs
}

// renderStep builds step n's thread message from the newest snapshot.
func (r *Reporter) renderStep(ctx context.Context, id string, n int) (blocks.Message, error) {
	req, err := r.snapshot(ctx, id)
	if err != nil {
		return blocks.Message{}, err
	}
	st := req.StepAt(n)
	if st == nil {
		return blocks.Message{}, fmt.Errorf("request %s has no step %d", id, n)
	}
	ev := r.lastEvent(ctx, id)
	v := blocks.StepView{
		RequestID: req.ID, Version: req.Version, State: req.State, Step: n, Status: st.Status,
		Done: st.Done, Total: st.Total, Refused: st.Refused, Note: st.Note,
		StartedAt: st.StartedAt, FinishedAt: st.FinishedAt, Seq: ev.Seq, MAC: ev.MAC,
	}
	if n == closure.StepDeleteDirectory {
		v.AwaitingConfirmation = st.AwaitingConfirmation && !st.Confirmed
		if req.Plan != nil {
			v.Apps, v.ServicePrincipals = req.Plan.AppsToDelete, req.Plan.ServicePrincipals+req.Plan.OtherServicePrincipals
		}
		for id := range req.Confirmations {
			v.Confirmations = append(v.Confirmations, id)
		}
		slices.Sort(v.Confirmations)
		v.Required = r.cfg.Policy.Required
		v.Purge = purgeOffered(req)
	}
	return blocks.Step(v), nil
}

// purgeOffered: "Purge deleted objects" shows at step 5's delete-tenant
// gate, in the states Purge is accepted in.
func purgeOffered(req *closure.Request) bool {
	// Once closebot's write access was removed (write_access
	// just_in_time) a Purge is refused: the button goes too.
	if !closure.Offers(closure.ActPurge, req.State) || req.WriteAccessRemoved() {
		return false
	}
	for _, g := range req.Gates {
		if g.Kind == closure.GateDeleteTenant && g.IsOpen() {
			return true
		}
	}
	return false
}

// renderGate builds a gate's message (thread and DM) from the newest snapshot.
func (r *Reporter) renderGate(ctx context.Context, id, gateID string) (blocks.Message, error) {
	req, err := r.snapshot(ctx, id)
	if err != nil {
		return blocks.Message{}, err
	}
	g, ok := req.Gate(gateID)
	if !ok {
		return blocks.Message{}, fmt.Errorf("request %s has no gate %s", id, gateID)
	}
	ev := r.lastEvent(ctx, id)
	v := blocks.GateView{
		RequestID: req.ID, Version: req.Version, State: req.State, GateID: g.ID, Kind: g.Kind, Step: g.Step,
		Assignee: g.Assignee, ETA: g.ETA, OpenedAt: g.OpenedAt, SatisfiedAt: g.SatisfiedAt,
		RecheckEvery: r.cfg.Gates.RecheckEvery, LastChecked: g.ProgressAt,
		Instruction: closure.InstructionFor(g), Attest: g.Attest, Seq: ev.Seq, MAC: ev.MAC,
	}
	v.Stuck = req.State == closure.StateStuck && g.IsOpen() && r.cfg.Policy.StuckAfter > 0 &&
		!r.cfg.Clock.Now().Before(g.StuckAt(r.cfg.Policy.StuckAfter))
	for _, a := range req.Attestations {
		if a.Gate == g.ID {
			v.Attested = append(v.Attested, blocks.AttestationView{Sentence: a.Sentence, By: a.By, At: a.At})
		}
	}
	return blocks.Gate(v), nil
}

var (
	deviceURL  = regexp.MustCompile(`https://[^\s"'<>|]+`)
	deviceCode = regexp.MustCompile(`(?i)\bcode\s+([A-Z0-9-]{4,32})\b`)
)

// deviceCodeTTL is how long a device code lives when the message does not
// say (Entra's default expires_in is 900 s).
const deviceCodeTTL = 15 * time.Minute

// renderSignIn turns azidentity's device-code message into the sign-in DM;
// a message it cannot read is sent as an escaped notice.
func (r *Reporter) renderSignIn(req *closure.Request, userID, message string) blocks.Message {
	u := strings.TrimRight(deviceURL.FindString(message), ".,;")
	c := deviceCode.FindStringSubmatch(message)
	if u == "" || c == nil {
		return blocks.Notice(req.ID + ": sign-in proof needed. " + message)
	}
	keep := ""
	if t, ok := r.cfg.Policy.Tenant(req.TenantID); ok {
		keep = t.Keep
	}
	return blocks.SignIn(blocks.SignInView{
		RequestID: req.ID, TenantDomain: req.TenantDomain, KeepUser: userID, KeepUPN: keep,
		UserCode: c[1], VerificationURL: u, ExpiresOn: r.cfg.Clock.Now().Add(deviceCodeTTL),
	})
}

func orWord(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// eventViewOf is ev as its thread reply shows it, with req's counts after it.
func eventViewOf(req *closure.Request, ev closure.Event, p *closure.Policy) blocks.EventView {
	return blocks.EventView{
		RequestID: req.ID, Action: ev.Action, Actor: ev.Actor, Detail: ev.Detail,
		Approvals: req.CountApprovals(req.ConfigDigest), Confirmations: len(req.Confirmations), Required: p.Required,
		RejectReason: req.RejectReason, FailReason: req.FailReason, Seq: ev.Seq, MAC: ev.MAC,
	}
}

// requesterDMOf is the requester's DM about ev, which ended req (or failed it).
func requesterDMOf(req *closure.Request, ev closure.Event) blocks.Message {
	return blocks.RequesterDM(blocks.RequesterDMView{
		RequestID: req.ID, TenantDomain: req.TenantDomain, To: ev.To,
		RejectReason: req.RejectReason, FailReason: req.FailReason, Channel: req.Channel, Seq: ev.Seq, MAC: ev.MAC,
	})
}
