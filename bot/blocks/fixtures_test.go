package blocks

import (
	"fmt"
	"strings"
	"time"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/closuretest"
)

// Fixed instants keep the golden files stable.
var (
	t0      = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	hostile = "<!channel> <@U0BOB> <https://evil.example|x> *bold* AT&T"
	digest  = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809"
	mac     = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0"
)

func baseCard(state closure.State) CardView {
	return CardView{
		RequestID: "CT-12", Version: 7, PlanDigest: digest,
		TenantDomain: "contoso.onmicrosoft.com", TenantID: "00000000-0000-0000-0000-0000000000c1",
		TenantName: "Contoso <Ltd> & Co", Requester: "U0ALICE", Reason: "Company dissolved, ticket OPS-1234",
		State: state, CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour), Now: t0.Add(2 * time.Hour),
		Summary: []Line{
			{Label: "users to delete", Count: 1234, Detail: "1,100 members, 120 guests, 10 synced, 4 privileged"},
			{Label: "app registrations to delete", Count: 12, Detail: "2 multi-tenant"},
			{Label: "service principals to delete", Count: 9},
			{Label: "subscriptions to cancel", Count: 3, Detail: "2 direct, 1 CSP"},
			{Label: "devices and Microsoft 365 groups at stake", Count: 87},
		},
		Top: []ItemGroup{
			{Title: "Privileged users", Items: []string{"ceo@contoso.com", "it-admin@contoso.com", "helpdesk@contoso.com", "sec@contoso.com"}, Total: 4},
			{Title: "App registrations", Items: []string{"Payroll", "Intranet <beta>", "HR & Benefits", "Sales CRM", "Timesheets", "Backup agent"}, Total: 12},
			{Title: "Subscriptions", Items: []string{"SPE_E3 (Enabled)", "EMS (Warning)", "POWER_BI_PRO (Enabled, CSP)"}, Total: 3},
		},
		Warnings: []Warning{
			{Kind: WarnMultiTenantApps, Items: []string{"Sales CRM", "Partner portal"}, Total: 2},
			{Kind: WarnBlockingCAPolicies, Items: []string{"Block legacy auth", "Require compliant device"}, Total: 2},
			{Kind: WarnSecurityDefaults},
			{Kind: WarnSyncOn},
			{Kind: WarnRestrictedUnits, Items: []string{"Executives"}, Total: 1},
			{Kind: WarnEligibleGlobalAdmin, Items: []string{"backup-admin@contoso.com"}, Total: 1},
		},
		Approvers: []string{"U0BOB", "S0SECLEAD"},
		Required:  2,
		Step:      1,
	}
}

func cardFixtures() map[string]CardView {
	pending := baseCard(closure.StatePending)
	pending.Approvals = []string{"U0BOB"}

	running := baseCard(closure.StateRunning)
	running.Step = 2

	paused := baseCard(closure.StatePaused)
	paused.Step = 1
	paused.PausedFrom = closure.StateRunning

	window := baseCard(closure.StateWaitingWindow)
	window.WindowEndsAt = t0.Add(3 * time.Hour)

	gate := baseCard(closure.StateGate)
	gate.Step = 3

	stuck := baseCard(closure.StateStuck)
	stuck.Step = 3

	failed := baseCard(closure.StateFailed)
	failed.Step = 1
	failed.FailReason = "delete user 42: 500 InternalServerError: <html>oops</html>"

	aborted := baseCard(closure.StateAborted)
	aborted.RestoreDeadline = t0.Add(30 * 24 * time.Hour)

	abortedLate := baseCard(closure.StateAborted)
	abortedLate.RestoreDeadline = t0.Add(time.Hour) // Now is t0+2h

	closed := baseCard(closure.StateClosed)
	closed.ClosedAt = t0.Add(9 * 24 * time.Hour)

	rejected := baseCard(closure.StateRejected)
	rejected.RejectedBy = "U0BOB"
	rejected.RejectReason = "Wrong tenant <!here>"

	drift := baseCard(closure.StatePending)
	drift.DriftLines = []string{"app registration added: Payroll v2", "sync turned on"}

	return map[string]CardView{
		"card_pending": pending, "card_running": running, "card_paused": paused,
		"card_waiting_window": window, "card_gate": gate, "card_stuck": stuck,
		"card_failed": failed, "card_aborted_restore": aborted, "card_aborted_late": abortedLate,
		"card_closed": closed, "card_rejected": rejected, "card_pending_drift": drift,
	}
}

