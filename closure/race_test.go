package closure_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

const raceRounds = 50

// race runs fs concurrently, released together, and returns their errors.
func race(fs ...func() error) []error {
	errs := make([]error, len(fs))
	var start, done sync.WaitGroup
	start.Add(1)
	for i, f := range fs {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			errs[i] = f()
		}()
	}
	start.Done()
	done.Wait()
	return errs
}

// TestRaceSameUserApprovesTwice: a double click (two goroutines, same
// version) counts once; the other gets already_approved.
func TestRaceSameUserApprovesTwice(t *testing.T) {
	ctx := context.Background()
	for range raceRounds {
		pol := testPolicy()
		pol.Required = 2
		h := newHarness(t, pol)
		r := h.Open(t)
		in := closure.ApproveInput{Version: r.Version, PlanDigest: r.PlanDigest}
		click := func() error { _, _, err := h.Svc.Approve(ctx, person(bob), r.ID, in); return err }
		errs := race(click, click)
		ok, already := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case closure.RuleOf(err) == closure.RuleAlreadyApproved:
				already++
			default:
				t.Fatalf("unexpected error: %v", err)
			}
		}
		require.Equal(t, 1, ok)
		require.Equal(t, 1, already)
		got, err := h.Store.Get(ctx, r.ID)
		require.NoError(t, err)
		assert.Len(t, got.Approvals, 1)
		assert.Equal(t, closure.StatePending, got.State)
	}
}

// TestRaceApproveVsCancel: exactly one of approve and cancel wins; the
// other is refused by the state it finds.
func TestRaceApproveVsCancel(t *testing.T) {
	ctx := context.Background()
	outcomes := map[closure.State]int{}
	for range raceRounds {
		h := newHarness(t, testPolicy())
		r := h.Open(t)
		in := closure.ApproveInput{Version: r.Version, PlanDigest: r.PlanDigest}
		errs := race(
			func() error { _, _, err := h.Svc.Approve(ctx, person(bob), r.ID, in); return err },
			func() error { _, _, err := h.Svc.Cancel(ctx, person(alice), r.ID); return err },
		)
		got, err := h.Store.Get(ctx, r.ID)
		require.NoError(t, err)
		outcomes[got.State]++
		switch got.State {
		case closure.StateApproved:
			require.NoError(t, errs[0])
			requireRule(t, closure.RuleWrongState, errs[1])
		case closure.StateCancelled:
			require.NoError(t, errs[1])
			requireRule(t, closure.RuleWrongState, errs[0])
			assert.Empty(t, got.Approvals)
		default:
			t.Fatalf("state %s", got.State)
		}
		evs, err := h.Store.Events(ctx, r.ID)
		require.NoError(t, err)
		assert.Len(t, evs, 2, "open plus exactly one outcome")
	}
	t.Logf("outcomes: %v", outcomes)
}

// TestRaceModalAfterRepend: a modal opened before a drift re-pend and
// submitted while (or after) it happens is never counted for the new plan.
func TestRaceModalAfterRepend(t *testing.T) {
	ctx := context.Background()
	fresh := testFacts()
	fresh.Apps = append(fresh.Apps, "app-new")
	for range raceRounds {
		pol := testPolicy()
		h := newHarness(t, pol)
		r := h.ToRunning(t)
		// The approver opened the modal of the running request's card
		// (e.g. a stale message), then the drift check re-pends it.
		in := closure.ApproveInput{Version: r.Version, PlanDigest: r.PlanDigest}
		errs := race(
			func() error {
				_, _, err := h.Svc.ApplySystem(ctx, r.ID, func(s closure.System, r *closure.Request) (*closure.Request, closure.Event, error) {
					return s.Repend(r, fresh, nil, s.Verify(r, fresh))
				})
				return err
			},
			func() error { _, _, err := h.Svc.Approve(ctx, person(dave), r.ID, in); return err },
		)
		require.NoError(t, errs[0])
		rule := closure.RuleOf(errs[1])
		require.Contains(t, []closure.Rule{closure.RuleWrongState, closure.RulePlanChanged}, rule, "err %v", errs[1])
		got, err := h.Store.Get(ctx, r.ID)
		require.NoError(t, err)
		assert.Equal(t, closure.StatePending, got.State)
		assert.Empty(t, got.Approvals)
	}
}
