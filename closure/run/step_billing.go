package run

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/closebot/closebot/closure"
)

// Steps 2 and 3 have no API (DESIGN §4, graph-wire §0): closebot opens
// their gates when execution starts, because cancellations can take
// months, re-checks them on its own, and finishes the steps in order.

func (x *tenantWork) subscriptions(ctx context.Context) ([]closure.CompanySubscription, error) {
	subs, err := x.dir.Subscriptions(ctx)
	if err != nil {
		return nil, fmt.Errorf("read subscriptions: %w", err)
	}
	return subs, nil
}

func subActive(s closure.CompanySubscription) bool {
	return s.Status == "Enabled" || s.Status == "Warning"
}

// channelGate is the gate kind of a channel.
func channelGate(channel string) closure.GateKind {
	switch channel {
	case closure.ChannelCSP:
		return closure.GateSubscriptionCSP
	case closure.ChannelSelfService:
		return closure.GateSelfService
	}
	return closure.GateSubscriptionDirect
}

// subParams describes subscriptions for a gate: ids (for the re-check),
// a readable list, partner tenants and the latest ETA.
func subParams(subs []closure.CompanySubscription) (map[string]string, time.Time) {
	sort.Slice(subs, func(i, j int) bool { return subs[i].ID < subs[j].ID })
	var ids, lines []string
	partners := map[string]bool{}
	var eta time.Time
	for _, s := range subs {
		ids = append(ids, s.ID)
		line := fmt.Sprintf("%s (%s, %s", s.SkuPartNumber, s.ID, s.Status)
		if !s.NextLifecycle.IsZero() {
			line += ", next change " + s.NextLifecycle.UTC().Format("2006-01-02")
			if s.NextLifecycle.After(eta) {
				eta = s.NextLifecycle
			}
		}
		lines = append(lines, line+")")
		if s.OwnerTenantID != "" {
			partners[s.OwnerTenantID] = true
		}
	}
	p := map[string]string{
		"ids": strings.Join(ids, ","), "subscriptions": strings.Join(lines, "; "),
		"count": fmt.Sprint(len(subs)), "eta": "unknown",
	}
	if !eta.IsZero() {
		p["eta"] = eta.UTC().Format(time.RFC3339)
	}
	if len(partners) > 0 {
		p["partners"] = strings.Join(sortedKeys(partners), ", ")
	}
	return p, eta
}

// ensureBillingGates opens the gates of steps 2 and 3 once, when
// execution starts. It reports whether it opened any.
func (x *tenantWork) ensureBillingGates(ctx context.Context, req *closure.Request) (bool, error) {
	if hasGateOf(req, closure.GateAzure) {
		return false, nil
	}
	subs, err := x.subscriptions(ctx)
	if err != nil {
		return false, err
	}
	if err := x.openChannelGates(ctx, req, subs); err != nil {
		return false, err
	}
	if _, err := x.openGate(ctx, closure.Gate{ID: "2.azure", Step: closure.StepCancelSubscriptions, Kind: closure.GateAzure,
		Attest: []string{closure.SentenceNoAzure}}); err != nil {
		return false, err
	}
	if err := x.openDeleteGate(ctx, req, subs); err != nil {
		return false, err
	}
	return true, nil
}

// openChannelGates opens a step-2 gate per channel that has active
// subscriptions and no open gate.
func (x *tenantWork) openChannelGates(ctx context.Context, req *closure.Request, subs []closure.CompanySubscription) error {
	byChannel := map[string][]closure.CompanySubscription{}
	for _, s := range subs {
		// A self-service product waits until it is removed (Deleted or
		// gone), since its removal is one action in Entra, not a Billing
		// cancellation followed by a deletion.
		if subActive(s) || (s.SelfService && s.Status != "Deleted") {
			c := closure.ChannelOf(s, req.TenantID)
			byChannel[c] = append(byChannel[c], s)
		}
	}
	for _, c := range sortedKeys(byChannel) {
		kind := channelGate(c)
		if len(openGatesOf(req, kind)) > 0 {
			continue
		}
		p, eta := subParams(byChannel[c])
		p["channel"] = c
		if _, err := x.openGate(ctx, closure.Gate{ID: "2." + c, Step: closure.StepCancelSubscriptions, Kind: kind, Params: p, ETA: eta}); err != nil {
			return err
		}
	}
	return nil
}

