package msgraph

import (
	"os"
	"strings"
	"testing"
)

// The README's permissions table is what operators grant: it must name
// every permission the adapter's table has, with the same kind and words.
func TestREADMENamesEveryPermission(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	for _, p := range Permissions {
		row := "| `" + p.Permission + "` | " + string(p.Kind) + " | " + p.Why + " |\n"
		if !strings.Contains(readme, row) {
			t.Errorf("README lacks the row %q", row)
		}
	}
	if n := strings.Count(readme, " | application permission | ") + strings.Count(readme, " | directory role | "); n != len(Permissions) {
		t.Errorf("README has %d permission rows, the code %d", n, len(Permissions))
	}
}
