package closure

import (
	"strconv"
	"strings"
	"time"
)

// recordable are the states in which the runner records a write it made:
// a pause or an abort may have been committed while the call was in
// flight, and what was done must still reach the audit log.
var recordable = []State{StateRunning, StateGate, StateStuck, StatePaused, StateAborted}

// Kinds of deleted objects, as written to the audit log.
const (
	KindApplication      = "application"
	KindServicePrincipal = "service_principal"
)

// DeletedObject is one object this request deleted (or restored, or
// purged), as recorded in the audit log.
type DeletedObject struct {
	ID         string `json:"id"`
	Name       string `json:"name,omitempty"` // UPN or display name
	Kind       string `json:"kind"`           // user kind, application or service_principal
	Privileged bool   `json:"privileged,omitempty"`
}

// Detail is the event detail naming the object (intents and records).
func (o DeletedObject) Detail() map[string]string {
	d := map[string]string{"id": o.ID, "kind": o.Kind}
	if o.Name != "" {
		d["name"] = o.Name
	}
	if o.Privileged {
		d["privileged"] = "true"
	}
	return d
}

// record is UpdateStep over the recordable states.
func (s System) record(req *Request, step int, action EventAction, detail map[string]string, f func(*StepProgress)) (*Request, Event, error) {
	if req.StepAt(step) == nil {
		return nil, Event{}, deny(RuleBadInput, "", req.State, "no step "+strconv.Itoa(step))
	}
	next, ev, err := s.move(req, action, recordable, req.State, detail)
	if err == nil && f != nil {
		f(next.StepAt(step))
	}
	return next, ev, err
}

// UserRemoved records that this request deleted a user: it is no longer
// drift, it counts for Restore, and the first deletion starts the restore
// deadline. The event names the user's id, UPN and kind.
func (s System) UserRemoved(req *Request, u DeletedObject) (*Request, Event, error) {
	detail := u.Detail()
	detail["user"] = u.ID // the key the first version of this event used
	detail["privileged"] = strconv.FormatBool(u.Privileged)
	next, ev, err := s.record(req, StepDeleteUsers, EvDeleteUser, detail, func(p *StepProgress) {
		p.Done++
		p.Cursor = u.ID
	})
	if err != nil {
		return nil, Event{}, err
	}
	if u.Privileged {
		next.Done.DeletedPrivileged = append(next.Done.DeletedPrivileged, u.ID)
	} else {
		next.Done.DeletedUsers++
	}
	if next.RestoreDeadline.IsZero() {
		next.RestoreDeadline = s.Now.Add(RestoreWindow)
	}
	return next, ev, nil
}

// UserGone records that a user a gate asked a person to remove is gone:
// not drift, but not this request's deletion either (Restore leaves it).
func (s System) UserGone(req *Request, u DeletedObject, gateID string) (*Request, Event, error) {
	detail := u.Detail()
	detail["gate"] = gateID
	next, ev, err := s.record(req, StepDeleteUsers, EvUserGone, detail, func(p *StepProgress) { p.Done++ })
	if err != nil {
		return nil, Event{}, err
	}
	if u.Privileged {
		next.Done.DeletedPrivileged = append(next.Done.DeletedPrivileged, u.ID)
	} else {
		next.Done.DeletedUsers++
	}
	return next, ev, nil
}

// AppRemoved records an app registration step 5 deleted.
func (s System) AppRemoved(req *Request, a DeletedObject) (*Request, Event, error) {
	detail := a.Detail()
	detail["app"] = a.ID
	next, ev, err := s.record(req, StepDeleteDirectory, EvDeleteApp, detail, func(p *StepProgress) { p.Done++ })
	if err == nil {
		next.Done.DeletedApps = append(next.Done.DeletedApps, a.ID)
	}
	return next, ev, err
}

// ServicePrincipalRemoved records a tenant-owned service principal step 5 deleted.
// A service principal may hold a directory role: its disappearance from
// the privileged principals is then this request's doing, not drift.
func (s System) ServicePrincipalRemoved(req *Request, sp DeletedObject) (*Request, Event, error) {
	next, ev, err := s.record(req, StepDeleteDirectory, EvDeleteSP, sp.Detail(), func(p *StepProgress) { p.Done++ })
	if err == nil {
		next.Done.DeletedPrivileged = append(next.Done.DeletedPrivileged, sp.ID)
	}
	return next, ev, err
}