// openDeleteGate opens step 3's gate when a subscription is not Deleted.
func (x *tenantWork) openDeleteGate(ctx context.Context, req *closure.Request, subs []closure.CompanySubscription) error {
	var left []closure.CompanySubscription
	for _, s := range subs {
		if s.Status != "Deleted" && !s.SelfService { // removed at step 2's own gate
			left = append(left, s)
		}
	}
	if len(left) == 0 || len(openGatesOf(req, closure.GateDeleteSubscriptions)) > 0 {
		return nil
	}
	p, eta := subParams(left)
	_, err := x.openGate(ctx, closure.Gate{ID: "3.delete", Step: closure.StepDeleteSubscriptions, Kind: closure.GateDeleteSubscriptions, Params: p, ETA: eta})
	return err
}

// stepCancel is step 2: done when no subscription is Enabled or Warning
// and the Azure attestation's gate is satisfied.
func (x *tenantWork) stepCancel(ctx context.Context, req *closure.Request) (*Wait, error) {
	subs, err := x.subscriptions(ctx)
	if err != nil {
		return nil, err
	}
	if err := x.openChannelGates(ctx, req, subs); err != nil {
		return nil, err
	}
	if !hasGateOf(req, closure.GateAzure) {
		if _, err := x.openGate(ctx, closure.Gate{ID: "2.azure", Step: closure.StepCancelSubscriptions, Kind: closure.GateAzure, Attest: []string{closure.SentenceNoAzure}}); err != nil {
			return nil, err
		}
	}
	return x.finishGatedStep(ctx, closure.StepCancelSubscriptions, func() (bool, string) {
		n := 0
		for _, s := range subs {
			if subActive(s) {
				n++
			}
		}
		return n == 0, "no active subscription; Azure attested"
	})
}

// stepDeleteSubscriptions is step 3: done when every subscription is
// Deleted or absent.
func (x *tenantWork) stepDeleteSubscriptions(ctx context.Context, req *closure.Request) (*Wait, error) {
	subs, err := x.subscriptions(ctx)
	if err != nil {
		return nil, err
	}
	if err := x.openDeleteGate(ctx, req, subs); err != nil {
		return nil, err
	}
	return x.finishGatedStep(ctx, closure.StepDeleteSubscriptions, func() (bool, string) {
		for _, s := range subs {
			if s.Status != "Deleted" {
				return false, ""
			}
		}
		return true, fmt.Sprintf("%d subscriptions deleted or gone", len(req.Facts.Subscriptions))
	})
}

// finishGatedStep waits while a gate of the step is open, and finishes the
// step when its check passes.
func (x *tenantWork) finishGatedStep(ctx context.Context, step int, check func() (bool, string)) (*Wait, error) {
	req, err := x.r.store().Get(ctx, x.id)
	if err != nil {
		return nil, err
	}
	if !runningAt(step)(req) {
		return nil, errStopped
	}
	if len(req.BlockingGates()) > 0 {
		_, err := x.commit(ctx, closure.System.Settle)
		return nil, err
	}
	ok, note := check()
	if !ok {
		// The check still fails with every gate satisfied: something
		// changed back; wait for the next re-check (drift catches the rest).
		return &Wait{Until: x.now().Add(x.r.recheckEvery()), Reason: fmt.Sprintf("step %d check not met", step)}, nil
	}
	_, err = x.commitStep(ctx, step, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
		return s.StepDone(q, note)
	})
	return nil, err
}

// recheckSubscriptionGate satisfies a billing gate whose subscriptions
// are done, or records progress (fewer left, a new ETA).
func (x *tenantWork) recheckSubscriptionGate(ctx context.Context, g closure.Gate, subs []closure.CompanySubscription) (bool, error) {
	var left []closure.CompanySubscription
	for _, s := range subs {
		switch g.Kind {
		case closure.GateDeleteSubscriptions:
			if s.Status != "Deleted" && !s.SelfService {
				left = append(left, s)
			}
		case closure.GateSelfService:
			if s.SelfService && s.Status != "Deleted" {
				left = append(left, s)
			}
		default:
			if subActive(s) && channelGate(closure.ChannelOf(s, x.tenant.ID)) == g.Kind {
				left = append(left, s)
			}
		}
	}
	if len(left) == 0 {
		q, err := x.commit(ctx, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
			return s.SatisfyGate(q, g.ID)
		})
		x.gateChanged(ctx, q, g.ID)
		return true, err
	}
	p, eta := subParams(left)
	if p["ids"] == g.Params["ids"] && eta.Equal(g.ETA) && p["subscriptions"] == g.Params["subscriptions"] {
		return false, nil
	}
	q, err := x.commit(ctx, func(s closure.System, q *closure.Request) (*closure.Request, closure.Event, error) {
		return s.GateUpdate(q, g.ID, eta, p, fmt.Sprintf("%d subscriptions left", len(left)))
	})
	x.gateChanged(ctx, q, g.ID)
	return false, err
}
