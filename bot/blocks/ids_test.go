package blocks

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValueRoundTrip(t *testing.T) {
	for _, v := range []Value{
		{Request: "CT-12", Version: 7},
		{Request: "CT-1", Version: 0, Gate: "2.csp.5f1c|x%y"},
		{Request: "CT-99", Version: 18446744073709551615, Gate: "2.azure", Sentence: "no_azure_subscription"},
	} {
		got, err := ParseValue(v.String())
		require.NoError(t, err, v.String())
		assert.Equal(t, v, got)
	}
	assert.Equal(t, "CT-12|7", Value{Request: "CT-12", Version: 7}.String())
}

func TestParseValueRefusesForgeries(t *testing.T) {
	for _, s := range []string{"", "CT-12", "CT-12|", "CT-12|x", "ct-12|7", "CT-12|7|a|b|c", "<!channel>|7", "CT-12|-1",
		"CT-12|7|%zz", strings.Repeat("9", 3000)} {
		_, err := ParseValue(s)
		assert.ErrorIs(t, err, ErrBadValue, s)
	}
}

func TestMetadata(t *testing.T) {
	m := Metadata{Request: "CT-12", Version: 7, Digest: digest}
	got, err := ParseMetadata(m.String())
	require.NoError(t, err)
	assert.Equal(t, m, got)
	for _, s := range []string{"CT-12|7", "CT-12|7|nothex", "CT-12|x|" + digest, "CT-12|7|" + digest + "|more", "X-1|7|" + digest} {
		_, err := ParseMetadata(s)
		assert.ErrorIs(t, err, ErrBadValue, s)
	}
}