// ServicePrincipalDisabled records a service principal step 5 set to
// accountEnabled=false because Graph refused to delete it (a third-party
// or legacy app the tenant cannot delete: Microsoft's "Delete a tenant").
func (s System) ServicePrincipalDisabled(req *Request, sp DeletedObject) (*Request, Event, error) {
	d := sp.Detail()
	d["previous"], d["now"] = "accountEnabled=true", "accountEnabled=false"
	return s.record(req, StepDeleteDirectory, EvDisableSP, d, func(p *StepProgress) { p.Done++ })
}

// MFADisabled records that step 4 set a user's per-user MFA to disabled;
// previous is the state it replaced.
func (s System) MFADisabled(req *Request, userID, upn, previous string) (*Request, Event, error) {
	return s.record(req, StepDisableMFA, EvMFADisabled,
		map[string]string{"id": userID, "name": upn, "previous": previous, "now": "disabled"},
		func(p *StepProgress) { p.Done++ })
}

// StepNote updates a step's counters and result line as it goes.
func (s System) StepNote(req *Request, step, total int, note string) (*Request, Event, error) {
	return s.record(req, step, EvStepProgress, map[string]string{"step": strconv.Itoa(step), "note": note}, func(p *StepProgress) {
		p.Total, p.Note = total, note
	})
}

// GoneAnswer records one answer of the "tenant gone" check at step 5's
// gate: consecutive "not found" answers count up, anything else resets.
func (s System) GoneAnswer(req *Request, gone bool) (*Request, Event, error) {
	return s.record(req, StepDeleteDirectory, EvGoneCheck, map[string]string{"gone": strconv.FormatBool(gone)}, func(p *StepProgress) {
		if !gone {
			p.GoneCount, p.GoneSince = 0, time.Time{}
			return
		}
		if p.GoneCount == 0 {
			p.GoneSince = s.Now
		}
		p.GoneCount++
	})
}

// UserRestored records a user Restore brought back (aborted requests).
func (s System) UserRestored(req *Request, u DeletedObject) (*Request, Event, error) {
	detail := u.Detail()
	return s.move(req, EvUserRestored, []State{StateAborted}, StateAborted, detail)
}

// Restored ends a Restore request: the runner restored what it could.
func (s System) Restored(req *Request, restored []string, note string) (*Request, Event, error) {
	next, ev, err := s.move(req, EvRestoreDone, []State{StateAborted}, StateAborted,
		map[string]string{"restored": strconv.Itoa(len(restored)), "ids": strings.Join(restored, ","), "note": note})
	if err == nil {
		next.RestoreRequested = nil
		next.RestoredAt = s.Now
	}
	return next, ev, err
}

// Purged ends a Purge request at step 5's gate.
func (s System) Purged(req *Request, purged []string, note string) (*Request, Event, error) {
	next, ev, err := s.move(req, EvPurgeDone, []State{StateGate, StateStuck, StatePaused}, req.State,
		map[string]string{"purged": strconv.Itoa(len(purged)), "ids": strings.Join(purged, ","), "note": note})
	if err == nil {
		next.PurgeRequested = nil
		next.PurgedAt = s.Now
	}
	return next, ev, err
}

// GateUpdate records what a re-check saw change at an open gate: a new
// ETA, fewer items left (params); a stuck request returns to gate.
func (s System) GateUpdate(req *Request, gateID string, eta time.Time, params map[string]string, note string) (*Request, Event, error) {
	next, ev, err := s.GateProgress(req, gateID, eta, note)
	if err != nil {
		return nil, Event{}, err
	}
	i := next.gateIndex(gateID)
	if next.Gates[i].Params == nil {
		next.Gates[i].Params = map[string]string{}
	}
	for k, v := range params {
		next.Gates[i].Params[k] = v
	}
	return next, ev, nil
}

// WriteGranted records that closebot verified, before step 1's first
// write, that its app holds every write grant (write_access just_in_time):
// from the roles claim of a token issued now and the role assignments.
func (s System) WriteGranted(req *Request, granted []string) (*Request, Event, error) {
	if req.Step != StepDeleteUsers {
		return nil, Event{}, deny(RuleBadInput, Action(EvWriteGranted), req.State, "write access is verified before step 1")
	}
	next, ev, err := s.move(req, EvWriteGranted, []State{StateRunning}, req.State,
		map[string]string{"granted": strings.Join(granted, ", ")})
	if err == nil {
		next.WriteGrantedAt = s.Now
	}
	return next, ev, err
}
