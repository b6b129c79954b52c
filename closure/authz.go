package closure

// Action is something a person asks closebot to do.
type Action string

// The actions of the authorisation table.
const (
	ActOpen    Action = "open"
	ActPlan    Action = "plan"
	ActStatus  Action = "status"
	ActList    Action = "list"
	ActApprove Action = "approve"
	ActReject  Action = "reject"
	ActCancel  Action = "cancel"
	ActPause   Action = "pause"
	ActResume  Action = "resume"
	ActAbort   Action = "abort"
	ActRetry   Action = "retry"
	ActConfirm Action = "confirm" // step 5's point of no return
	ActPurge   Action = "purge"
	ActRestore Action = "restore"
	ActAttest  Action = "attest"
	ActRecheck Action = "recheck"
)

// AllActions lists every action of the table.
var AllActions = []Action{
	ActOpen, ActPlan, ActStatus, ActList, ActApprove, ActReject, ActCancel,
	ActPause, ActResume, ActAbort, ActRetry, ActConfirm, ActPurge, ActRestore,
	ActAttest, ActRecheck,
}

// who is the "who" column of the table. "Owner" is the request's requester.
type who int

const (
	whoRequester              who = iota + 1 // requester role
	whoApproverNotOwner                      // approver role, not the owner
	whoOwnerOrApprover                       // the owner, or approver role
	whoRequesterOrApprover                   // requester or approver role
	whoKeepOrApproverNotOwner                // keep_slack_user, or approver role not the owner
	whoAnyRoleOrKeep                         // any configured role, or keep_slack_user
)

// permission is one row of the table.
type permission struct {
	who      who
	disjoint bool    // approval.disjoint applies: no requester role either
	states   []State // nil: no request involved, any state
}

// table is the authorisation table of issue 4. Extra conditions beyond
// who and state (version, digests, step 5, deadlines) are checked by the
// decisions themselves, after this table.
var table = map[Action]permission{
	ActOpen:    {who: whoRequester},
	ActPlan:    {who: whoRequester},
	ActStatus:  {who: whoRequester},
	ActList:    {who: whoRequester},
	ActApprove: {who: whoApproverNotOwner, disjoint: true, states: []State{StatePending}},
	ActReject:  {who: whoApproverNotOwner, states: []State{StatePending}},
	ActCancel:  {who: whoOwnerOrApprover, states: []State{StatePending}},
	ActPause:   {who: whoRequesterOrApprover, states: pausable},
	ActResume:  {who: whoRequesterOrApprover, states: []State{StatePaused}},
	ActAbort:   {who: whoRequesterOrApprover, states: abortable},
	ActRetry:   {who: whoApproverNotOwner, states: []State{StateFailed}},
	// The step-5 confirmation is a point of no return, like the approval:
	// the same disjoint rule applies.
	ActConfirm: {who: whoApproverNotOwner, disjoint: true, states: []State{StateRunning}},
	// Purge is carried out by step 5's gate re-check, which runs in gate
	// and stuck (a stuck request is a gate past due, DESIGN §2.8).
	ActPurge:   {who: whoApproverNotOwner, states: []State{StateGate, StateStuck}},
	ActRestore: {who: whoApproverNotOwner, states: []State{StateAborted}},
	// Gates open as early as their work can start (billing gates while
	// step 1 runs) and an open gate takes its attestation whatever step is
	// running (DESIGN §2.6). An attestation is only recorded (the re-check
	// satisfies the gate), so it is also taken while the request is paused,
	// failed or back for approval with its gates open.
	ActAttest: {who: whoKeepOrApproverNotOwner, states: []State{StateRunning, StateGate, StateStuck, StatePaused, StateFailed, StatePending}},
	// A Re-check is carried out by the runner, which re-checks gates in
	// running, gate and stuck; elsewhere the button is not shown.
	ActRecheck: {who: whoAnyRoleOrKeep, states: []State{StateRunning, StateGate, StateStuck}},
}

