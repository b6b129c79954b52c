package closuretest_test

import (
	"testing"
	"time"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/closuretest"
	"github.com/closebot/closebot/closure/directorytest"
)

// fakeFixture is the contract's tenant on the in-memory fake.
type fakeFixture struct{ d *closuretest.Directory }

const fakeKeepUPN = "admin@contoso.onmicrosoft.com"

func newFakeFixture(*testing.T) directorytest.Fixture {
	clock := closuretest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	d := closuretest.SeedTenant(clock, closuretest.Seed{
		TenantID: "11111111-2222-4333-8444-555555555555", Domain: "contoso.onmicrosoft.com", Keep: fakeKeepUPN,
		ClosebotAppID: "c1053b07-0000-4000-8000-000000000001",
		Members:       3, Synced: 2, Restricted: 1, Privileged: 1, EligibleGlobalAdmins: 1, SyncEnabled: true,
	})
	d.ConversionDelay = 0 // as the emulator's default tenant: cloud-only at sync-off
	d.AddSP(closure.ServicePrincipal{ID: "sp-northwind", AppID: "b0000000-0000-4000-8000-0000000000b2", DisplayName: "Northwind Connector",
		AppOwnerOrganizationID: closuretest.OtherPublisher, Type: "Application", AccountEnabled: true})
	d.SPDeleteRefused = map[string]bool{"sp-northwind": true}
	d.AddHold(closure.LegalHold{CaseID: "case-1", CaseName: "Litigation 2026", CaseStatus: "active", Source: closure.HoldCustodian,
		Name: "member1@contoso.com", HoldStatus: "applied"})
	return &fakeFixture{d: d}
}

func (f *fakeFixture) Directory() closure.Directory        { return f.d }
func (f *fakeFixture) TenantID() string                    { return "11111111-2222-4333-8444-555555555555" }
func (f *fakeFixture) KeepID() string                      { return closuretest.KeepID }
func (f *fakeFixture) KeepUPN() string                     { return fakeKeepUPN }
func (f *fakeFixture) PlainUserID() string                 { return closuretest.UserID("member", 2) }
func (f *fakeFixture) SyncedUserID() string                { return closuretest.UserID("synced", 1) }
func (f *fakeFixture) RestrictedUserID() string            { return closuretest.UserID("restricted", 1) }
func (f *fakeFixture) EligibleUserID() string              { return closuretest.UserID("eligible", 1) }
func (f *fakeFixture) OwnedAppID() string                  { return "app-hr" }
func (f *fakeFixture) DeletableSPID() string               { return "sp-zoom" }
func (f *fakeFixture) UndeletableSPID() string             { return "sp-northwind" }
func (f *fakeFixture) MicrosoftGraphSPID() string          { return "sp-graph" }
func (f *fakeFixture) TurnSyncOff()                        { f.d.TurnSyncOff() }
func (f *fakeFixture) RemoveFromRestrictedUnits(id string) { f.d.RemoveFromUnits(id) }
func (f *fakeFixture) DropEntraPremium()                   { f.d.NoPIM, f.d.NoP1 = true, true }
func (f *fakeFixture) DeleteTenant()                       { f.d.ForceDeleteTenant() }
func (f *fakeFixture) RefuseSyncOff()                      { f.d.SyncOffRefused = true }
func (f *fakeFixture) PrivilegedUserID() string            { return closuretest.UserID("priv", 1) }
func (f *fakeFixture) ReleaseHolds()                       { f.d.SetHoldStatus("member1@contoso.com", "notApplied") }
func (f *fakeFixture) RevokePermission(perm string)        { f.d.RevokePermission(perm) }

// TestFakeDirectoryContract runs the Directory contract against the fake.
func TestFakeDirectoryContract(t *testing.T) {
	directorytest.Run(t, newFakeFixture)
}
