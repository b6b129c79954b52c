package store

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/closebot/closebot/closure"
)

// TestVerifyChainFindsEditedEventGetMisses: an event edited inside the
// chain leaves the request record (and so Get and Events) readable; only
// the chain check sees it. The runner calls VerifyChain before every
// resume (DESIGN §7), and the error is closure.ErrTampered for it.
func TestVerifyChainFindsEditedEventGetMisses(t *testing.T) {
	path := testPath(t)
	buildChains(t, path)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	raw = bytes.ReplaceAll(raw, []byte(marker), []byte("NARKER-7f3a9c"))
	require.NoError(t, os.WriteFile(path, raw, 0o600))

	db := openAt(t, path)
	_, err = db.Get(ctx(), "CT-1")
	require.NoError(t, err, "the record and its head are intact")
	_, err = db.Events(ctx(), "CT-1")
	require.NoError(t, err, "Events returns the chain as stored")

	var v closure.Store = db
	err = v.VerifyChain(ctx(), "CT-1")
	require.Error(t, err)
	assert.ErrorIs(t, err, closure.ErrTampered)
	assert.ErrorIs(t, err, ErrTampered)
	var f *Fault
	require.ErrorAs(t, err, &f)
	assert.Equal(t, uint64(3), f.Seq)
	assert.NoError(t, v.VerifyChain(ctx(), "CT-2"), "CT-2 is untouched")
	assert.ErrorIs(t, v.VerifyChain(ctx(), "CT-9"), closure.ErrNotFound)
}
