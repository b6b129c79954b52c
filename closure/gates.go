package closure

import "time"

// GateKind names the case a manual gate handles; the bot maps it (with
// Gate.Instructions and Params) to the exact instructions.
type GateKind string

// Gate kinds of DESIGN §4.
const (
	GateSyncOff             GateKind = "sync_off"              // step 1: sync-off refused
	GateRestrictedAdminUnit GateKind = "restricted_admin_unit" // step 1: 403 on members
	GateUserRefused         GateKind = "user_refused"          // step 1: other users Graph refused to delete
	GateSubscriptionDirect  GateKind = "subscription_direct"   // step 2
	GateSubscriptionCSP     GateKind = "subscription_csp"      // step 2
	GateSubscriptionMCA     GateKind = "subscription_mca"      // step 2
	GateSelfService         GateKind = "self_service"          // step 2: self-service sign-up products
	GateAzure               GateKind = "azure"                 // step 2: attestation
	GateDeleteSubscriptions GateKind = "delete_subscriptions"  // step 3
	GatePerUserMFA          GateKind = "per_user_mfa"          // step 4: API refused
	GateLegacyMFA           GateKind = "legacy_mfa"            // step 4: attestation
	GateDeleteTenant        GateKind = "delete_tenant"         // step 5
	// write_access just_in_time (issue 15): before step 1's first write
	// the kept admin grants closebot's app its write permissions and
	// directory role; after step 5's last write, before the tenant's
	// deletion, they remove them again.
	GateGrantWriteAccess  GateKind = "grant_write_access"  // step 1: before the first write
	GateRemoveWriteAccess GateKind = "remove_write_access" // step 5: after the last write
)

// Attestation sentence ids (DESIGN §4); the text is part of the record.
const (
	SentenceNoAzure     = "no_azure_subscription"
	SentenceNoLegacyMFA = "no_legacy_mfa_provider"
)

// Sentences maps each attestation sentence id to its exact words (also
// the button label).
var Sentences = map[string]string{
	SentenceNoAzure:     "No Azure subscription is linked to this tenant",
	SentenceNoLegacyMFA: "No legacy MFA provider is linked to this tenant",
}

// Gate is one manual gate: a step waits for a human where no API exists or
// the API refused.
type Gate struct {
	ID           string            `json:"id"` // unique within the request, e.g. "2.csp.<sub id>"
	Step         int               `json:"step"`
	Kind         GateKind          `json:"kind"`
	Assignee     string            `json:"assignee,omitempty"`     // Slack user who must act (usually keep_slack_user)
	Instructions string            `json:"instructions,omitempty"` // key of the instruction text
	Params       map[string]string `json:"params,omitempty"`       // case-specific values for the text
	Attest       []string          `json:"attest,omitempty"`       // sentence ids that must be attested
	ETA          time.Time         `json:"eta,omitempty"`          // from nextLifecycleDateTime, if Graph gives one
	OpenedAt     time.Time         `json:"opened_at"`
	ProgressAt   time.Time         `json:"progress_at,omitempty"` // last re-check that showed progress
	SatisfiedAt  time.Time         `json:"satisfied_at,omitempty"`
}

// IsOpen reports whether the gate still waits.
func (g Gate) IsOpen() bool { return g.SatisfiedAt.IsZero() }

// StuckAt is when an open gate makes its request stuck: stuckAfter past its
// ETA, or past its opening when Graph gives no ETA; progress restarts it.
func (g Gate) StuckAt(stuckAfter time.Duration) time.Time {
	base := g.OpenedAt
	if !g.ETA.IsZero() {
		base = g.ETA
	}
	if g.ProgressAt.After(base) {
		base = g.ProgressAt
	}
	return base.Add(stuckAfter)
}

// Attestation records who attested a gate's sentence, and when.
type Attestation struct {
	Gate     string    `json:"gate"`
	Sentence string    `json:"sentence"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
	Groups   []string  `json:"groups,omitempty"`
}

// Gate returns the gate with the given id.
func (r *Request) Gate(id string) (Gate, bool) {
	for _, g := range r.Gates {
		if g.ID == id {
			return g, true
		}
	}
	return Gate{}, false
}

// BlockingGates returns the open gates of the current step: while any
// remains, the request waits in state gate.
func (r *Request) BlockingGates() []Gate {
	var out []Gate
	for _, g := range r.Gates {
		if g.IsOpen() && g.Step == r.Step {
			out = append(out, g)
		}
	}
	return out
}

// Attested reports whether sentence was attested for gate.
func (r *Request) Attested(gate, sentence string) bool {
	for _, a := range r.Attestations {
		if a.Gate == gate && a.Sentence == sentence {
			return true
		}
	}
	return false
}

// MissingAttestations lists the sentences a gate still needs.
func (r *Request) MissingAttestations(gate string) []string {
	g, ok := r.Gate(gate)
	if !ok {
		return nil
	}
	var out []string
	for _, s := range g.Attest {
		if !r.Attested(gate, s) {
			out = append(out, s)
		}
	}
	return out
}

// StuckDue reports whether a request in state gate should become stuck at
// now: a blocking gate is past its StuckAt.
func (r *Request) StuckDue(now time.Time, stuckAfter time.Duration) bool {
	if r.State != StateGate {
		return false
	}
	for _, g := range r.BlockingGates() {
		if !now.Before(g.StuckAt(stuckAfter)) {
			return true
		}
	}
	return false
}

func (r *Request) gateIndex(id string) int {
	for i, g := range r.Gates {
		if g.ID == id {
			return i
		}
	}
	return -1
}

// GateConfig is gates.* of the configuration (DESIGN §8); stuck_after is
// Policy.StuckAfter.
type GateConfig struct {
	RecheckEvery      time.Duration // how often open gates are re-checked
	GoneConfirmations int           // AADSTS90002 answers needed to call the tenant gone
	GoneSpan          time.Duration // ... spread over at least this long
}

// WriteAccessRemoved reports whether closebot verified the removal of its
// write access (a satisfied remove_write_access gate): from then on it
// makes no write on the tenant.
func (r *Request) WriteAccessRemoved() bool {
	for _, g := range r.Gates {
		if g.Kind == GateRemoveWriteAccess && !g.IsOpen() {
			return true
		}
	}
	return false
}
