package demo

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/closebot/closebot/bot/slacktest"
)

// deliveryWait bounds how long an envelope may wait for a socket: while
// Slack recycles closebot's connection (a disconnect, a rate-limited
// apps.connections.open) the press is queued, as Slack queues it.
const deliveryWait = 2 * time.Minute

// waitAck waits for env to reach closebot and then for its ack, which
// Slack needs within 3 s of delivery (the tests check every ack's latency
// on the emulator's record as well).
func waitAck(s *slacktest.Server, env *slacktest.Envelope) (json.RawMessage, error) {
	if err := s.WaitFor(deliveryWait, func() bool { _, at := env.Delivery(); return !at.IsZero() }); err != nil {
		return nil, fmt.Errorf("envelope %s never reached closebot: %w", env.ID, err)
	}
	return env.WaitAck(3 * time.Second)
}
