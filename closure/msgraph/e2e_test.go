package msgraph

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/graphtest"
	"github.com/closebot/closebot/closure/pace"
)

// TestE2EFullClosure closes a seeded tenant of 300 users end to end through
// the real adapter, the real store and the emulator, the test playing every
// person: requester, approvers, the kept admin (MFA sign-in, billing,
// attestations, closebot's app, the tenant's deletion) and the partner.
func TestE2EFullClosure(t *testing.T) {
	spec := graphtest.DefaultTenantSpec(300)
	spec.SyncConversionDelay = 3 * time.Hour // synced users wait for sync-off to take
	e := newE2E(t, spec, nil)
	ctx := e.ctx()
	kept := e.tn.KeptAdmin()
	caBefore := e.tn.Count("conditionalAccessPolicy")
	require.Positive(t, caBefore)
	require.True(t, e.tn.SecurityDefaults())
	spsBefore, err := e.d.ServicePrincipals(ctx)
	require.NoError(t, err)
	appsBefore, err := e.d.Applications(ctx)
	require.NoError(t, err)

	// What step 5 may delete, told apart by what the emulator seeded (not
	// by the product's own rule): the tenant's line-of-business, SaaS and
	// SAML apps (all owned by the tenant), and the enabled service
	// principals of other publishers that block the tenant's deletion
	// (Microsoft's "Delete a tenant"): a third-party SaaS app and a legacy
	// one are deleted, the connector Graph refuses to delete is disabled.
	seededLOB := func(name string) bool {
		return strings.HasPrefix(name, "Line-of-business app") || strings.HasPrefix(name, "Multi-tenant SaaS") ||
			strings.HasPrefix(name, "Contoso SAML app")
	}
	seededOther := func(name string) bool {
		return strings.HasPrefix(name, "Fabrikam SaaS") || strings.HasPrefix(name, "Legacy app")
	}
	var deletableSPs, otherSPs, disabledSPs, untouchableSPs, deletableApps []string
	for _, sp := range spsBefore {
		switch {
		case seededLOB(sp.DisplayName):
			deletableSPs = append(deletableSPs, sp.ID)
		case seededOther(sp.DisplayName):
			otherSPs = append(otherSPs, sp.ID)
		case strings.HasPrefix(sp.DisplayName, "Northwind Connector"):
			disabledSPs = append(disabledSPs, sp.ID)
		default:
			untouchableSPs = append(untouchableSPs, sp.ID)
		}
	}
	require.Len(t, otherSPs, spec.ThirdPartySPs+spec.LegacySPs)
	require.Len(t, disabledSPs, spec.UndeletableSPs)
	var closebotApp string
	for _, a := range appsBefore {
		if strings.EqualFold(a.AppID, e.tn.ClosebotAppID) {
			closebotApp = a.ID
		} else {
			deletableApps = append(deletableApps, a.ID)
		}
	}
	require.Len(t, deletableSPs, spec.SingleTenantApps+spec.MultiTenantApps+spec.SAMLApps)
	require.Len(t, deletableApps, spec.SingleTenantApps+spec.MultiTenantApps+spec.SAMLApps)
	require.NotEmpty(t, closebotApp)
	// Microsoft's first-party SPs, managed identities and closebot's.
	require.GreaterOrEqual(t, len(untouchableSPs), 12+spec.ManagedIdentities+1)

	// 1. The requester opens the request with the plan's facts.
	plan, r := e.open()
	assert.Equal(t, kept.ID, plan.Keep.ID)
	assert.NotEmpty(t, plan.KeepAssignmentID)
	assert.True(t, plan.SyncEnabled)
	assert.True(t, plan.SecurityDefaults)
	byKind := map[closure.UserKind]int{}
	for _, u := range plan.Users {
		byKind[u.Kind]++
	}
	assert.Equal(t, map[closure.UserKind]int{
		closure.KindMember:     spec.Members + spec.Disabled,
		closure.KindGuest:      spec.Guests,
		closure.KindSynced:     spec.Synced,
		closure.KindPrivileged: spec.GlobalAdmins + spec.PrivilegedAuthAdmins + spec.UserAdmins + spec.EligibleGlobalAdmins,
	}, byKind)
	assert.Len(t, plan.EligibleGlobalAdmins, spec.EligibleGlobalAdmins)
	require.Len(t, plan.RestrictedUnits, 1)
	assert.Len(t, plan.RestrictedUnits[0].Members, spec.RestrictedAUMembers)
	channels := map[string]int{}
	for _, s := range plan.Subscriptions {
		channels[s.Channel]++
	}
	assert.Equal(t, map[string]int{closure.ChannelDirect: 4, closure.ChannelCSP: 1}, channels, "MCA is owned by the tenant: direct")
	assert.Len(t, plan.ServicePrincipals, len(deletableSPs))
	assert.Len(t, plan.OtherServicePrincipals, len(otherSPs)+len(disabledSPs), "other publishers' apps are in the plan")
	multi := 0
	for _, a := range plan.Apps {
		assert.Equal(t, a.ID != closebotApp, a.Delete, "app %s", a.Name)
		if a.MultiTenant {
			multi++
		}
	}
	assert.Equal(t, spec.MultiTenantApps, multi)
	assert.Equal(t, spec.Devices, plan.Counts.Devices)

	// 2. A second person approves; the kept admin proves they can sign in with MFA.
	r = e.approve(r, e2eBob)
	require.Equal(t, closure.StateApproved, r.State)
	e.toSteps(r.ID)
	require.Empty(t, graphWrites(e.s), "no Graph write before the steps")

	// 3. Step 1: sync off, users deleted; the restricted unit's members are refused.
	r = e.drive(r.ID, func(r *closure.Request) bool {
		return r.Step == 1 && r.State == closure.StateGate && len(r.BlockingGates()) > 0
	})
	gates := r.BlockingGates()
	require.Len(t, gates, 1)
	au := gates[0]
	assert.Equal(t, closure.GateRestrictedAdminUnit, au.Kind)
	assert.Equal(t, plan.RestrictedUnits[0].Name, au.Params["units"])
	for _, upn := range plan.RestrictedUnits[0].Members {
		assert.Contains(t, au.Params["users"], upn)
	}
	assert.False(t, e.tn.SyncEnabled(), "closebot turned sync off")
	assert.Len(t, liveUserIDs(e.tn), 1+spec.RestrictedAUMembers+spec.Synced, "synced users wait to turn cloud-only")
	// The billing gates opened when execution started.
	for _, id := range []string{"2.direct", "2.csp", "2.azure", "3.delete"} {
		_, ok := r.Gate(id)
		assert.True(t, ok, "gate %s", id)
	}
	var cspSub graphtest.SubscriptionInfo
	for _, s := range e.tn.Subscriptions() {
		if s.Channel == "csp" {
			cspSub = s
		}
	}
	csp, _ := r.Gate("2.csp")
	require.NotNil(t, cspSub.NextLifecycle)
	assert.True(t, csp.ETA.Equal(*cspSub.NextLifecycle), "ETA %s from nextLifecycleDateTime %s", csp.ETA, cspSub.NextLifecycle)
	assert.NotEmpty(t, csp.Params["partners"])
	assert.Contains(t, strings.Join(closure.InstructionFor(csp).Steps, " "), "Partner Center")
	direct, _ := r.Gate("2.direct")
	assert.Equal(t, "3", direct.Params["count"], "direct Enabled, direct Warning and MCA")

	// The kept admin removes them from the unit and asks for a re-check;
	// synced users are deleted once they turn cloud-only.
	require.NoError(t, e.tn.RemoveFromRestrictedUnits(strings.Split(au.Params["ids"], ",")...))
	_, err = e.svc.Recheck(ctx, e2eActor(e2eCarol), r.ID, au.ID)
	require.NoError(t, err)
	e.runner.Poke(r.ID)
	r = e.drive(r.ID, e2eAt(2, closure.StateGate, closure.StateRunning))
	assert.Equal(t, closure.StepDone, r.StepAt(1).Status)
	assert.Equal(t, []string{strings.ToLower(kept.ID)}, liveUserIDs(e.tn), "only the kept admin remains after step 1")

	// 4. Steps 2-3: the kept admin cancels, the partner cancels, MCA's term
	// runs out; then every subscription is deleted. Azure is attested.
	var mca string
	for _, s := range e.tn.Subscriptions() {
		switch {
		case s.Channel == "mca":
			mca = s.ID
			require.NoError(t, e.tn.CancelSubscription(s.ID)) // recurring billing off
		case s.Status == "Enabled" || s.Status == "Warning":
			require.NoError(t, e.tn.CancelSubscription(s.ID))
		}
	}
	r = e.drive(r.ID, func(r *closure.Request) bool { g, _ := r.Gate("2.csp"); return !g.IsOpen() })
	g, _ := r.Gate("2.direct")
	assert.True(t, g.IsOpen(), "MCA stays Enabled until its term ends")
	assert.Equal(t, "1", g.Params["count"])
	require.NoError(t, e.tn.AdvanceSubscription(mca)) // term end: Warning
	require.NoError(t, e.tn.AdvanceSubscription(mca)) // 30 days later: Suspended
	// The kept admin cancels and deletes the Azure subscription behind the
	// seeded managed identity before attesting that none is linked.
	require.NoError(t, e.tn.RemoveAzureSubscription())
	_, _, err = e.svc.Attest(ctx, e2eActor(e2eCarol), r.ID, "2.azure", closure.SentenceNoAzure)
	require.NoError(t, err)
	r = e.drive(r.ID, e2eAt(3, closure.StateGate, closure.StateRunning))
	for _, s := range e.tn.Subscriptions() {
		require.NoError(t, e.tn.DeleteSubscription(s.ID))
	}
	e.clock.Advance(73 * time.Hour) // deprovisioned: gone from Graph
	assert.Empty(t, e.tn.Subscriptions())

	// 5. Step 4: nobody but the kept admin left with per-user MFA; the
	// legacy provider is attested.
	r = e.drive(r.ID, e2eAt(4, closure.StateGate))
	_, _, err = e.svc.Attest(ctx, e2eActor(e2eDave), r.ID, "4.legacy_mfa", closure.SentenceNoLegacyMFA)
	require.NoError(t, err)

	// 6. Step 5: nothing is deleted before the point of no return is confirmed.
	r = e.drive(r.ID, func(r *closure.Request) bool { return r.AwaitingConfirmation() })
	for _, w := range graphWrites(e.s) {
		assert.NotContains(t, w.Path, "/applications/")
		assert.NotContains(t, w.Path, "/servicePrincipals/")
	}
	_, _, err = e.svc.Confirm(ctx, e2eActor(e2eBob), r.ID, r.Version)
	require.NoError(t, err)
	r = e.drive(r.ID, e2eAt(5, closure.StateGate))
	dg, ok := r.Gate("5.delete_tenant")
	require.True(t, ok)
	assert.Equal(t, e.tn.ClosebotAppID, dg.Params["closebot_app"])
	assert.Equal(t, "none", dg.Params["refused"])
	assert.Equal(t, fmt.Sprint(len(disabledSPs)), dg.Params["disabled"])
	assert.Equal(t, []string{closebotApp}, lowerAll(e.tn.IDs("application")), "only closebot's app registration is left")

	// An approver purges this request's deleted objects.
	_, _, err = e.svc.Purge(ctx, e2eActor(e2eDave), r.ID, closure.Typed)
	require.NoError(t, err)
	_, err = e.runner.Advance(ctx, r.ID)
	require.NoError(t, err)
	r = e.get(r.ID)
	assert.False(t, r.PurgedAt.IsZero())
	assert.Zero(t, e.tn.DeletedCount("user"), "purged")

	// Before the tenant is deleted: only the kept admin, Microsoft's and
	// closebot's service principals, security defaults and CA untouched.
	assert.Equal(t, []string{strings.ToLower(kept.ID)}, liveUserIDs(e.tn), "only the kept admin remained before the tenant was deleted")
	var keptSPs []string
	for _, sp := range spsBefore {
		// Managed identities went with the Azure subscription the kept admin removed.
		if slices.Contains(untouchableSPs, sp.ID) && sp.Type != "ManagedIdentity" {
			keptSPs = append(keptSPs, sp.ID)
		}
	}
	assert.ElementsMatch(t, lowerAll(append(keptSPs, disabledSPs...)), lowerAll(e.tn.IDs("servicePrincipal")),
		"Microsoft's, closebot's and the disabled connector remain")
	assert.True(t, e.tn.SecurityDefaults())
	assert.Equal(t, caBefore, e.tn.Count("conditionalAccessPolicy"))
	assert.Equal(t, "disabled", e.tn.KeptAdmin().MFAState, "the kept admin's per-user MFA is never touched")

	// The kept admin removes closebot's app last and deletes the tenant:
	// the portal's own pre-checks find nothing left to fix.
	require.NoError(t, e.tn.RemoveClosebotApp(false))
	require.Empty(t, e.tn.DeleteTenantChecks())
	require.NoError(t, e.tn.DeleteTenant(false))
	r = e.drive(r.ID, func(r *closure.Request) bool { return r.State == closure.StateClosed })
	st := r.StepAt(5)
	assert.GreaterOrEqual(t, st.GoneCount, e2eGoneCount)
	assert.GreaterOrEqual(t, r.ClosedAt.Sub(st.GoneSince), e2eGoneSpan)

	e.assertFullClosureRecord(r, plan, kept, append(deletableSPs, otherSPs...), untouchableSPs, disabledSPs, deletableApps, closebotApp)
}

