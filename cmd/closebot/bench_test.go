package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// The bench itself runs in internal/bench's TestBenchSmoke (it builds the
// binary); here only the command's own refusals.
func TestBenchRefusesBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--only", "nope"}, "want one of closebot, sequential, unpaced, two-tenants, background, slack"},
		{[]string{"--users", "1"}, "--users must be at least 2"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), append([]string{"bench"}, tc.args...), &out, &errb); code != 1 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, errb.String(), tc.want)
		}
		if out.Len() != 0 {
			t.Errorf("%v: printed %q", tc.args, out.String())
		}
	}
}