// bigCard is a tenant with 500 apps and 200 conditional-access policies.
func bigCard() CardView {
	v := baseCard(closure.StatePending)
	apps := make([]string, 500)
	for i := range apps {
		apps[i] = fmt.Sprintf("Line-of-business application number %03d <with & markup>", i)
	}
	pols := make([]string, 200)
	for i := range pols {
		pols[i] = fmt.Sprintf("Conditional access policy %03d requiring compliant devices", i)
	}
	v.Summary = append(v.Summary, Line{Label: "conditional-access policies that could block the kept admin", Count: 200})
	v.Top = nil
	for i := 0; i < 12; i++ { // more kinds than the card has room for
		v.Top = append(v.Top, ItemGroup{Title: fmt.Sprintf("Kind %d", i), Items: apps, Total: 500})
	}
	v.Top[0].Title = "App registrations"
	v.Top[1] = ItemGroup{Title: "Conditional-access policies", Items: pols, Total: 200}
	v.Warnings[0] = Warning{Kind: WarnMultiTenantApps, Items: apps, Total: 500}
	v.Warnings[1] = Warning{Kind: WarnBlockingCAPolicies, Items: pols, Total: 200}
	v.Reason = strings.Repeat("A very long reason <!channel>. ", 200)
	v.Approvers = nil
	for i := 0; i < 40; i++ {
		v.Approvers = append(v.Approvers, fmt.Sprintf("U0APPROVER%02d", i))
	}
	return v
}

func stepFixtures() map[string]StepView {
	base := StepView{RequestID: "CT-12", Version: 9, State: closure.StateRunning, Seq: 42, MAC: mac, StartedAt: t0}
	pending := base
	pending.Step, pending.Status, pending.Seq, pending.StartedAt = 1, closure.StepPending, 0, time.Time{}
	running := base
	running.Step, running.Status, running.Done, running.Total, running.Refused = 1, closure.StepRunning, 412, 1234, 3
	waiting := base
	waiting.Step, waiting.Status, waiting.Note = 2, closure.StepWaiting, "3 subscriptions wait for cancellation"
	done := base
	done.Step, done.Status, done.Done, done.Total, done.FinishedAt = 1, closure.StepDone, 1234, 1234, t0.Add(75*time.Minute)
	done.Note = "1,234 users deleted; only admin@contoso.onmicrosoft.com remains"
	failed := base
	failed.Step, failed.Status, failed.Done, failed.Total, failed.FinishedAt = 4, closure.StepFailed, 2, 5, t0.Add(time.Minute)
	failed.Note = "set per-user MFA for <bob@contoso.com>: 500 InternalServerError"
	confirm := base
	confirm.Step, confirm.Status = 5, closure.StepRunning
	confirm.AwaitingConfirmation, confirm.Apps, confirm.ServicePrincipals, confirm.Required = true, 12, 9, 2
	confirm.Confirmations = []string{"U0BOB"}
	purge := base
	purge.Step, purge.Status, purge.Purge, purge.Done, purge.Total = 5, closure.StepWaiting, true, 21, 21
	purge.State = closure.StateGate
	purge.Note = "apps deleted; waiting for the kept admin to delete the tenant"
	return map[string]StepView{
		"step_pending": pending, "step_running": running, "step_waiting": waiting, "step_done": done,
		"step_failed": failed, "step5_confirm": confirm, "step5_purge": purge,
	}
}

// jitTenant is a tenant whose write access is granted per closure.
var jitTenant = closure.TenantPolicy{ID: "00000000-0000-0000-0000-0000000000c1", Domain: "contoso.onmicrosoft.com",
	ClientID: "11111111-1111-1111-1111-111111111111", WriteAccess: closure.WriteJustInTime}

