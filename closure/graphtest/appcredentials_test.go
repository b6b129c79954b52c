package graphtest

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A registered client secret shows on closebot's app registration as a
// passwordCredential: hint, two-year default end, no secretText;
// SetClientSecretEnd moves its end.
func TestClientSecretShowsOnAppRegistration(t *testing.T) {
	e := newRawEnv(t, smallSpec(), Assumptions{})
	appID := e.t.ClosebotAppID
	e.s.RegisterClientSecret(e.t.ID, appID, "abcSECRET")
	list := func() []any {
		rec := e.do("GET", "v1.0", "/applications?$filter=appId%20eq%20'"+appID+"'&$select=id,appId,passwordCredentials", "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		apps := values(t, rec)
		require.Len(t, apps, 1)
		creds, _ := apps[0].(map[string]any)["passwordCredentials"].([]any)
		return creds
	}
	creds := list()
	require.Len(t, creds, 1)
	c := creds[0].(map[string]any)
	assert.Equal(t, "abc", c["hint"])
	assert.Nil(t, c["secretText"])
	assert.Equal(t, stamp(testEpoch.Add(defaultSecretLifetime)), c["endDateTime"])

	end := testEpoch.Add(10 * 24 * time.Hour)
	require.NoError(t, e.s.SetClientSecretEnd(e.t.ID, appID, "abcSECRET", end))
	assert.Equal(t, stamp(end), list()[0].(map[string]any)["endDateTime"])
	assert.ErrorIs(t, e.s.SetClientSecretEnd(e.t.ID, appID, "other", end), ErrNotFound)

	// Other app registrations show an empty list.
	rec := e.do("GET", "v1.0", "/applications?$select=appId,passwordCredentials", "")
	for _, a := range values(t, rec) {
		if m := a.(map[string]any); m["appId"] != appID {
			assert.Equal(t, []any{}, m["passwordCredentials"])
		}
	}
}
