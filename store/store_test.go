package store

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOpenCreatesFile0600(t *testing.T) {
	path := testPath(t)
	openAt(t, path)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

func TestOpenTightensExistingFile(t *testing.T) {
	path := testPath(t)
	require.NoError(t, os.WriteFile(path, nil, 0o644)) // empty: bbolt initialises it
	require.NoError(t, os.Chmod(path, 0o644))
	openAt(t, path)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

func TestSecondOpenFailsFast(t *testing.T) {
	path := testPath(t)
	openAt(t, path)

	start := time.Now()
	db2, err := Open(path, testKey, Options{})
	elapsed := time.Since(start)
	if db2 != nil {
		_ = db2.Close()
	}
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrLocked)
	assert.Contains(t, err.Error(), "closebot is already running with this database ("+path+")")
	// "Fails fast" is the contract a second process relies on (default 1 s lock timeout).
	assert.Less(t, elapsed, 10*time.Second)
}

func TestReopenAfterClose(t *testing.T) {
	path := testPath(t)
	db := openAt(t, path)
	r1 := createOne(t, db, "tenant-a")
	require.NoError(t, db.Close())

	db2 := openAt(t, path)
	got, err := db2.Get(ctx(), r1.ID)
	require.NoError(t, err)
	assert.Equal(t, r1, got)
	r2 := createOne(t, db2, "tenant-b")
	assert.Equal(t, "CT-2", r2.ID, "the counter survives a restart")
	res, err := db2.Verify(ctx(), r1.ID)
	require.NoError(t, err)
	assert.True(t, res.OK(), "%v", res.Fault)
}

func TestShortKeyRefused(t *testing.T) {
	path := testPath(t)
	_, err := Open(path, []byte("0123456789abcdef0123456789abcde"), Options{}) // 31 bytes
	require.ErrorIs(t, err, ErrKeyTooShort)
	_, statErr := os.Stat(path)
	assert.True(t, os.IsNotExist(statErr), "no file is created for a refused key")
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "key")
	require.NoError(t, os.WriteFile(good, append(bytes.Clone(testKey), '\n'), 0o600))
	k, err := LoadKey(good)
	require.NoError(t, err)
	assert.Equal(t, testKey, k, "one trailing newline is trimmed")

	crlf := filepath.Join(dir, "crlf")
	require.NoError(t, os.WriteFile(crlf, append(bytes.Clone(testKey), '\r', '\n'), 0o600))
	k, err = LoadKey(crlf)
	require.NoError(t, err)
	assert.Equal(t, testKey, k)

	short := filepath.Join(dir, "short")
	secret := "s3cret-but-too-short-31-bytes!!" // 31 bytes + newline
	require.NoError(t, os.WriteFile(short, []byte(secret+"\n"), 0o600))
	_, err = LoadKey(short)
	require.ErrorIs(t, err, ErrKeyTooShort)
	assert.NotContains(t, err.Error(), secret, "key bytes never reach an error message")
	assert.Contains(t, err.Error(), "31 bytes")

	_, err = LoadKey(filepath.Join(dir, "missing"))
	require.Error(t, err)
}

// Issue 11 item 7: a key file its group or others may read is refused,
// saying the chmod to run; the key bytes are never in the message.
func TestLoadKeyRefusesOpenModes(t *testing.T) {
	dir := t.TempDir()
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644, 0o660, 0o606, 0o700 | 0o010} {
		p := filepath.Join(dir, "key-"+mode.String())
		require.NoError(t, os.WriteFile(p, testKey, 0o600))
		require.NoError(t, os.Chmod(p, mode))
		_, err := LoadKey(p)
		require.ErrorIs(t, err, ErrKeyFileMode, "mode %04o", mode)
		assert.Contains(t, err.Error(), "run: chmod 600 "+p)
		assert.NotContains(t, err.Error(), string(testKey))
	}
	for _, mode := range []os.FileMode{0o600, 0o400} {
		p := filepath.Join(dir, "ok-"+mode.String())
		require.NoError(t, os.WriteFile(p, testKey, 0o600))
		require.NoError(t, os.Chmod(p, mode))
		_, err := LoadKey(p)
		assert.NoError(t, err, "mode %04o", mode)
	}
	// Through a symbolic link (a Kubernetes secret volume): the target's mode counts.
	target := filepath.Join(dir, "target")
	require.NoError(t, os.WriteFile(target, testKey, 0o644))
	require.NoError(t, os.Chmod(target, 0o644))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(target, link))
	_, err := LoadKey(link)
	assert.ErrorIs(t, err, ErrKeyFileMode)
}

func TestKeyNeverInDatabaseFile(t *testing.T) {
	path := testPath(t)
	db := openAt(t, path)
	r := createOne(t, db, "tenant-a")
	_, err := db.Append(ctx(), event("note"))
	require.Error(t, err, "an event must name its request")
	ev := event("note")
	ev.Request = r.ID
	_, err = db.Append(ctx(), ev)
	require.NoError(t, err)
	require.NoError(t, db.SetRef(ctx(), r.ID, "card", Ref{Channel: "C0OPS", TS: "1.2"}))
	require.NoError(t, db.PutMeta(ctx(), "config.last_run", map[string]string{"approvers": "U0BOB"}))
	require.NoError(t, db.Close())

	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.False(t, bytes.Contains(raw, testKey), "raw key in file")
	assert.False(t, bytes.Contains(raw, []byte(hex.EncodeToString(testKey))), "hex key in file")
	assert.False(t, bytes.Contains(raw, []byte(strings.ToUpper(hex.EncodeToString(testKey)))), "HEX key in file")
}
