package run_test

// The fixtures the core's and the executor's tests share live in
// closuretest (harness.go); these short names keep the tests readable.

import (
	"testing"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/closuretest"
)

var t0 = closuretest.HarnessT0

const (
	tenantID = closuretest.HarnessTenantID
	domain   = closuretest.HarnessDomain
	team     = closuretest.HarnessTeam
	alice    = closuretest.Alice
	bob      = closuretest.Bob
	dave     = closuretest.Dave
	carol    = closuretest.Carol
	erin     = closuretest.Erin
	opsGroup = closuretest.OpsGroup
	secGroup = closuretest.SecGroup
)

type harness = closuretest.Harness

func testPolicy() *closure.Policy { return closuretest.HarnessPolicy() }

func testFacts() closure.PlanFacts { return closuretest.HarnessFacts() }

func person(id string, groups ...string) closure.Actor { return closuretest.Person(id, groups...) }

func newHarness(t *testing.T, pol *closure.Policy) *harness { return closuretest.NewHarness(t, pol) }

func requireRule(t *testing.T, want closure.Rule, err error) {
	t.Helper()
	closuretest.RequireRule(t, want, err)
}
