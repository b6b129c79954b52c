package closure

import (
	"maps"
	"slices"
)

// Clone returns a deep copy, so a decision never changes the request it
// was given (a failed compare-and-set must leave nothing half-applied).
func (r *Request) Clone() *Request {
	if r == nil {
		return nil
	}
	c := *r
	c.Facts = r.Facts.Clone()
	c.Done = r.Done.clone()
	c.Approvals = cloneApprovals(r.Approvals)
	c.Confirmations = cloneApprovals(r.Confirmations)
	if r.Interrupted != nil {
		i := *r.Interrupted
		c.Interrupted = &i
	}
	c.DriftLines = slices.Clone(r.DriftLines)
	c.Steps = slices.Clone(r.Steps)
	if r.Gates != nil {
		c.Gates = make([]Gate, len(r.Gates))
		for i, g := range r.Gates {
			g.Params = maps.Clone(g.Params)
			g.Attest = slices.Clone(g.Attest)
			c.Gates[i] = g
		}
	}
	if r.Attestations != nil {
		c.Attestations = make([]Attestation, len(r.Attestations))
		for i, a := range r.Attestations {
			a.Groups = slices.Clone(a.Groups)
			c.Attestations[i] = a
		}
	}
	if r.RestoreRequested != nil {
		x := *r.RestoreRequested
		c.RestoreRequested = &x
	}
	if r.PurgeRequested != nil {
		x := *r.PurgeRequested
		c.PurgeRequested = &x
	}
	return &c
}

// Clone returns a deep copy of the facts.
func (f PlanFacts) Clone() PlanFacts {
	f.Privileged = slices.Clone(f.Privileged)
	f.Subscriptions = slices.Clone(f.Subscriptions)
	f.Apps = slices.Clone(f.Apps)
	f.EligibleOnly = slices.Clone(f.EligibleOnly)
	return f
}

func (d Done) clone() Done {
	d.DeletedPrivileged = slices.Clone(d.DeletedPrivileged)
	d.DeletedApps = slices.Clone(d.DeletedApps)
	return d
}

func cloneApprovals(m map[string]Approval) map[string]Approval {
	if m == nil {
		return nil
	}
	out := make(map[string]Approval, len(m))
	for k, a := range m {
		a.Groups = slices.Clone(a.Groups)
		out[k] = a
	}
	return out
}
