package store_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
	"github.com/closebot/closebot/closure/storetest"
	"github.com/closebot/closebot/store"
)

var contractKey = []byte("contract-key-0123456789abcdefghijklmnop")

func openContract(t *testing.T) *store.DB {
	db, err := store.Open(filepath.Join(t.TempDir(), "closebot.db"), contractKey, store.Options{Now: func() time.Time { return storetest.T0 }})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// TestStoreContract runs the store contract against bbolt.
func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) closure.Store { return openContract(t) })
}

// TestRefsContract runs the Slack refs contract against bbolt.
func TestRefsContract(t *testing.T) {
	storetest.RunRefs(t, func(t *testing.T) storetest.RefStore { return openContract(t) })
}