// assertFullClosureRecord checks the Graph traffic and the audit log of a
// finished closure against each other.
func (e *e2e) assertFullClosureRecord(r *closure.Request, plan *closure.Plan, kept graphtest.UserInfo,
	deletableSPs, untouchableSPs, disabledSPs, deletableApps []string, closebotApp string) {
	t := e.t
	ctx := e.ctx()

	// Graph requests: every write by closebot's app; none to security
	// defaults, conditional access, the kept admin, Microsoft's or closebot's SPs.
	untouchable := append(lowerAll(untouchableSPs), strings.ToLower(closebotApp), strings.ToLower(kept.ID))
	for _, w := range graphWrites(e.s) {
		assert.Equal(t, e.tn.ClosebotAppID, w.AppID, "%s %s", w.Method, w.Path)
		p := strings.ToLower(w.Path)
		assert.NotContains(t, p, "/policies/", "%s %s", w.Method, w.Path)
		assert.NotContains(t, p, "/identity/conditionalaccess", "%s %s", w.Method, w.Path)
		for _, id := range untouchable {
			assert.NotContains(t, p, id, "%s %s", w.Method, w.Path)
		}
	}

	// Each privileged deletion follows every first-pass ordinary one, and a
	// fresh read of the kept admin.
	ws := e.s.Writes()
	deletedUsers := writeIDs(ws, http.MethodDelete, "/users/")
	kindOf := map[string]closure.PlanUser{}
	for _, u := range plan.Users {
		kindOf[strings.ToLower(u.ID)] = u
	}
	assert.ElementsMatch(t, keysOf(kindOf), deletedUsers, "every user but the kept admin deleted, each once")
	lastOrdinary, firstPriv := -1, len(deletedUsers)
	for i, id := range deletedUsers {
		u := kindOf[id]
		switch {
		case u.Kind == closure.KindPrivileged:
			firstPriv = min(firstPriv, i)
		case u.Kind != closure.KindSynced && u.RestrictedUnit == "":
			lastOrdinary = i
		}
	}
	assert.Less(t, lastOrdinary, firstPriv, "ordinary users first, privileged last")
	keepRead, privChecked := false, 0
	for _, q := range e.s.Requests() {
		if q.Kind != "graph" {
			continue
		}
		p := strings.ToLower(q.Path)
		switch {
		case q.Method == http.MethodGet && strings.HasSuffix(p, "/users/"+strings.ToLower(kept.ID)):
			keepRead = true
		case q.Method == http.MethodDelete && strings.Contains(p, "/users/"):
			id := p[strings.LastIndex(p, "/")+1:]
			if kindOf[id].Kind == closure.KindPrivileged {
				assert.True(t, keepRead, "kept admin re-checked before deleting %s", kindOf[id].UPN)
				privChecked++
			}
			keepRead = false
		}
	}
	assert.Equal(t, plan.CountKind(closure.KindPrivileged), privChecked)
	assert.ElementsMatch(t, lowerAll(deletableSPs), writeIDs(ws, http.MethodDelete, "/servicePrincipals/"))
	assert.ElementsMatch(t, lowerAll(deletableApps), writeIDs(ws, http.MethodDelete, "/applications/"))

	// Every accepted write is in the audit log, with the previous value of
	// the one setting changed.
	evs := e.events(r.ID)
	byAction := map[closure.EventAction]map[string]closure.Event{}
	intended := map[string]bool{}
	var purged []string
	for _, ev := range evs {
		id := strings.ToLower(ev.Detail["id"])
		if ev.Action.Kind() == closure.IntentEvent {
			intended[string(ev.Action)+"|"+id] = true
			continue
		}
		if byAction[ev.Action] == nil {
			byAction[ev.Action] = map[string]closure.Event{}
		}
		byAction[ev.Action][id] = ev
		if ev.Action == "purge.done" {
			purged = append(purged, lowerAll(strings.Split(ev.Detail["ids"], ","))...)
		}
	}
	for _, w := range ws {
		id := strings.ToLower(w.Path[strings.LastIndex(w.Path, "/")+1:])
		switch {
		case w.Method == http.MethodPatch && strings.HasPrefix(w.Path, "/organization/"):
			assert.Equal(t, "beta", w.Version)
			assert.Equal(t, "onPremisesSyncEnabled", w.Property)
			assert.Equal(t, true, w.Old)
			var ev closure.Event
			for _, x := range evs {
				if x.Action == "step.sync_off" {
					ev = x
				}
			}
			assert.Equal(t, "true", ev.Detail["previous"], "sync-off recorded with its previous value")
			assert.True(t, intended["intent.sync_off|"], "sync-off intended before it was sent")
		case w.Method == http.MethodDelete && strings.HasPrefix(w.Path, "/users/"):
			ev, ok := byAction["step.delete_user"][id]
			if assert.True(t, ok, "deletion of user %s recorded", id) {
				assert.Equal(t, kindOf[id].UPN, ev.Detail["name"])
				kind := kindOf[id].Kind
				if kind == closure.KindSynced {
					kind = closure.KindMember // deleted once cloud-only
				}
				assert.Equal(t, string(kind), ev.Detail["kind"])
			}
			assert.True(t, intended["intent.delete_user|"+id])
		case w.Method == http.MethodDelete && strings.HasPrefix(w.Path, "/servicePrincipals/"):
			_, ok := byAction["step.delete_sp"][id]
			assert.True(t, ok, "deletion of service principal %s recorded", id)
			assert.True(t, intended["intent.delete_sp|"+id])
		case w.Method == http.MethodPatch && strings.HasPrefix(w.Path, "/servicePrincipals/"):
			assert.Contains(t, lowerAll(disabledSPs), id, "only an undeletable service principal is disabled")
			_, ok := byAction["step.disable_sp"][id]
			assert.True(t, ok, "disabling of service principal %s recorded", id)
			assert.True(t, intended["intent.disable_sp|"+id])
		case w.Method == http.MethodDelete && strings.HasPrefix(w.Path, "/applications/"):
			_, ok := byAction["step.delete_app"][id]
			assert.True(t, ok, "deletion of app registration %s recorded", id)
			assert.True(t, intended["intent.delete_app|"+id])
		case w.Method == http.MethodDelete && strings.HasPrefix(w.Path, "/directory/deletedItems/"):
			assert.Contains(t, purged, id, "purge of %s recorded", id)
			assert.True(t, intended["intent.purge|"+id])
		default:
			t.Errorf("unexpected write %s %s %s", w.Method, w.Version, w.Path)
		}
	}
	// The default seed has no P2, so no PIM-eligible admin (issue 10).
	for _, id := range plan.EligibleGlobalAdmins {
		assert.Equal(t, kindOf[strings.ToLower(id)].Kind, closure.KindPrivileged)
		assert.Equal(t, "privileged", byAction["step.delete_user"][strings.ToLower(id)].Detail["kind"])
	}

	// The chain verifies; the summary pins its head; the tenant lock is free.
	res, err := e.db.Verify(ctx, r.ID)
	require.NoError(t, err)
	assert.True(t, res.OK(), "audit chain: %v", res.Err())
	assert.Equal(t, len(evs), res.Events)
	var summaries []closure.Summary
	for _, rep := range e.rep.Reports() {
		if rep.Kind == "summary" {
			summaries = append(summaries, rep.Summary)
		}
	}
	require.Len(t, summaries, 1)
	assert.Equal(t, evs[len(evs)-1].MAC, summaries[0].ChainHead.MAC)
	assert.Equal(t, len(plan.Users), summaries[0].StepCounts[0])
	open, err := e.db.List(ctx, true, 0)
	require.NoError(t, err)
	assert.Empty(t, open, "the tenant lock is released")
}

