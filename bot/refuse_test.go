package bot

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/closebot/closebot/closure"
)

// A Graph refusal for a missing grant reaches the person as the grant to
// add and where, never as an internal error (issue 10).
func TestExplainNamesTheMissingGrant(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct{ perm, where string }{
		{"User.ReadWrite.All", "API permissions"},
		{"Privileged Authentication Administrator", "Roles & admins"},
	} {
		err := fmt.Errorf("step 1: %w", &closure.APIError{Op: "delete user", Status: 403, Code: "Authorization_RequestDenied",
			Message: "Insufficient privileges to complete the operation.", Permission: tc.perm})
		got := explain(log, err)
		for _, want := range []string{"closebot's app lacks " + tc.perm, tc.where} {
			if !strings.Contains(got, want) {
				t.Errorf("explain = %q, lacks %q", got, want)
			}
		}
		if strings.Contains(got, "internal error") {
			t.Errorf("a missing grant explained as an internal error: %q", got)
		}
	}
}