func gateFixtures() map[string]GateView {
	base := GateView{RequestID: "CT-12", Version: 11, State: closure.StateGate, Assignee: "U0CAROL", OpenedAt: t0,
		RecheckEvery: 10 * time.Minute, Seq: 57, MAC: mac}
	users := "exec1@contoso.com, exec2@contoso.com, <@U0BOB>@contoso.com"
	subs := "SPE_E3 (5f1c…, Enabled); EMS (77aa…, Warning, next change 2026-04-11)"
	// g builds the view the way the bot does: the domain's gate, its
	// instruction from closure.InstructionFor.
	g := func(kind closure.GateKind, step int, params map[string]string, f func(*GateView)) GateView {
		v := base
		v.Kind, v.Step, v.GateID = kind, step, fmt.Sprintf("%d.%s", step, kind)
		v.Instruction = closure.InstructionFor(closure.Gate{Kind: kind, Instructions: string(kind), Params: params})
		if f != nil {
			f(&v)
		}
		return v
	}
	return map[string]GateView{
		"gate_sync_off": g(closure.GateSyncOff, 1, map[string]string{
			"organization": "00000000-0000-0000-0000-0000000000c1", "error": "403 Authorization_RequestDenied: Insufficient privileges"}, nil),
		"gate_restricted_admin_unit": g(closure.GateRestrictedAdminUnit, 1, map[string]string{"units": "Executives", "users": users, "count": "57"}, nil),
		"gate_user_refused": g(closure.GateUserRefused, 1, map[string]string{
			"users": "exec1@contoso.com, exec2@contoso.com", "error": "403 Authorization_RequestDenied", "count": "2"}, nil),
		"gate_subscription_direct": g(closure.GateSubscriptionDirect, 2, map[string]string{"subscriptions": subs, "eta": "unknown"}, nil),
		"gate_subscription_csp": g(closure.GateSubscriptionCSP, 2, map[string]string{
			"subscriptions": "SPE_E3 (5f1c…, Enabled)", "partners": "9a1b2c3d-0000-0000-0000-00000000ca5e"}, nil),
		"gate_subscription_mca": g(closure.GateSubscriptionMCA, 2, map[string]string{
			"subscriptions": "EMS (77aa…, Warning)", "eta": "2026-04-11T09:30:00Z"}, func(v *GateView) { v.ETA = t0.Add(40 * 24 * time.Hour) }),
		"gate_azure": g(closure.GateAzure, 2, nil, func(v *GateView) { v.Attest = []string{closure.SentenceNoAzure} }),
		"gate_delete_subscriptions": g(closure.GateDeleteSubscriptions, 3, map[string]string{"subscriptions": subs, "eta": "2026-03-05T09:30:00Z"},
			func(v *GateView) { v.ETA = t0.Add(72 * time.Hour) }),
		"gate_per_user_mfa": g(closure.GatePerUserMFA, 4, map[string]string{"users": "exec1@contoso.com", "error": "400 BadRequest"}, nil),
		"gate_legacy_mfa":   g(closure.GateLegacyMFA, 4, nil, func(v *GateView) { v.Attest = []string{closure.SentenceNoLegacyMFA} }),
		"gate_delete_tenant": g(closure.GateDeleteTenant, 5, map[string]string{
			"keep": "admin@contoso.onmicrosoft.com", "closebot_app": "11111111-1111-1111-1111-111111111111",
			"tenant": "contoso.onmicrosoft.com (00000000-0000-0000-0000-0000000000c1)", "confirmations": "3", "span": "1h0m0s",
			"disabled": "2", "refused": "none"}, nil),
		"gate_grant_write_access": g(closure.GateGrantWriteAccess, 1,
			closure.WriteGrantParams(jitTenant, closuretest.HarnessWriteGrants(), closuretest.HarnessWriteGrants(), false), nil),
		"gate_remove_write_access": g(closure.GateRemoveWriteAccess, 5,
			closure.WriteGrantParams(jitTenant, closuretest.HarnessWriteGrants(), closuretest.HarnessWriteGrants()[4:], true), nil),
		"gate_azure_attested": g(closure.GateAzure, 2, nil, func(v *GateView) {
			v.Attest = []string{closure.SentenceNoAzure}
			v.Attested = []AttestationView{{Sentence: closure.SentenceNoAzure, By: "U0CAROL", At: t0.Add(time.Hour)}}
			v.SatisfiedAt = t0.Add(time.Hour)
		}),
		"gate_stuck": g(closure.GateSubscriptionCSP, 2, map[string]string{
			"subscriptions": subs, "partners": "9a1b2c3d-0000-0000-0000-00000000ca5e"}, func(v *GateView) {
			v.Stuck, v.LastChecked = true, t0.Add(15*24*time.Hour)
		}),
	}
}

