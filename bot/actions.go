package bot

import (
	"context"
	"errors"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/closebot/closebot/bot/blocks"
	"github.com/closebot/closebot/bot/outbound"
	"github.com/closebot/closebot/closure"
)

// clickFreshness is how current a click's group membership must be: every
// click that decides something reads Slack now; Approve and Reject only
// open their modal here (decided fresh at its submission); the stops
// (Pause, Abort, Cancel) may fall back to a recent read when Slack fails.
func clickFreshness(actionID string) freshness {
	switch actionID {
	case blocks.ActionApprove, blocks.ActionReject:
		return cachedGroups
	case blocks.ActionPause, blocks.ActionAbort, blocks.ActionCancel:
		return stopGroups
	}
	return freshGroups
}

// action handles a button click: the value is re-checked against the
// stored request and where the click came from, then the actor is
// screened and the domain decides.
func (b *Bot) action(ctx context.Context, j *job) error {
	if len(j.cb.ActionCallback.BlockActions) == 0 {
		return errForged
	}
	ba := j.cb.ActionCallback.BlockActions[0]
	v, err := blocks.ParseValue(ba.Value)
	if err != nil {
		return errForged
	}
	r, err := b.deps.Service.Lookup(ctx, v.Request)
	if errors.Is(err, closure.ErrNotFound) {
		return errForged
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", v.Request, err)
	}
	if v.Version == 0 || v.Version > r.Version {
		return errForged // drawn at a version the request never had
	}
	j.replyIn = r.Channel
	if err := b.checkClickMessage(ctx, j, r.ID); err != nil {
		return err
	}
	if err := b.checkClickChannel(ctx, j.o.channel, r); err != nil {
		return err
	}
	act, _ := blocks.ActionOf(ba.ActionID)
	a, err := b.actorFor(ctx, j.o.user, clickFreshness(ba.ActionID), act, r, "")
	if err != nil {
		return err
	}
	svc := b.deps.Service
	switch ba.ActionID {
	case blocks.ActionApprove:
		return b.openApproval(ctx, j, a, r, v)
	case blocks.ActionReject:
		return b.openReject(ctx, j, a, r, v)
	// The Service wakes the runner after the decisions that need it.
	case blocks.ActionCancel:
		_, _, err = svc.Cancel(ctx, a, r.ID)
	case blocks.ActionPause:
		_, _, err = svc.Pause(ctx, a, r.ID)
	case blocks.ActionAbort:
		_, _, err = svc.Abort(ctx, a, r.ID)
	case blocks.ActionResume:
		_, _, err = svc.Resume(ctx, a, r.ID, v.Version)
	case blocks.ActionRetry:
		_, _, err = svc.Retry(ctx, a, r.ID, v.Version)
	case blocks.ActionRestore:
		_, _, err = svc.Restore(ctx, a, r.ID, v.Version)
	case blocks.ActionConfirmStep5:
		_, _, err = svc.Confirm(ctx, a, r.ID, v.Version)
	case blocks.ActionPurge:
		_, _, err = svc.Purge(ctx, a, r.ID, v.Version)
	case blocks.ActionRecheck:
		if v.Gate == "" {
			return errForged
		}
		_, err = svc.Recheck(ctx, a, r.ID, v.Gate)
		switch {
		case err == nil:
			b.answer(ctx, j, blocks.Notice("Re-checking "+r.ID+" now; the gate's message will show the result."))
		case closure.RuleOf(err) == closure.RuleGateSatisfied:
			// closebot's own re-check got there first: what the person
			// wanted is done, which is news, not a refusal.
			b.answer(ctx, j, blocks.Notice("That gate of "+r.ID+" is already satisfied; there is nothing left to re-check."))
			err = nil
		}
	case blocks.ActionAttest:
		if v.Gate == "" || v.Sentence == "" {
			return errForged
		}
		_, _, err = svc.Attest(ctx, a, r.ID, v.Gate, v.Sentence)
	default:
		return errForged
	}
	return err
}

