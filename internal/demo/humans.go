package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/closebot/closebot/bot/blocks"
	"github.com/closebot/closebot/bot/slacktest"
	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/graphtest"
	"github.com/closebot/closebot/store"
)

// Humans plays the people of a closure against the emulators, only through
// what they could really do: Slack (slash command, clicks, the approval
// modal) and the Microsoft portals (the Graph emulator's human actions and
// device sign-in). alice asks, bob approves, carol is the kept admin.
//
// A Humans is made by NewHumans; a test that restarts closebot points it at
// the new store with SetDB.
type Humans struct {
	w     *World
	db    Store
	clock Skipper
	say   func(format string, args ...any)

	// RetryAfter, if set, lets a person press a button again when what it
	// asked for has not happened that long after (wall time): closebot
	// acknowledges a click before it records it, and a closebot killed in
	// between drops it, as a real approver would notice.
	RetryAfter time.Duration

	id      string
	done    map[string]bool // one-off actions already taken
	pressed map[string]time.Time
	lastVer uint64
	idleFor int
}

// Store is what the people read of closebot's store: the request's state
// and its message refs, as they would read them in Slack. A *store.DB, or
// a Snapshots of the database of a closebot in another process.
type Store interface {
	Get(ctx context.Context, id string) (*closure.Request, error)
	List(ctx context.Context, open bool, limit int) ([]*closure.Request, error)
	Ref(ctx context.Context, requestID, name string) (store.Ref, bool, error)
}

// Skipper is the time the people see, and lets pass in an instant (the
// abort window, 72 hours of deprovisioning): a *Clock, or one that also
// moves a closebot's clock in another process.
type Skipper interface {
	Now() time.Time
	FastForward(d time.Duration)
}

// NewHumans plays the people of w against closebot's store db; say
// narrates what they do (a no-op for tests).
func NewHumans(w *World, db Store, clock Skipper, say func(format string, args ...any)) *Humans {
	return &Humans{w: w, db: db, clock: clock, say: say, done: map[string]bool{}, pressed: map[string]time.Time{}}
}

// SetDB points the people at closebot's store after a restart reopened it.
func (h *Humans) SetDB(db Store) { h.db = db }

// ID is the request alice opened ("" before Open).
func (h *Humans) ID() string { return h.id }

// errHalted is a request that ended without closing.
var errHalted = errors.New("the request ended without closing")

// IsHalted says Play stopped because the request ended (or paused) without
// closing, not because an action failed.
func IsHalted(err error) bool { return errors.Is(err, errHalted) }

