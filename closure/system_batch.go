package closure

import (
	"context"
	"errors"
	"fmt"
)

// Group commit: the executor answers many writes a second (step 1 at
// Graph's write quota), and one bbolt transaction per answered write would
// make the store the bottleneck. A batch of completions is one decision:
// one compare-and-set, one version, one audit event per write.

// UsersRemoved records a batch of deletions this request made: UserRemoved
// for each, in order, as one decision.
func (s System) UsersRemoved(req *Request, us []DeletedObject) (*Request, []Event, error) {
	if len(us) == 0 {
		return nil, nil, deny(RuleBadInput, "", req.State, "no deletion to record")
	}
	cur := req
	evs := make([]Event, 0, len(us))
	for _, u := range us {
		next, ev, err := s.UserRemoved(cur, u)
		if err != nil {
			return nil, nil, err
		}
		evs = append(evs, ev)
		cur = next
	}
	return cur, evs, nil
}

// ApplySystemMany is ApplySystem for a decision that records several
// events (UsersRemoved): committed with Store.UpdateMany in one
// transaction, then reported once, with the last event.
func (s *Service) ApplySystemMany(ctx context.Context, id string, f func(sys System, req *Request) (*Request, []Event, error)) (*Request, []Event, error) {
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		cur, err := s.Store.Get(ctx, id)
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", id, err)
		}
		next, evs, err := f(s.system(s.Clock.Now()), cur)
		if err != nil {
			return nil, nil, err
		}
		if !CanTransition(cur.State, next.State) {
			return nil, nil, fmt.Errorf("decision %q: illegal transition %s → %s", evs[0].Action, cur.State, next.State)
		}
		next.ID = cur.ID
		for i := range evs {
			evs[i].Request = cur.ID
		}
		if next.State != cur.State {
			next.StateSince = cur.Version + 1
		}
		got, gevs, err := s.Store.UpdateMany(ctx, cur.Expect(), next, evs)
		if errors.Is(err, ErrConflict) && attempt < maxAttempts {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("update %s: %w", id, err)
		}
		s.report(ctx, got, gevs[len(gevs)-1])
		return got, gevs, nil
	}
}