// TestE2EAbortMidStep1ThenRestore: an abort clicked while step 1 deletes
// users stops the next deletion; Restore brings back exactly the users the
// request deleted, not one deleted by someone else meanwhile.
func TestE2EAbortMidStep1ThenRestore(t *testing.T) {
	e := newE2E(t, graphtest.DefaultTenantSpec(80), nil)
	ctx := e.ctx()
	_, r := e.open()
	r = e.approve(r, e2eBob)
	e.toSteps(r.ID)
	before := liveUserIDs(e.tn)
	const inFlight = 4 // deletions run in parallel, at most this many
	e.runner.Pacing = pace.Settings{MaxInFlight: inFlight}

	var mu sync.Mutex
	n := 0
	e.hook.set(func(q *http.Request) {
		if q.Method == http.MethodDelete && strings.Contains(q.URL.Path, "/users/") {
			mu.Lock()
			defer mu.Unlock()
			if n++; n == 7 {
				_, _, err := e.svc.Abort(context.Background(), e2eActor(e2eBob), r.ID)
				assert.NoError(t, err)
			}
		}
	})
	w, err := e.runner.Advance(ctx, r.ID)
	require.NoError(t, err)
	e.hook.set(nil)
	assert.True(t, w.Stop)
	r = e.get(r.ID)
	require.Equal(t, closure.StateAborted, r.State)
	deleted := writeIDs(e.s.Writes(), http.MethodDelete, "/users/")
	sent := 0
	for _, q := range graphWrites(e.s) {
		if q.Method == http.MethodDelete {
			sent++
		}
	}
	assert.GreaterOrEqual(t, sent, 7)
	assert.LessOrEqual(t, sent, 7+inFlight-1, "the deletions already past their safe point, then none")
	// The restricted unit's members are refused (403): fewer were deleted.
	require.NotEmpty(t, deleted)
	assert.Equal(t, len(deleted), r.StepAt(1).Done, "the deletion in flight is recorded too")
	assert.False(t, r.RestoreDeadline.IsZero())
	var recorded []string
	for _, ev := range e.events(r.ID) {
		if ev.Action == "step.delete_user" {
			recorded = append(recorded, ev.Detail["id"])
		}
	}
	assert.Equal(t, sortedLower(deleted), sortedLower(recorded))

	// Someone else's tool (its own app and credential) deletes a user by hand.
	const otherApp, otherSecret = "22222222-2222-2222-2222-222222222222", "other-secret-value"
	e.s.RegisterClientSecret(e.tn.ID, otherApp, otherSecret)
	other, err := New(ctx, Config{TenantID: e.tn.ID, ClientID: otherApp, ClientSecret: otherSecret,
		GraphBaseURL: e.s.GraphURL(), AuthorityHost: e.s.AuthorityHost(), Transport: e.s.Client().Transport})
	require.NoError(t, err)
	var victim string
	for _, u := range e.tn.Users() {
		if ordinary(u) && !slices.Contains(deleted, strings.ToLower(u.ID)) {
			victim = u.ID
			break
		}
	}
	require.NotEmpty(t, victim)
	require.NoError(t, other.DeleteUser(ctx, victim))

	_, _, err = e.svc.Restore(ctx, e2eActor(e2eBob), r.ID, closure.Typed)
	require.NoError(t, err)
	w, err = e.runner.Advance(ctx, r.ID)
	require.NoError(t, err)
	assert.True(t, w.Stop)

	var restored []string
	for _, wr := range e.s.Writes() {
		if wr.Method == http.MethodPost && strings.HasSuffix(wr.Path, "/restore") {
			assert.Equal(t, e.tn.ClosebotAppID, wr.AppID)
			p := strings.TrimSuffix(wr.Path, "/restore")
			restored = append(restored, strings.ToLower(p[strings.LastIndex(p, "/")+1:]))
		}
	}
	assert.Equal(t, sortedLower(deleted), sortedLower(restored), "exactly the users this request deleted")
	want := slices.DeleteFunc(slices.Clone(before), func(id string) bool { return strings.EqualFold(id, victim) })
	assert.Equal(t, want, liveUserIDs(e.tn), "everyone back but the user deleted by someone else")
	v, ok := e.tn.User(victim)
	require.True(t, ok)
	assert.True(t, v.Deleted, "closebot does not restore what it did not delete")
	r = e.get(r.ID)
	assert.Nil(t, r.RestoreRequested)
	assert.False(t, r.RestoredAt.IsZero())
	res, err := e.db.Verify(ctx, r.ID)
	require.NoError(t, err)
	assert.True(t, res.OK(), "audit chain: %v", res.Err())
}

