package closuretest_test

import (
	"testing"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/closuretest"
	"github.com/closebot/closebot/closure/storetest"
)

// TestMemStoreContract runs the store contract against the in-memory store
// (it keeps no Slack refs: RunRefs runs against bbolt only).
func TestMemStoreContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) closure.Store { return closuretest.NewMemStore() })
}
