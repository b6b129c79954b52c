package msgraph

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/directorytest"
	"github.com/closebot/closebot/closure/graphtest"
)

// graphFixture is the contract's tenant in the Graph emulator, read and
// written through the real adapter (azidentity + msgraph-sdk-go).
type graphFixture struct {
	t   *testing.T
	e   *env
	d   *Directory
	ids map[string]string
}

func newGraphFixture(t *testing.T) directorytest.Fixture {
	spec := smallSpec().WithP2(1)
	spec.LegalHold = true
	e := newEnv(t, spec)
	f := &graphFixture{t: t, e: e, d: e.d, ids: map[string]string{}}
	user := func(ok func(graphtest.UserInfo) bool) string { return pickUser(t, e.tn, ok).ID }
	f.ids["plain"] = user(func(u graphtest.UserInfo) bool { return ordinary(u) && u.MFAState != "unknownFutureValue" })
	f.ids["synced"] = user(func(u graphtest.UserInfo) bool { return u.Synced })
	f.ids["restricted"] = user(func(u graphtest.UserInfo) bool { return u.Restricted })
	f.ids["eligible"] = user(func(u graphtest.UserInfo) bool { return len(u.Eligible) > 0 })
	f.ids["privileged"] = user(func(u graphtest.UserInfo) bool {
		return slices.Contains(u.Roles, graphtest.RoleUserAdministrator) && !slices.Contains(u.Roles, graphtest.RoleGlobalAdministrator)
	})

	ctx := context.Background()
	apps, err := e.d.Applications(ctx)
	require.NoError(t, err)
	i := slices.IndexFunc(apps, func(a closure.Application) bool { return a.DisplayName == "Line-of-business app 1" })
	require.GreaterOrEqual(t, i, 0)
	f.ids["app"] = apps[i].ID
	sps, err := e.d.ServicePrincipals(ctx)
	require.NoError(t, err)
	spID := func(ok func(closure.ServicePrincipal) bool) string {
		i := slices.IndexFunc(sps, ok)
		require.GreaterOrEqual(t, i, 0)
		return sps[i].ID
	}
	f.ids["sp"] = spID(func(s closure.ServicePrincipal) bool { return s.DisplayName == "Fabrikam SaaS 1" })
	f.ids["undeletable"] = spID(func(s closure.ServicePrincipal) bool { return s.DisplayName == "Northwind Connector 1" })
	f.ids["graph"] = spID(func(s closure.ServicePrincipal) bool { return s.AppID == "00000003-0000-0000-c000-000000000000" })
	return f
}

func (f *graphFixture) Directory() closure.Directory { return f.d }
func (f *graphFixture) TenantID() string             { return f.e.tn.ID }
func (f *graphFixture) KeepID() string               { return f.e.tn.KeptAdmin().ID }
func (f *graphFixture) KeepUPN() string              { return f.e.tn.KeptAdmin().UPN }
func (f *graphFixture) PlainUserID() string          { return f.ids["plain"] }
func (f *graphFixture) SyncedUserID() string         { return f.ids["synced"] }
func (f *graphFixture) RestrictedUserID() string     { return f.ids["restricted"] }
func (f *graphFixture) EligibleUserID() string       { return f.ids["eligible"] }
func (f *graphFixture) PrivilegedUserID() string     { return f.ids["privileged"] }
func (f *graphFixture) OwnedAppID() string           { return f.ids["app"] }
func (f *graphFixture) DeletableSPID() string        { return f.ids["sp"] }
func (f *graphFixture) UndeletableSPID() string      { return f.ids["undeletable"] }
func (f *graphFixture) MicrosoftGraphSPID() string   { return f.ids["graph"] }

func (f *graphFixture) TurnSyncOff() { require.NoError(f.t, f.e.tn.TurnSyncOff()) }

func (f *graphFixture) RemoveFromRestrictedUnits(id string) {
	require.NoError(f.t, f.e.tn.RemoveFromRestrictedUnits(id))
}

// DropEntraPremium cancels and deletes the Microsoft 365 E5 subscription,
// the tenant's only Entra ID P1 and P2 (Office 365 E5 keeps eDiscovery).
func (f *graphFixture) DropEntraPremium() {
	n := 0
	for _, s := range f.e.tn.Subscriptions() {
		if strings.HasPrefix(s.SkuPartNumber, "SPE_E5") {
			require.NoError(f.t, f.e.tn.CancelSubscription(s.ID))
			require.NoError(f.t, f.e.tn.DeleteSubscription(s.ID))
			n++
		}
	}
	require.Equal(f.t, 1, n)
	require.NotContains(f.t, f.e.tn.Features(), graphtest.FeatureEntraP2)
	require.NotContains(f.t, f.e.tn.Features(), graphtest.FeatureEntraP1)
	require.Contains(f.t, f.e.tn.Features(), graphtest.FeatureEDiscoveryPremium)
}

func (f *graphFixture) DeleteTenant() { require.NoError(f.t, f.e.tn.DeleteTenant(true)) }

func (f *graphFixture) RefuseSyncOff() { require.NoError(f.t, f.e.tn.SetSyncOffRefused(true)) }

func (f *graphFixture) ReleaseHolds() {
	for _, id := range f.e.tn.CaseIDs() {
		require.NoError(f.t, f.e.tn.ReleaseHold(id))
	}
}

// RevokePermission removes the app role and builds a new adapter: tokens
// already issued keep their roles (azidentity caches them).
func (f *graphFixture) RevokePermission(perm string) {
	f.e.s.RevokeAppRole(f.e.tn.ID, f.e.tn.ClosebotAppID, perm)
	cfg := baseConfig(f.e.s, f.e.tn, f.e.logs)
	cfg.ClientSecret = testSecret
	d, err := New(context.Background(), cfg)
	require.NoError(f.t, err)
	d.retry.sleep = f.e.sleeps.sleep
	f.d = d
}

// TestDirectoryContract runs the Directory contract against the adapter
// over the Graph emulator.
func TestDirectoryContract(t *testing.T) {
	directorytest.Run(t, newGraphFixture)
}