// TestE2ESyncOffRefusedBecomesGate: Graph's 403 on the sync-off PATCH opens
// the "run Update-MgOrganization" gate, not a failure; once a person turns
// sync off, a re-check lets step 1 finish.
func TestE2ESyncOffRefusedBecomesGate(t *testing.T) {
	spec := graphtest.DefaultTenantSpec(60)
	spec.RestrictedAUMembers = 0
	e := newE2E(t, spec, nil)
	ctx := e.ctx()
	_, r := e.open()
	r = e.approve(r, e2eBob)
	e.toSteps(r.ID)
	require.NoError(t, e.tn.SetSyncOffRefused(true))

	r = e.drive(r.ID, func(r *closure.Request) bool { return r.State == closure.StateGate && r.Step == 1 })
	gates := r.BlockingGates()
	require.Len(t, gates, 1)
	g := gates[0]
	assert.Equal(t, closure.GateSyncOff, g.Kind)
	assert.Contains(t, g.Params["error"], "403")
	assert.Equal(t, e.tn.ID, g.Params["organization"])
	assert.Contains(t, strings.Join(closure.InstructionFor(g).Steps, " "), "Set-EntraDirSyncEnabled -EnableDirSync $false")
	assert.Equal(t, closure.StepWaiting, r.StepAt(1).Status)
	assert.Empty(t, r.FailReason)
	for _, ev := range e.events(r.ID) {
		assert.NotEqual(t, closure.EvStepFailed, ev.Action)
		assert.NotEqual(t, closure.StateFailed, ev.To)
	}
	var patches []graphtest.Request
	for _, q := range graphWrites(e.s) {
		if q.Method == http.MethodPatch {
			patches = append(patches, q)
		}
	}
	require.Len(t, patches, 1, "one refused PATCH, no retry storm")
	assert.Equal(t, http.StatusForbidden, patches[0].Status)
	assert.True(t, strings.HasPrefix(patches[0].Path, "/beta/organization/"), patches[0].Path)
	// Cloud-only users were deleted meanwhile; the synced ones wait.
	assert.Len(t, liveUserIDs(e.tn), 1+spec.Synced)
	assert.True(t, e.tn.SyncEnabled())

	// The Hybrid Identity Administrator runs Update-MgOrganization; Re-check.
	require.NoError(t, e.tn.TurnSyncOff())
	_, err := e.svc.Recheck(ctx, e2eActor(e2eCarol), r.ID, g.ID)
	require.NoError(t, err)
	e.runner.Poke(r.ID)
	r = e.drive(r.ID, e2eAt(2, closure.StateGate, closure.StateRunning))
	assert.Equal(t, closure.StepDone, r.StepAt(1).Status)
	assert.Equal(t, []string{strings.ToLower(e.tn.KeptAdmin().ID)}, liveUserIDs(e.tn))
	g, _ = r.Gate(g.ID)
	assert.False(t, g.IsOpen())
	for _, q := range graphWrites(e.s) {
		if q.Method == http.MethodPatch {
			assert.Equal(t, http.StatusForbidden, q.Status, "closebot never turned sync off itself")
		}
	}
}