func summaryFixture() SummaryView {
	s := closure.Summary{
		Request: "CT-12", Tenant: "contoso.onmicrosoft.com", Requester: "U0ALICE",
		Approvers: []string{"U0BOB", "U0DAVE"}, Confirmers: []string{"U0BOB", "U0DAVE"},
		Attestations: []closure.Attestation{
			{Gate: "2.azure", Sentence: closure.SentenceNoAzure, By: "U0CAROL", At: t0.Add(26 * time.Hour)},
			{Gate: "4.legacy_mfa", Sentence: closure.SentenceNoLegacyMFA, By: "U0BOB", At: t0.Add(80 * time.Hour)},
		},
		Opened: t0, Closed: t0.Add(9*24*time.Hour + 3*time.Hour), Duration: 9*24*time.Hour + 3*time.Hour,
		StepDurations: [closure.NumSteps]time.Duration{75 * time.Minute, 40 * time.Hour, 72 * time.Hour, 2 * time.Minute, 26 * time.Hour},
		StepCounts:    [closure.NumSteps]int{1234, 3, 3, 0, 21},
		ChainHead:     closure.Event{Request: "CT-12", Seq: 87, MAC: mac},
	}
	return SummaryView{Summary: s, TenantID: "00000000-0000-0000-0000-0000000000c1"}
}

const usage = `Usage: /close-tenant <tenant> <reason…>
  /close-tenant plan <tenant>       preflight and plan, no writes
  /close-tenant status [CT-n]       one request in detail, or the open ones
  /close-tenant list                recent requests
  /close-tenant pause|resume|abort CT-n
  /close-tenant help
Did you mean "status"?`

func modalFixture() ModalView {
	return ModalView{
		RequestID: "CT-12", Version: 7, PlanDigest: digest, TenantDomain: "contoso.onmicrosoft.com",
		Requester: "U0ALICE", Reason: hostile,
		Items: []Irreversible{ItemSyncOff, ItemDataBackedUp, ItemDevicesHandled, ItemMultiTenant},
	}
}