// Open is alice's slash command; it returns the new request's id.
func (h *Humans) Open(ctx context.Context, reason string) (string, error) {
	h.say("alice types: /close-tenant %s %s", h.w.tenant.Domain, reason)
	env, err := h.w.slack.Slash(Alice, Channel, h.w.tenant.Domain+" "+reason)
	if err != nil {
		return "", err
	}
	if _, err := waitAck(h.w.slack, env); err != nil {
		return "", fmt.Errorf("slash command not acknowledged in 3 s: %w", err)
	}
	for ctx.Err() == nil {
		reqs, err := h.db.List(ctx, true, 1)
		if err != nil {
			return "", err
		}
		if len(reqs) == 1 {
			h.id = reqs[0].ID
			return h.id, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "", ctx.Err()
}

// Play acts on the request until it is closed: whatever it waits for, the
// right person does.
func (h *Humans) Play(ctx context.Context) error {
	h.done = map[string]bool{}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		req, err := h.db.Get(ctx, h.id)
		if err != nil {
			return err
		}
		if req.State == closure.StateClosed {
			return nil
		}
		acted, err := h.step(ctx, req)
		if err != nil {
			return err
		}
		if acted || req.Version != h.lastVer {
			h.lastVer, h.idleFor = req.Version, 0
		} else if h.idleFor++; h.idleFor > 15 {
			// Nothing moved for a while: let time pass so re-checks and
			// lifecycles advance, as they would over days.
			h.idleFor = 0
			h.say("⏩ 10 minutes pass")
			h.clock.FastForward(10 * time.Minute)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (h *Humans) step(ctx context.Context, req *closure.Request) (bool, error) {
	switch req.State {
	case closure.StatePending:
		return h.press(fmt.Sprintf("approve.%d", req.PendingSince), func() error { return h.Approve(ctx, req) })
	case closure.StateProving:
		return h.SignIn(ctx)
	case closure.StateWaitingWindow:
		if d := req.WindowEndsAt.Sub(h.clock.Now()); d > 0 {
			h.say("⏩ the %s abort window passes", d.Round(time.Minute))
			h.clock.FastForward(d)
			return true, nil
		}
	case closure.StateRunning, closure.StateGate, closure.StateStuck:
		if req.AwaitingConfirmation() {
			return h.press(fmt.Sprintf("confirm.%d", req.ConfirmSince), func() error {
				h.say("bob presses Approve on step 5 (the point of no return)")
				return h.Click(ctx, Bob, "step.5", blocks.ActionConfirmStep5)
			})
		}
		for _, g := range req.Gates {
			if g.IsOpen() {
				if acted, err := h.gate(ctx, req, g); acted || err != nil {
					return acted, err
				}
			}
		}
	case closure.StateFailed, closure.StateAborted, closure.StateRejected, closure.StateCancelled, closure.StateExpired, closure.StatePaused:
		return false, fmt.Errorf("%w: %s is %s", errHalted, req.ID, req.State)
	}
	return false, nil
}

// press is once for a button press, which with RetryAfter set is pressed
// again while the request still asks for it (the caller checks that).
func (h *Humans) press(key string, f func() error) (bool, error) {
	if at, ok := h.pressed[key]; ok && h.RetryAfter > 0 && time.Since(at) > h.RetryAfter {
		h.say("(nothing came of it: pressed again)")
		delete(h.done, key)
	}
	if !h.done[key] {
		h.pressed[key] = time.Now()
	}
	return h.once(key, f)
}

// once runs f the first time key is seen.
func (h *Humans) once(key string, f func() error) (bool, error) {
	if h.done[key] {
		return false, nil
	}
	h.done[key] = true
	return true, f()
}

// Approve is bob pressing Approve and filling in the modal as the card says.
func (h *Humans) Approve(ctx context.Context, req *closure.Request) error {
	if req.Plan == nil {
		return fmt.Errorf("%s has no plan summary to approve", req.ID)
	}
	h.say("bob presses Approve on the card")
	views := len(h.w.slack.Views())
	if err := h.Click(ctx, Bob, "card", blocks.ActionApprove); err != nil {
		return err
	}
	var view slacktest.View
	err := h.w.slack.WaitFor(15*time.Second, func() bool {
		vs := h.w.slack.Views()
		// A re-approval's modal first says the tenant is being read
		// again; bob fills it in once the form replaces that note.
		if len(vs) > views && vs[len(vs)-1].User == Bob && vs[len(vs)-1].Open &&
			strings.Contains(string(vs[len(vs)-1].Blocks), blocks.BlockModalDomain) {
			view = vs[len(vs)-1]
			return true
		}
		return false
	})
	if err != nil {
		return fmt.Errorf("the approval modal did not open: %w", err)
	}
	// bob types the numbers of the plan the modal shows: a re-approval's
	// plan is the one closebot just read again.
	if fresh, err := h.db.Get(ctx, req.ID); err == nil && fresh.Plan != nil {
		req = fresh
	}
	values, err := FillApproval(view, req.TenantDomain, req.Plan.UsersToDelete)
	if err != nil {
		return err
	}
	h.say("bob types %s and %d users, ticks every box, submits", req.TenantDomain, req.Plan.UsersToDelete)
	env, err := h.w.slack.Submit(Bob, view.ID, values)
	if err != nil {
		return err
	}
	_, err = waitAck(h.w.slack, env)
	return err
}

// FillApproval answers the approval modal: the domain, the count, and every
// checkbox of every input block.
func FillApproval(v slacktest.View, domain string, users int) (map[string]map[string]any, error) {
	var bs []struct {
		Type    string `json:"type"`
		BlockID string `json:"block_id"`
		Element struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			Options  []struct {
				Value string `json:"value"`
			} `json:"options"`
		} `json:"element"`
	}
	if err := json.Unmarshal(v.Blocks, &bs); err != nil {
		return nil, fmt.Errorf("read the approval modal: %w", err)
	}
	values := map[string]map[string]any{}
	for _, b := range bs {
		if b.Type != "input" {
			continue
		}
		switch {
		case b.Element.Type == "checkboxes":
			var ticked []string
			for _, o := range b.Element.Options {
				ticked = append(ticked, o.Value)
			}
			values[b.BlockID] = map[string]any{b.Element.ActionID: ticked}
		case b.BlockID == blocks.BlockModalDomain:
			values[b.BlockID] = map[string]any{b.Element.ActionID: domain}
		case b.BlockID == blocks.BlockModalUsers:
			values[b.BlockID] = map[string]any{b.Element.ActionID: fmt.Sprint(users)}
		}
	}
	return values, nil
}

// SignIn is carol finishing the device-code sign-in closebot DMed her, with MFA.
func (h *Humans) SignIn(ctx context.Context) (bool, error) {
	for _, dc := range h.w.graph.PendingDeviceCodes() {
		if h.done["signin."+dc.UserCode] || dc.State != "pending" {
			continue
		}
		if !h.dmMentions(Carol, dc.UserCode) {
			continue // not delivered to carol yet
		}
		h.done["signin."+dc.UserCode] = true
		h.say("carol opens the sign-in link closebot sent her, enters %s and approves with MFA", dc.UserCode)
		return true, h.w.graph.CompleteDeviceSignIn(dc.UserCode, h.w.tenant.KeptAdmin().UPN, true)
	}
	return false, nil
}

func (h *Humans) dmMentions(user, text string) bool {
	for _, m := range h.w.slack.DMs(user) {
		if strings.Contains(m.Text, text) || strings.Contains(string(m.Blocks), text) {
			return true
		}
	}
	return false
}

// gate is carol (or the partner, or Microsoft's lifecycle) doing what a gate asks.
func (h *Humans) gate(ctx context.Context, req *closure.Request, g closure.Gate) (bool, error) {
	t := h.w.tenant
	for _, s := range g.Attest {
		if !req.Attested(g.ID, s) {
			return h.press("attest."+g.ID+"."+s, func() error {
				if s == closure.SentenceNoAzure {
					// Make the sentence true before attesting to it.
					h.say("carol cancels the Azure subscriptions linked to the tenant in the Azure portal")
					if err := t.RemoveAzureSubscription(); err != nil {
						return err
					}
				}
				h.say("carol presses “%s”", closure.Sentences[s])
				return h.clickValue(ctx, Carol, "gate."+g.ID, blocks.ActionAttest, s)
			})
		}
	}
	switch g.Kind {
	case closure.GateSyncOff:
		return h.once("act."+g.ID, func() error {
			h.say("carol runs Set-EntraDirSyncEnabled to turn directory sync off")
			return errors.Join(t.TurnSyncOff(), h.Recheck(ctx, g.ID))
		})
	case closure.GateRestrictedAdminUnit:
		return h.once("act."+g.ID, func() error {
			h.say("carol removes the users from the restricted administrative unit")
			var ids []string
			for _, u := range t.Users() {
				if u.Restricted {
					ids = append(ids, u.ID)
				}
			}
			return errors.Join(t.RemoveFromRestrictedUnits(ids...), h.Recheck(ctx, g.ID))
		})
	case closure.GateSubscriptionDirect, closure.GateSubscriptionCSP, closure.GateSubscriptionMCA:
		return h.once("act."+g.ID, func() error {
			for _, s := range t.Subscriptions() {
				if !strings.Contains(","+g.Params["ids"]+",", ","+s.ID+",") || (s.Status != "Enabled" && s.Status != "Warning") {
					continue // another gate's, or already cancelled
				}
				who := "carol cancels"
				if s.Channel == "csp" {
					who = "the partner cancels"
				}
				h.say("%s %s (%s) in the admin center", who, s.SkuPartNumber, s.Channel)
				if err := t.CancelSubscription(s.ID); err != nil {
					return err
				}
				if s.Channel == "mca" { // recurring billing off: it runs to the end of its term
					h.say("⏩ %s's term ends", s.SkuPartNumber)
					for s = subscription(t.Subscriptions(), s.ID); s.Status == "Enabled" || s.Status == "Warning"; s = subscription(t.Subscriptions(), s.ID) {
						if err := t.AdvanceSubscription(s.ID); err != nil {
							return err
						}
					}
				}
			}
			return h.Recheck(ctx, g.ID)
		})
	case closure.GateSelfService:
		return h.once("act."+g.ID, func() error {
			for _, id := range strings.Split(g.Params["ids"], ",") {
				h.say("carol deletes the self-service sign-up product %s in the Entra admin center", id)
				if err := t.DeleteSelfServiceProduct(id); err != nil {
					return err
				}
			}
			return h.Recheck(ctx, g.ID)
		})
	case closure.GateDeleteSubscriptions:
		return h.once("act."+g.ID, func() error {
			for _, s := range t.Subscriptions() {
				if s.Status == "Deleted" {
					continue
				}
				for s.Status == "Enabled" || s.Status == "Warning" { // an MCA term still running
					if err := t.AdvanceSubscription(s.ID); err != nil {
						return err
					}
					s = subscription(t.Subscriptions(), s.ID)
				}
				h.say("carol deletes the disabled %s", s.SkuPartNumber)
				if err := t.DeleteSubscription(s.ID); err != nil {
					return err
				}
			}
			h.say("⏩ 72 hours of deprovisioning pass")
			h.clock.FastForward(72 * time.Hour)
			return h.Recheck(ctx, g.ID)
		})
	case closure.GateGrantWriteAccess:
		// carol grants late, and in two goes: the application permissions
		// first (closebot's re-check then says the role is still missing),
		// the directory role on her next look.
		if perms := names(g.Params["permissions"]); len(perms) > 0 {
			return h.once("grant.permissions."+g.ID, func() error {
				h.say("carol adds %s to closebot's app in the Entra admin center and grants admin consent", strings.Join(perms, ", "))
				h.w.graph.GrantAppRole(t.ID, t.ClosebotAppID, perms...)
				return h.Recheck(ctx, g.ID)
			})
		}
		if g.Params["role_id"] != "" && strings.Contains(g.Params["missing"], g.Params["role"]) {
			return h.once("grant.role."+g.ID, func() error {
				h.say("carol assigns %s to closebot's app", g.Params["role"])
				return errors.Join(t.AssignClosebotRole(g.Params["role_id"]), h.Recheck(ctx, g.ID))
			})
		}
	case closure.GateRemoveWriteAccess:
		return h.once("act."+g.ID, func() error {
			perms := names(g.Params["permissions"])
			h.say("carol revokes %s and removes %s from closebot's app", strings.Join(perms, ", "), g.Params["role"])
			h.w.graph.RevokeAppRole(t.ID, t.ClosebotAppID, perms...)
			var err error
			if g.Params["role_id"] != "" {
				err = t.RemoveClosebotRole(g.Params["role_id"])
			}
			return errors.Join(err, h.Recheck(ctx, g.ID))
		})
	case closure.GateDeleteTenant:
		return h.once("act."+g.ID, func() error {
			h.say("carol removes closebot's app, then deletes the tenant in the Entra admin center")
			if err := t.RemoveClosebotApp(false); err != nil {
				return err
			}
			return t.DeleteTenant(false)
		})
	}
	return false, nil
}

// names splits a gate's list of permission names ("(none missing)": none).
func names(list string) []string {
	var out []string
	for _, n := range strings.Split(list, ",") {
		if n = strings.TrimSpace(n); n != "" && !strings.HasPrefix(n, "(") {
			out = append(out, n)
		}
	}
	return out
}

func subscription(subs []graphtest.SubscriptionInfo, id string) graphtest.SubscriptionInfo {
	for _, s := range subs {
		if s.ID == id {
			return s
		}
	}
	return graphtest.SubscriptionInfo{ID: id, Status: "Deleted"}
}

// Recheck presses Re-check on a gate's message, unless closebot's own
// re-check got there first and the button is gone.
func (h *Humans) Recheck(ctx context.Context, gateID string) error {
	// A message still on its way to the version with the button (Slack's
	// per-channel pace on a busy thread) is waited for, up to a minute.
	deadline := time.Now().Add(time.Minute)
	for {
		err := h.Click(ctx, Carol, "gate."+gateID, blocks.ActionRecheck)
		if !errors.Is(err, slacktest.ErrNotFound) {
			return err
		}
		if req, gerr := h.db.Get(ctx, h.id); gerr == nil {
			if g, ok := req.Gate(gateID); ok && !g.IsOpen() {
				return nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Click presses the button with actionID on the request's message ref.
func (h *Humans) Click(ctx context.Context, user, ref, actionID string) error {
	return h.clickValue(ctx, user, ref, actionID, "")
}

// clickValue presses a button; with sentence set, the attestation button
// for that sentence.
func (h *Humans) clickValue(ctx context.Context, user, ref, actionID, sentence string) error {
	// A gate's buttons are on its thread message and on the DM to the
	// person who must act; whichever Slack delivered first will do.
	names := []string{ref}
	if strings.HasPrefix(ref, "gate.") {
		names = []string{"dm." + ref, ref}
	}
	var r store.Ref
	err := h.w.slack.WaitFor(30*time.Second, func() bool {
		for _, name := range names {
			got, ok, err := h.db.Ref(ctx, h.id, name)
			if err == nil && ok {
				r = got
				return true
			}
		}
		return false
	})
	if err != nil {
		return fmt.Errorf("no %s message for %s: %w", ref, h.id, err)
	}
	if sentence != "" {
		return h.clickAttest(user, r, sentence)
	}
	// A person presses the button once they see it: the message may still
	// be on its way to its latest version.
	_ = h.w.slack.WaitFor(10*time.Second, func() bool {
		m, ok := h.w.slack.Message(r.Channel, r.TS)
		return ok && strings.Contains(string(m.Blocks), `"action_id":"`+actionID+`"`)
	})
	env, err := h.w.slack.Click(user, slacktest.MessageRef{Channel: r.Channel, TS: r.TS}, actionID)
	if err != nil {
		return fmt.Errorf("%s presses %s on %s: %w", user, actionID, ref, err)
	}
	_, err = waitAck(h.w.slack, env)
	return err
}

// clickAttest finds the attestation button for a sentence in the message.
func (h *Humans) clickAttest(user string, r store.Ref, sentence string) error {
	m, ok := h.w.slack.Message(r.Channel, r.TS)
	if !ok {
		return fmt.Errorf("message %s/%s is gone", r.Channel, r.TS)
	}
	var bs []struct {
		BlockID  string `json:"block_id"`
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(m.Blocks, &bs); err != nil {
		return err
	}
	for _, b := range bs {
		for _, e := range b.Elements {
			if v, err := blocks.ParseValue(e.Value); e.ActionID == blocks.ActionAttest && err == nil && v.Sentence == sentence {
				env, err := h.w.slack.ClickRaw(user, r.Channel, r.TS, b.BlockID, e.ActionID, e.Value)
				if err != nil {
					return err
				}
				_, err = waitAck(h.w.slack, env)
				return err
			}
		}
	}
	return fmt.Errorf("no attestation button for %q", sentence)
}

// narrator prints the channel, the request's thread and the DMs as they
// unfold, one line per new message and per changed text.
type narrator struct {
	w    *World
	out  io.Writer
	seen map[string]string // channel/ts → text printed
}

func (n *narrator) poll() {
	if n.seen == nil {
		n.seen = map[string]string{}
	}
	show := func(where string, m slacktest.Message) {
		k := m.Channel + "/" + m.TS
		text := strings.TrimSpace(m.Text)
		if text == "" || n.seen[k] == text {
			return
		}
		verb := "  "
		if _, ok := n.seen[k]; ok {
			verb = "✎ "
		}
		n.seen[k] = text
		fmt.Fprintf(n.out, "%s%-8s %s\n", verb, where, oneLine(text, 160))
	}
	for _, m := range n.w.slack.Messages(Channel) {
		show("#it-ops", m)
		for _, r := range n.w.slack.Thread(Channel, m.TS) {
			show("thread", r)
		}
	}
	for _, u := range []string{Alice, Bob, Carol} {
		for _, m := range n.w.slack.DMs(u) {
			show("DM "+u[2:], m)
		}
	}
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}

// Attest is carol pressing the button attesting sentence on gate gateID
// (its DM or its thread message).
func (h *Humans) Attest(ctx context.Context, gateID, sentence string) error {
	return h.clickValue(ctx, Carol, "gate."+gateID, blocks.ActionAttest, sentence)
}