// TestE2EPreflightRefusals: each DESIGN §5 refusal the emulator can seed,
// read through the real adapter, names what to fix, and nothing is written.
func TestE2EPreflightRefusals(t *testing.T) {
	pick := func(ok func(graphtest.UserInfo) bool) func(*graphtest.Tenant) string {
		return func(tn *graphtest.Tenant) string {
			for _, u := range tn.Users() {
				if ok(u) {
					return u.UPN
				}
			}
			t.Fatal("no seeded user to pick")
			return ""
		}
	}
	for _, tc := range []struct {
		name   string
		spec   func(*graphtest.TenantSpec)
		keep   func(*graphtest.Tenant) string
		code   string
		fixHas string
	}{
		{name: "kept admin without MFA method", spec: func(s *graphtest.TenantSpec) { s.KeptAdminWithoutMFA = true },
			code: closure.RefuseKeepNoMFA, fixHas: "aka.ms/mysecurityinfo"},
		{name: "legal hold", spec: func(s *graphtest.TenantSpec) { s.LegalHold = true },
			code: closure.RefuseLegalHold, fixHas: "Purview"},
		{name: "not a workforce tenant", spec: func(s *graphtest.TenantSpec) { s.TenantType = "AADB2C" },
			code: closure.RefuseTenantType, fixHas: "B2C"},
		{name: "kept admin missing", keep: func(tn *graphtest.Tenant) string { return "nobody@" + tn.Domain },
			code: closure.RefuseKeepMissing, fixHas: "tenants[].keep"},
		{name: "kept admin is a guest", keep: pick(func(u graphtest.UserInfo) bool { return u.UserType == "Guest" }),
			code: closure.RefuseKeepGuest, fixHas: "member account"},
		{name: "kept admin is synced", keep: pick(func(u graphtest.UserInfo) bool { return u.Synced }),
			code: closure.RefuseKeepSynced, fixHas: "cloud-only"},
		{name: "kept admin on a federated domain", keep: pick(func(u graphtest.UserInfo) bool { return u.Synced }),
			code: closure.RefuseKeepFederated, fixHas: "initial domain"},
		{name: "kept admin disabled", keep: pick(func(u graphtest.UserInfo) bool { return !u.Enabled }),
			code: closure.RefuseKeepDisabled, fixHas: "Account enabled"},
		{name: "kept admin in a restricted unit", keep: pick(func(u graphtest.UserInfo) bool { return u.Restricted }),
			code: closure.RefuseKeepRestricted, fixHas: "administrative unit"},
		{name: "kept admin only eligible", spec: func(s *graphtest.TenantSpec) { *s = s.WithP2(1) },
			keep: pick(func(u graphtest.UserInfo) bool { return len(u.Eligible) > 0 }),
			code: closure.RefuseKeepNotGA, fixHas: "permanent"},
		{name: "non-custodial data source on hold", spec: func(s *graphtest.TenantSpec) { s.NoncustodialHold = true },
			code: closure.RefuseLegalHold, fixHas: "Purview"},
		{name: "hold policy enabled", spec: func(s *graphtest.TenantSpec) { s.HoldPolicy = true },
			code: closure.RefuseLegalHold, fixHas: "Purview"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := graphtest.DefaultTenantSpec(60)
			if tc.spec != nil {
				tc.spec(&spec)
			}
			e := newE2E(t, spec, tc.keep)
			_, err := e.runner.Plan(e.ctx(), e.tn.Domain)
			var pe *closure.PreflightError
			require.ErrorAs(t, err, &pe)
			require.True(t, pe.Has(tc.code), "refusal %s in %v", tc.code, err)
			for _, it := range pe.Items {
				assert.NotEmpty(t, it.Problem)
				assert.NotEmpty(t, it.Fix, "%s names what to fix", it.Code)
				if it.Code == tc.code {
					assert.Contains(t, it.Fix, tc.fixHas)
				}
			}
			assert.Empty(t, graphWrites(e.s), "preflight is read-only")
			if tc.code == closure.RefuseLegalHold {
				// Released in Purview: the same preflight passes.
				for _, c := range e.tn.CaseIDs() {
					require.NoError(t, e.tn.ReleaseHold(c))
				}
				_, err := e.runner.Plan(e.ctx(), e.tn.Domain)
				require.NoError(t, err)
			}
		})
	}
}