// eventFixtures are the thread replies, one per event closebot tells the
// thread about; user text in details and reasons is hostile.
func eventFixtures() map[string]EventView {
	base := EventView{RequestID: "CT-12", Actor: "U0BOB", Required: 2, Seq: 42, MAC: mac}
	e := func(a closure.EventAction, f func(*EventView)) EventView {
		v := base
		v.Action = a
		if f != nil {
			f(&v)
		}
		return v
	}
	return map[string]EventView{
		"event_approve": e(closure.EvApprove, func(v *EventView) { v.Approvals = 1 }),
		"event_reject":  e(closure.EvReject, func(v *EventView) { v.RejectReason = "Wrong tenant " + hostile }),
		"event_cancel":  e(closure.EvCancel, func(v *EventView) { v.Actor = "U0ALICE" }),
		"event_pause":   e(closure.EvPause, nil),
		"event_pause_why": e(closure.EvPause, func(v *EventView) {
			v.Actor, v.Detail = "closebot", map[string]string{"why": "another instance " + hostile}
		}),
		"event_resume":       e(closure.EvResume, nil),
		"event_abort":        e(closure.EvAbort, nil),
		"event_retry":        e(closure.EvRetry, nil),
		"event_confirm":      e(closure.EvConfirm, func(v *EventView) { v.Confirmations = 2 }),
		"event_purge":        e(closure.EvPurge, nil),
		"event_restore":      e(closure.EvRestore, nil),
		"event_attest":       e(closure.EvAttest, func(v *EventView) { v.Detail = map[string]string{"sentence": closure.SentenceNoAzure} }),
		"event_attest_other": e(closure.EvAttest, func(v *EventView) { v.Detail = map[string]string{"sentence": hostile} }),
		"event_expire":       e(closure.EvExpire, func(v *EventView) { v.Actor = "" }),
		"event_proof_start":  e(closure.EvProofStart, func(v *EventView) { v.Actor = "closebot" }),
		"event_proof_passed": e(closure.EvProofPassed, func(v *EventView) { v.Actor = "closebot" }),
		"event_proof_failed": e(closure.EvProofFailed, func(v *EventView) {
			v.Actor, v.Detail = "closebot", map[string]string{"why": "AADSTS50076 " + hostile}
		}),
		"event_steps_start": e(closure.EvStepsStart, func(v *EventView) { v.Actor = "closebot" }),
		"event_drift": e(closure.EvDrift, func(v *EventView) {
			v.Actor, v.Detail = "closebot", map[string]string{"change.1": "app registration added: Payroll v2", "change.2": "user added: " + hostile}
		}),
		"event_stuck": e(closure.EvStuck, func(v *EventView) { v.Actor = "closebot" }),
		"event_step_failed": e(closure.EvStepFailed, func(v *EventView) {
			v.Actor, v.FailReason = "closebot", "delete user 42: 500 <html>oops</html> "+hostile
		}),
		"event_sync_off":     e(closure.EvSyncOff, func(v *EventView) { v.Actor, v.Detail = "closebot", map[string]string{"previous": "on <!here>"} }),
		"event_restore_done": e(closure.EvRestoreDone, func(v *EventView) { v.Actor = "closebot" }),
		"event_purge_done":   e(closure.EvPurgeDone, func(v *EventView) { v.Actor = "closebot" }),
		"event_purge_none": e(closure.EvPurgeDone, func(v *EventView) {
			v.Actor, v.Detail = "closebot", map[string]string{"purged": "0", "note": "closebot's write access was removed " + hostile}
		}),
		"event_write_granted": e(closure.EvWriteGranted, func(v *EventView) {
			v.Actor, v.Detail = "closebot", map[string]string{"granted": "User.ReadWrite.All, Privileged Authentication Administrator"}
		}),
	}
}

// requesterDMFixtures are the DMs a requester gets when their request ends.
func requesterDMFixtures() map[string]RequesterDMView {
	base := RequesterDMView{RequestID: "CT-12", TenantDomain: "contoso.onmicrosoft.com", Channel: "C0OPS", Seq: 42, MAC: mac}
	closed, rejected, failed, expired := base, base, base, base
	closed.To = closure.StateClosed
	rejected.To, rejected.RejectReason = closure.StateRejected, "Wrong tenant "+hostile
	failed.To, failed.FailReason = closure.StateFailed, "delete user 42: 500 <html>oops</html>"
	expired.To, expired.Channel = closure.StateExpired, "not a channel <!here>"
	return map[string]RequesterDMView{
		"dm_requester_closed": closed, "dm_requester_rejected": rejected,
		"dm_requester_failed": failed, "dm_requester_expired": expired,
	}
}

func reminderFixtures() map[string]ReminderView {
	v := ReminderView{RequestID: "CT-12", TenantDomain: "contoso.onmicrosoft.com", Assignee: "U0CAROL", Step: 2,
		GateTitle: closure.InstructionFor(closure.Gate{Kind: closure.GateAzure}).Title, OpenedAt: t0, Seq: 57, MAC: mac}
	noUser := v
	noUser.Assignee, noUser.TenantDomain = "", "contoso <!channel>.onmicrosoft.com"
	return map[string]ReminderView{"reminder": v, "reminder_no_assignee": noUser}
}

// configChangeLines are config.DiffSnapshots lines, one of them hostile.
var configChangeLines = []string{
	"approvers: added U0DAVE, S0SECLEAD; removed U0EVE",
	"required approvals: 1 → 2",
	"tenant contoso.onmicrosoft.com: keep_slack_user U0CAROL",
	"reason " + hostile,
}
