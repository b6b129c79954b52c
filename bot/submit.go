package bot

import (
	"context"
	"fmt"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/closebot/closebot/bot/blocks"
	"github.com/closebot/closebot/closure"
)

// approvalItems are the irreversible items the approval modal asks the
// approver to tick for this request's plan; the same list renders the
// modal and validates its submission.
func approvalItems(req *closure.Request) []blocks.Irreversible {
	var items []blocks.Irreversible
	if req.Facts.SyncEnabled || (req.Plan != nil && req.Plan.SyncEnabled) {
		items = append(items, blocks.ItemSyncOff)
	}
	items = append(items, blocks.ItemDataBackedUp, blocks.ItemDevicesHandled, blocks.ItemNoHiddenHolds)
	if req.Plan != nil && req.Plan.MultiTenantAppsTotal > 0 {
		items = append(items, blocks.ItemMultiTenant)
	}
	return append(items, blocks.ItemTenantDeleted)
}

// submission validates a modal submission locally (metadata, the stored
// request, the typed values) and acks it: with inline errors when the
// values are wrong (the modal stays open, nothing is decided), empty
// otherwise. It reports whether a job goes to the workers.
func (b *Bot) submission(ctx context.Context, sm *socketmode.Client, req *socketmode.Request, j *job) bool {
	view := j.cb.View
	if err := b.checkEnvelope(j.o, j.appID); err != nil || j.paused {
		b.ack(ctx, sm, req, nil)
		return true // the worker refuses (or drops) it
	}
	switch view.CallbackID {
	case blocks.CallbackApproval:
		meta, r, err := b.submittedRequest(ctx, view.PrivateMetadata)
		if err != nil {
			b.ack(ctx, sm, req, nil)
			j.kind, j.err = jobRefuse, err
			return true
		}
		j.replyIn = r.Channel
		if r.StaleForm(meta.Version, meta.Digest) != "" {
			// Opened before the plan changed: the typed values are beside
			// the point; the domain refuses it and says why.
			b.ack(ctx, sm, req, nil)
			j.kind, j.meta = jobApprove, meta
			return true
		}
		if r.Plan == nil {
			b.ack(ctx, sm, req, nil)
			j.kind, j.err = jobRefuse, errNoPlan
			return true
		}
		errs := blocks.ValidateApproval(stateValues(view), blocks.Expected{
			TenantDomain: r.TenantDomain, Users: r.Plan.UsersToDelete, Items: approvalItems(r),
		})
		if len(errs) > 0 {
			b.ack(ctx, sm, req, slack.NewErrorsViewSubmissionResponse(errs))
			return false
		}
		b.ack(ctx, sm, req, nil)
		j.kind, j.meta = jobApprove, meta
		return true
	case blocks.CallbackReject:
		meta, r, err := b.submittedRequest(ctx, view.PrivateMetadata)
		if err != nil {
			b.ack(ctx, sm, req, nil)
			j.kind, j.err = jobRefuse, err
			return true
		}
		j.replyIn = r.Channel
		reason, errs := blocks.ValidateReject(stateValues(view))
		if len(errs) > 0 {
			b.ack(ctx, sm, req, slack.NewErrorsViewSubmissionResponse(errs))
			return false
		}
		b.ack(ctx, sm, req, nil)
		j.kind, j.meta, j.reason = jobReject, meta, reason
		return true
	}
	b.ack(ctx, sm, req, nil)
	return false
}

// stateValues are a submitted view's input values; a submission without
// state (a forged or truncated envelope) has none, so every required input
// is reported missing instead of the loop panicking.
func stateValues(v slack.View) map[string]map[string]slack.BlockAction {
	if v.State == nil {
		return nil
	}
	return v.State.Values
}

// submittedRequest decodes a modal's private_metadata and reads the
// request it names (a local read: no Web API call before the ack).
func (b *Bot) submittedRequest(ctx context.Context, metadata string) (blocks.Metadata, *closure.Request, error) {
	meta, err := blocks.ParseMetadata(metadata)
	if err != nil {
		return blocks.Metadata{}, nil, errForged
	}
	r, err := b.deps.Service.Lookup(ctx, meta.Request)
	if err != nil {
		return meta, nil, err
	}
	if meta.Version == 0 || meta.Version > r.Version {
		return meta, r, errForged
	}
	return meta, r, nil
}

// approve decides a validated approval: the request's channel, a fresh
// users.info and group membership, then the domain's compare-and-set.
func (b *Bot) approve(ctx context.Context, j *job) error {
	r, err := b.deps.Service.Lookup(ctx, j.meta.Request)
	if err != nil {
		return err
	}
	j.replyIn = r.Channel
	if err := b.checkChannel(ctx, r.Channel); err != nil {
		return err
	}
	a, err := b.actorFor(ctx, j.o.user, freshGroups, closure.ActApprove, r, "")
	if err != nil {
		return err
	}
	got, _, err := b.deps.Service.Approve(ctx, a, r.ID, closure.ApproveInput{Version: j.meta.Version, PlanDigest: j.meta.Digest})
	if err != nil {
		return err
	}
	switch got.State {
	case closure.StateApproved, closure.StateRunning:
		// The Service has started the runner.
	default:
		b.answer(ctx, j, blocks.Notice(fmt.Sprintf("Your approval of %s is counted (%d of %d needed).",
			got.ID, got.CountApprovals(got.ConfigDigest), b.deps.Policy.Required)))
	}
	return nil
}

// reject decides a reject submission.
func (b *Bot) reject(ctx context.Context, j *job) error {
	r, err := b.deps.Service.Lookup(ctx, j.meta.Request)
	if err != nil {
		return err
	}
	j.replyIn = r.Channel
	if err := b.checkChannel(ctx, r.Channel); err != nil {
		return err
	}
	a, err := b.actorFor(ctx, j.o.user, freshGroups, closure.ActReject, r, "")
	if err != nil {
		return err
	}
	_, _, err = b.deps.Service.Reject(ctx, a, r.ID, closure.RejectInput{Version: j.meta.Version, PlanDigest: j.meta.Digest, Reason: j.reason})
	return err
}