// checkClickMessage refuses a click on a message that is not one of the
// request's own button-carrying messages as the store knows them (its
// card, step and gate messages, gate DMs): a value naming one request on
// another request's message, or on a message closebot has since replaced
// by a re-post, decides nothing. A local read; no Web API call.
func (b *Bot) checkClickMessage(ctx context.Context, j *job, reqID string) error {
	c := j.cb.Container
	ts := c.MessageTs
	if ts == "" {
		ts = j.cb.Message.Timestamp
	}
	if ts == "" || c.IsEphemeral || j.o.channel == "" {
		return errForged
	}
	refs, err := b.deps.Store.Refs(ctx, reqID)
	if err != nil {
		return fmt.Errorf("refs of %s: %w", reqID, err)
	}
	for name, ref := range refs {
		if outbound.ButtonRef(name) && ref.TS == ts && ref.Channel == j.o.channel {
			return nil
		}
	}
	return errForged
}

// openApproval checks with the cached groups that the clicker could
// approve, then opens the approval modal inside the trigger's 3 s. The
// modal pins the version the card was drawn at, so a card drawn before a
// re-pend can never approve the new plan.
func (b *Bot) openApproval(ctx context.Context, j *job, a closure.Actor, r *closure.Request, v blocks.Value) error {
	if err := b.deps.Service.Check(a, closure.ActApprove, r, v.Version); err != nil {
		return err
	}
	if r.Plan == nil {
		return errNoPlan
	}
	if r.Interrupted != nil {
		return b.openReApproval(ctx, j, r)
	}
	return b.openView(ctx, j, approvalModal(r, v.Version))
}

func approvalModal(r *closure.Request, version uint64) slack.ModalViewRequest {
	return blocks.ApprovalModal(blocks.ModalView{
		RequestID: r.ID, Version: version, PlanDigest: r.PlanDigest, TenantDomain: r.TenantDomain,
		Requester: r.Requester, Reason: r.Reason, Items: approvalItems(r),
	})
}

// openReApproval is Approve on a request sent back for approval after it
// started: a note opens at once (the trigger lives 3 s), closebot reads the
// tenant again, and the note becomes the approval modal for the plan as it
// is now (a new round if it changed again, so the card and the typed checks
// show the current numbers), or says what preflight refuses.
func (b *Bot) openReApproval(ctx context.Context, j *job, r *closure.Request) error {
	title := "Approve " + r.ID
	resp, err := b.api.OpenViewContext(ctx, j.cb.TriggerID, blocks.NoteModal(title,
		"Reading "+r.TenantDomain+" again before you approve: the plan must be the tenant as it is now."))
	if err != nil {
		return fmt.Errorf("views.open: %w", err)
	}
	var next slack.ModalViewRequest
	got, perr := b.deps.Service.PrepareApproval(ctx, r.ID)
	switch {
	case perr == nil && got.Plan != nil:
		next = approvalModal(got, got.Version)
	case perr == nil:
		next = blocks.NoteModal(title, errNoPlan.text)
	default:
		next = blocks.NoteModal(title, explain(b.log, perr, "request", r.ID))
	}
	if _, err := b.api.UpdateViewContext(ctx, next, "", resp.Hash, resp.ID); err != nil {
		return fmt.Errorf("views.update: %w", err)
	}
	return nil
}

// openReject opens the reject modal (a reason is required).
func (b *Bot) openReject(ctx context.Context, j *job, a closure.Actor, r *closure.Request, v blocks.Value) error {
	if err := b.deps.Service.Check(a, closure.ActReject, r, v.Version); err != nil {
		return err
	}
	return b.openView(ctx, j, blocks.RejectModal(blocks.Metadata{Request: r.ID, Version: v.Version, Digest: r.PlanDigest}))
}

func (b *Bot) openView(ctx context.Context, j *job, modal slack.ModalViewRequest) error {
	if _, err := b.api.OpenViewContext(ctx, j.cb.TriggerID, modal); err != nil {
		return fmt.Errorf("views.open: %w", err)
	}
	return nil
}
