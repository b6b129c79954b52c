package closure

import "time"

// Event is one audit record. The store appends it in the same transaction
// as the state change it describes, assigns Seq and chains MAC
// (HMAC-SHA256(key, prev MAC || canonical JSON of the event without MAC)).
type Event struct {
	Request string            `json:"request"` // "CT-12"
	Seq     uint64            `json:"seq"`     // 1, 2, ... per request; set by the store
	At      time.Time         `json:"at"`
	Actor   string            `json:"actor"`  // Slack user id, or "closebot" for the bot itself
	Action  EventAction       `json:"action"` // see events.go; the stored string never changes
	From    State             `json:"from,omitempty"`
	To      State             `json:"to,omitempty"`
	Version uint64            `json:"version"`          // request version after the change
	Groups  []string          `json:"groups,omitempty"` // group memberships used for the decision
	Detail  map[string]string `json:"detail,omitempty"` // e.g. previous values of changed settings
	MAC     string            `json:"mac,omitempty"`    // hex; set by the store
}