// NeedsGroups reports whether deciding act for userID depends on the
// user's Slack group membership: not when the roles the configuration
// gives the user id itself already satisfy the table's "who" (and the
// disjoint rule, which looks for requester groups, does not apply). The
// bot then need not read usergroups for the decision.
func (p *Policy) NeedsGroups(userID string, act Action, req *Request, tenantID string) bool {
	perm, ok := table[act]
	if !ok {
		return true
	}
	if perm.disjoint && p.Disjoint {
		return true
	}
	owner := false
	if req != nil {
		tenantID = req.TenantID
		owner = req.Owner(userID)
	}
	direct := p.RolesOf(Actor{UserID: userID}, tenantID)
	return perm.who.check(direct, owner) != ""
}

// Offers reports whether act is accepted in state s by the table: a button
// for act is shown on a request in s only when it is (a button shown is a
// button that works). Actions without a state column are offered anywhere.
func Offers(act Action, s State) bool {
	perm, ok := table[act]
	if !ok {
		return false
	}
	return perm.states == nil || hasState(perm.states, s)
}

// Screen refuses guests, bots, deactivated users and other workspaces,
// before the table is consulted (DESIGN §3).
func (p *Policy) Screen(a Actor) *Denied {
	switch {
	case a.UserID == "":
		return deny(RuleUnknownUser, "", "", "")
	case a.TeamID != p.TeamID:
		return deny(RuleOtherTeam, "", "", "")
	case a.Deleted:
		return deny(RuleDeletedUser, "", "", "")
	case a.Bot:
		return deny(RuleBot, "", "", "")
	case a.Restricted || a.UltraRestricted:
		return deny(RuleGuest, "", "", "")
	}
	return nil
}

// Authorize checks an actor against the table for an action on req (nil
// for open, plan and list) and returns the actor's roles, or a *Denied
// naming the rule. tenantID picks keep_slack_user when req is nil.
func (p *Policy) Authorize(a Actor, act Action, req *Request, tenantID string) (Roles, error) {
	if d := p.Screen(a); d != nil {
		d.Action = act
		return Roles{}, d
	}
	perm, ok := table[act]
	if !ok {
		return Roles{}, deny(RuleBadInput, act, "", "unknown action "+string(act))
	}
	var state State
	owner := false
	if req != nil {
		tenantID = req.TenantID
		state = req.State
		owner = req.Owner(a.UserID)
	}
	roles := p.RolesOf(a, tenantID)
	if rule := perm.who.check(roles, owner); rule != "" {
		return roles, deny(rule, act, state, "")
	}
	if perm.disjoint && p.Disjoint && roles.Requester {
		return roles, deny(RuleDisjoint, act, state, "")
	}
	if perm.states != nil {
		if req == nil {
			return roles, deny(RuleBadInput, act, "", "no request given")
		}
		if !hasState(perm.states, req.State) {
			return roles, deny(RuleWrongState, act, req.State, "")
		}
	}
	return roles, nil
}

// check returns the refusing rule, or "" when the roles satisfy w.
func (w who) check(r Roles, owner bool) Rule {
	switch w {
	case whoRequester:
		if !r.Requester {
			return RuleNotRequester
		}
	case whoApproverNotOwner:
		if !r.Approver {
			return RuleNotApprover
		}
		if owner {
			return RuleSelfApproval
		}
	case whoOwnerOrApprover:
		if !owner && !r.Approver {
			return RuleNotOwner
		}
	case whoRequesterOrApprover:
		if !r.Requester && !r.Approver {
			return RuleNoRole
		}
	case whoKeepOrApproverNotOwner:
		if r.Keep {
			return ""
		}
		if !r.Approver {
			return RuleNotAttester
		}
		if owner {
			return RuleSelfApproval
		}
	case whoAnyRoleOrKeep:
		if !r.Any() {
			return RuleNoRole
		}
	default:
		return RuleBadInput
	}
	return ""
}
