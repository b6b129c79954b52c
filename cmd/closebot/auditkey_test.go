package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 11 item 7: an audit key file its group or others can read is
// refused by `config check` (and so by `run`) and by the audit tools, with
// the chmod to run.
func TestAuditKeyFileModeRefused(t *testing.T) {
	configEnv(t)
	key := os.Getenv("CLOSEBOT_AUDIT_KEY_FILE")
	require.NoError(t, os.Chmod(key, 0o644))

	code, _, errs := runCLI(t, "config", "check")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "CLOSEBOT_AUDIT_KEY_FILE: audit key file is open to group or others: "+key+" has mode 0644; run: chmod 600 "+key)
	assert.NotContains(t, errs, testAuditKey)

	path := auditDB(t) // sets a fresh, private key file
	loose := filepath.Join(t.TempDir(), "loose.key")
	require.NoError(t, os.WriteFile(loose, []byte(testAuditKey+"\n"), 0o600))
	require.NoError(t, os.Chmod(loose, 0o640))
	t.Setenv("CLOSEBOT_AUDIT_KEY_FILE", loose)
	code, _, errs = runCLI(t, "audit", "verify", "--db", path)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "run: chmod 600 "+loose)

	require.NoError(t, os.Chmod(loose, 0o600))
	code, _, errs = runCLI(t, "audit", "verify", "--db", path)
	assert.Equal(t, 0, code, errs)
}