// TestE2EProofWithoutMFARePends: a proof of life without MFA, or by
// someone other than the kept admin, sends the request back to pending
// before any Graph write.
func TestE2EProofWithoutMFARePends(t *testing.T) {
	for _, tc := range []struct {
		name string
		who  func(*graphtest.Tenant) string
		mfa  bool
		why  string
	}{
		{name: "no mfa", who: func(tn *graphtest.Tenant) string { return tn.KeptAdmin().UPN }, why: "multi-factor"},
		{name: "someone else", mfa: true, why: "not the kept admin", who: func(tn *graphtest.Tenant) string {
			for _, u := range tn.Users() {
				if slices.Contains(u.Roles, graphtest.RoleGlobalAdministrator) && u.ID != tn.KeptAdmin().ID {
					return u.UPN
				}
			}
			return ""
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newE2E(t, graphtest.DefaultTenantSpec(60), nil)
			_, r := e.open()
			r = e.approve(r, e2eBob)
			who := tc.who(e.tn)
			require.NotEmpty(t, who)
			w, code := e.prove(r.ID, who, tc.mfa)
			assert.True(t, w.Stop)
			r = e.get(r.ID)
			assert.Equal(t, closure.StatePending, r.State)
			assert.Contains(t, r.ProofError, tc.why)
			msgs := e.signInMessages()
			require.Len(t, msgs, 1)
			assert.Equal(t, e2eCarol, msgs[0].UserID)
			assert.Contains(t, msgs[0].Message, code)
			assert.Empty(t, graphWrites(e.s), "no Graph write")
			assert.Len(t, liveUserIDs(e.tn), 60)
		})
	}
}

