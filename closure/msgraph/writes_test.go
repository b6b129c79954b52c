package msgraph

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/graphtest"
)

func TestDeleteRestorePurgeIdempotent(t *testing.T) {
	e := newEnv(t, smallSpec())
	ctx := ctxT(t)
	victim := pickUser(t, e.tn, ordinary)

	require.NoError(t, e.d.DeleteUser(ctx, victim.ID))
	require.NoError(t, e.d.DeleteUser(ctx, victim.ID), "deleting a deleted user is done")
	info, _ := e.tn.User(victim.ID)
	require.True(t, info.Deleted)

	deleted, err := e.d.DeletedUsers(ctx)
	require.NoError(t, err)
	require.Len(t, deleted, 1)
	assert.Equal(t, victim.ID, deleted[0].ID)
	assert.Equal(t, victim.UPN, deleted[0].UPN)
	assert.False(t, deleted[0].DeletedAt.IsZero(), "deletedDateTime")

	require.NoError(t, e.d.RestoreUser(ctx, victim.ID))
	u, err := e.d.User(ctx, victim.ID)
	require.NoError(t, err)
	assert.Equal(t, victim.UPN, u.UPN)
	err = e.d.RestoreUser(ctx, victim.ID)
	ae, ok := closure.AsAPIError(err)
	require.True(t, ok, "restoring a live user: %v", err)
	assert.Equal(t, http.StatusNotFound, ae.Status)

	require.NoError(t, e.d.DeleteUser(ctx, victim.ID))
	require.NoError(t, e.d.PurgeDeleted(ctx, victim.ID))
	require.NoError(t, e.d.PurgeDeleted(ctx, victim.ID), "purging a purged object is done")
	_, found := e.tn.User(victim.ID)
	assert.False(t, found, "purged")
	deleted, err = e.d.DeletedUsers(ctx)
	require.NoError(t, err)
	assert.Empty(t, deleted)

	apps, err := e.d.Applications(ctx)
	require.NoError(t, err)
	var app closure.Application
	for _, a := range apps {
		if !strings.EqualFold(a.AppID, e.tn.ClosebotAppID) {
			app = a
			break
		}
	}
	require.NoError(t, e.d.DeleteApplication(ctx, app.ID))
	require.NoError(t, e.d.DeleteApplication(ctx, app.ID))
	assert.Equal(t, len(apps)-1, e.tn.Count("application"))

	sps, err := e.d.ServicePrincipals(ctx)
	require.NoError(t, err)
	var mi closure.ServicePrincipal
	for _, sp := range sps {
		if sp.Type == "ManagedIdentity" {
			mi = sp
		}
	}
	before := e.tn.Count("servicePrincipal")
	require.NoError(t, e.d.DeleteServicePrincipal(ctx, mi.ID))
	require.NoError(t, e.d.DeleteServicePrincipal(ctx, mi.ID))
	assert.Equal(t, before-1, e.tn.Count("servicePrincipal"))

	var deletes int
	for _, w := range e.s.Writes() {
		if w.Method == http.MethodDelete {
			deletes++
		}
	}
	assert.Equal(t, 5, deletes, "user twice, purge, application, service principal")
}

func TestDisableSyncIsBetaPatch(t *testing.T) {
	e := newEnv(t, smallSpec())
	ctx := ctxT(t)
	require.NoError(t, e.d.DisableSync(ctx, e.tn.ID))
	assert.False(t, e.tn.SyncEnabled())
	w := e.s.Writes()
	require.Len(t, w, 1)
	assert.Equal(t, graphtest.WriteRecord{Time: w[0].Time, TenantID: e.tn.ID, AppID: strings.ToLower(e.tn.ClosebotAppID),
		Method: http.MethodPatch, Path: "/organization/" + e.tn.ID, Version: "beta",
		Property: "onPremisesSyncEnabled", Old: true, New: false}, w[0])
	org, err := e.d.Organization(ctx)
	require.NoError(t, err)
	assert.False(t, org.SyncEnabled)
	// Already off: the same PATCH is accepted and changes nothing.
	require.NoError(t, e.d.DisableSync(ctx, e.tn.ID))
	assert.Len(t, e.s.Writes(), 1)
}

// A refused sync-off is an *APIError the step turns into a gate.
func TestDisableSyncRefusedIsAPIError(t *testing.T) {
	spec := smallSpec()
	spec.SyncOffRefused = true
	e := newEnv(t, spec)
	err := e.d.DisableSync(ctxT(t), e.tn.ID)
	require.True(t, closure.IsRefused(err), "error %v", err)
	ae, _ := closure.AsAPIError(err)
	assert.Equal(t, http.StatusForbidden, ae.Status)
	assert.Equal(t, "Authorization_RequestDenied", ae.Code)
	assert.Contains(t, ae.Op, "turn off directory sync")
	assert.True(t, e.tn.SyncEnabled())
	assert.Empty(t, e.s.Writes())

	// The 400 form of the refusal (property read-only) is a refusal too.
	require.NoError(t, e.tn.SetSyncOffRefused(false))
	e.s.InjectFault(graphtest.Fault{Method: http.MethodPatch, PathPrefix: "/organization/", Status: http.StatusBadRequest, Times: 1})
	err = e.d.DisableSync(ctxT(t), e.tn.ID)
	require.True(t, closure.IsRefused(err), "error %v", err)
	ae, _ = closure.AsAPIError(err)
	assert.Equal(t, http.StatusBadRequest, ae.Status)
	assert.Equal(t, "Request_BadRequest", ae.Code)
}

func TestDeleteRefusalsAreAPIErrors(t *testing.T) {
	e := newEnv(t, smallSpec())
	ctx := ctxT(t)
	restricted := pickUser(t, e.tn, func(u graphtest.UserInfo) bool { return u.Restricted })
	err := e.d.DeleteUser(ctx, restricted.ID)
	require.True(t, closure.IsRefused(err), "error %v", err)
	ae, _ := closure.AsAPIError(err)
	assert.Equal(t, http.StatusForbidden, ae.Status)
	assert.Equal(t, "Authorization_RequestDenied", ae.Code)
	assert.Equal(t, "delete user "+restricted.ID, ae.Op)
	assert.NotEmpty(t, ae.Message)

	synced := pickUser(t, e.tn, func(u graphtest.UserInfo) bool { return u.Synced })
	err = e.d.DeleteUser(ctx, synced.ID)
	require.True(t, closure.IsRefused(err), "error %v", err)
	ae, _ = closure.AsAPIError(err)
	assert.Equal(t, http.StatusBadRequest, ae.Status)
	assert.Empty(t, e.s.Writes())
	assert.Empty(t, e.sleeps.got(), "refusals are not retried")
}

func TestSetPerUserMFA(t *testing.T) {
	e := newEnv(t, smallSpec())
	ctx := ctxT(t)
	u := pickUser(t, e.tn, func(u graphtest.UserInfo) bool { return u.MFAState == "enforced" })
	require.NoError(t, e.d.SetPerUserMFA(ctx, u.ID, "disabled"))
	got, err := e.d.PerUserMFA(ctx, u.ID)
	require.NoError(t, err)
	assert.Equal(t, "disabled", got)
	w := e.s.Writes()
	require.Len(t, w, 1)
	assert.Equal(t, "beta", w[0].Version)
	assert.Equal(t, "perUserMfaState", w[0].Property)
	assert.Equal(t, "enforced", w[0].Old)
	require.Error(t, e.d.SetPerUserMFA(ctx, u.ID, "off"), "unknown state")
	assert.Len(t, e.s.Writes(), 1)
}