// liveUserIDs are the tenant's users that are not deleted, lower case, sorted.
func liveUserIDs(tn *graphtest.Tenant) []string {
	var out []string
	for _, u := range tn.Users() {
		if !u.Deleted {
			out = append(out, strings.ToLower(u.ID))
		}
	}
	slices.Sort(out)
	return out
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestE2EP2TenantLosesP2AtStep3: a Microsoft 365 E5 tenant (PIM, eligible
// Global Admins) with a self-service sign-up product. Step 3 deletes the
// subscription that carries P2: from then on the PIM, conditional-access
// and eDiscovery routes refuse, and the closure still completes (role reads
// fall back to /roleAssignments, display-only reads are "not available").
// The self-service product is removed at its own gate, under Entra's
// Licenses, not Billing.
func TestE2EP2TenantLosesP2AtStep3(t *testing.T) {
	spec := graphtest.DefaultTenantSpec(120).WithP2(2)
	spec.Subscriptions = append(spec.Subscriptions,
		graphtest.SubscriptionSpec{SkuPartNumber: "FLOW_FREE", Channel: "direct", Licenses: 10000, Consumed: 3, SelfService: true})
	e := newE2E(t, spec, nil)
	ctx := e.ctx()
	kept := e.tn.KeptAdmin()
	require.Contains(t, e.tn.Features(), graphtest.FeatureEntraP2)

	plan, r := e.open()
	assert.True(t, plan.PIM, "P2: PIM read")
	assert.Len(t, plan.EligibleGlobalAdmins, 2)
	selfService := ""
	for _, s := range plan.Subscriptions {
		if s.Channel == closure.ChannelSelfService {
			selfService = s.ID
		}
	}
	require.NotEmpty(t, selfService, "the self-service product is in the plan under its own channel")

	r = e.approve(r, e2eBob)
	e.toSteps(r.ID)
	r = e.drive(r.ID, func(r *closure.Request) bool {
		return r.Step == 1 && r.State == closure.StateGate && len(r.BlockingGates()) > 0
	})
	au := r.BlockingGates()[0]
	require.Equal(t, closure.GateRestrictedAdminUnit, au.Kind)
	require.NoError(t, e.tn.RemoveFromRestrictedUnits(strings.Split(au.Params["ids"], ",")...))
	_, err := e.svc.Recheck(ctx, e2eActor(e2eCarol), r.ID, au.ID)
	require.NoError(t, err)
	r = e.drive(r.ID, e2eAt(2, closure.StateGate, closure.StateRunning))
	assert.Equal(t, []string{strings.ToLower(kept.ID)}, liveUserIDs(e.tn), "eligible admins deleted too")

	// Step 2: the self-service product has its own gate; Billing cancels the rest.
	ss, ok := r.Gate("2." + closure.ChannelSelfService)
	require.True(t, ok, "self-service gate opened")
	assert.Contains(t, strings.Join(closure.InstructionFor(ss).Steps, " "), "Self-service sign-up products")
	var mca string
	for _, s := range e.tn.Subscriptions() {
		switch {
		case s.ID == selfService:
		case s.Channel == "mca":
			mca = s.ID
			require.NoError(t, e.tn.CancelSubscription(s.ID))
		case s.Status == "Enabled" || s.Status == "Warning":
			require.NoError(t, e.tn.CancelSubscription(s.ID))
		}
	}
	require.NoError(t, e.tn.AdvanceSubscription(mca))
	require.NoError(t, e.tn.AdvanceSubscription(mca))
	require.NoError(t, e.tn.DeleteSelfServiceProduct(selfService))
	require.NoError(t, e.tn.RemoveAzureSubscription())
	_, _, err = e.svc.Attest(ctx, e2eActor(e2eCarol), r.ID, "2.azure", closure.SentenceNoAzure)
	require.NoError(t, err)
	r = e.drive(r.ID, e2eAt(3, closure.StateGate, closure.StateRunning))
	g, _ := r.Gate("3.delete")
	assert.NotContains(t, g.Params["ids"], selfService, "a self-service product is not deleted under Billing")

	// Step 3: every subscription deleted, P2 with it.
	for _, s := range e.tn.Subscriptions() {
		if s.Status != "Deleted" {
			require.NoError(t, e.tn.DeleteSubscription(s.ID))
		}
	}
	assert.NotContains(t, e.tn.Features(), graphtest.FeatureEntraP2, "P2 went with the deleted subscription")
	_, err = e.d.ActiveSchedules(ctx)
	require.True(t, closure.IsUnlicensed(err), "PIM refuses now: %v", err)
	e.clock.Advance(73 * time.Hour)

	// Steps 4 and 5 run on what every licence answers.
	r = e.drive(r.ID, e2eAt(4, closure.StateGate))
	_, _, err = e.svc.Attest(ctx, e2eActor(e2eDave), r.ID, "4.legacy_mfa", closure.SentenceNoLegacyMFA)
	require.NoError(t, err)
	r = e.drive(r.ID, func(r *closure.Request) bool { return r.AwaitingConfirmation() })
	_, _, err = e.svc.Confirm(ctx, e2eActor(e2eBob), r.ID, r.Version)
	require.NoError(t, err)
	r = e.drive(r.ID, e2eAt(5, closure.StateGate))
	require.NoError(t, e.tn.RemoveClosebotApp(false))
	require.Empty(t, e.tn.DeleteTenantChecks())
	require.NoError(t, e.tn.DeleteTenant(false))
	r = e.drive(r.ID, func(r *closure.Request) bool { return r.State == closure.StateClosed })
	assert.Equal(t, closure.StateClosed, r.State)
	for _, ev := range e.events(r.ID) {
		assert.NotEqual(t, closure.EvDrift, ev.Action, "losing P2 is not drift")
	}
}

// TestE2EBusinessStandardTenant: Microsoft 365 Business Standard has no
// Entra ID P1, P2 or eDiscovery (Premium). The plan says what it cannot
// read instead of failing, and step 1 deletes every user with its
// per-batch safety re-checks running on what this licence answers.
func TestE2EBusinessStandardTenant(t *testing.T) {
	spec := graphtest.DefaultTenantSpec(250)
	spec.Subscriptions = graphtest.BusinessStandard(300)
	spec.RestrictedAUMembers, spec.Synced = 0, 0
	e := newE2E(t, spec, nil)
	require.Empty(t, e.tn.Features())

	plan, r := e.open()
	assert.False(t, plan.PIM)
	unavailable := strings.Join(plan.Unavailable, "; ")
	for _, want := range []string{"conditional access", "eDiscovery holds", "PIM"} {
		assert.Contains(t, unavailable, want)
	}
	assert.Greater(t, len(plan.Users), 2*100, "more than two safety batches")
	r = e.approve(r, e2eBob)
	e.toSteps(r.ID)
	r = e.drive(r.ID, e2eAt(2, closure.StateGate, closure.StateRunning))
	assert.Equal(t, closure.StepDone, r.StepAt(1).Status)
	assert.Equal(t, []string{strings.ToLower(e.tn.KeptAdmin().ID)}, liveUserIDs(e.tn))
	assert.Equal(t, len(plan.Users), r.StepAt(1).Done, "each deletion counted once under replication lag")
}
