package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Issue 11 item 8: the fuzz loop of scripts/test spends its budget on
// inputs (a small -fuzzminimizetime, counted in executions, not Go's 60 s
// per new input), and fuzz targets cover the interaction payloads and the
// configuration loader.
func TestFuzzLoopSpendsItsBudgetOnInputs(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile(filepath.Join(root, "scripts", "test"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(script), `-fuzzminimizetime="$minimize"`) {
		t.Errorf("scripts/test does not bound minimisation")
	}
	m := regexp.MustCompile(`minimize=\$\{FUZZMINIMIZETIME:-([0-9]+)x\}`).FindStringSubmatch(string(script))
	if m == nil {
		t.Fatalf("scripts/test has no default FUZZMINIMIZETIME counted in executions")
	}
	if n, _ := strconv.Atoi(m[1]); n < 1 || n > 1000 {
		t.Errorf("default minimisation %sx: pick a few hundred executions at most", m[1])
	}
	if _, err := exec.LookPath("grep"); err != nil {
		t.Skip("no grep")
	}
	out, err := exec.Command("grep", "-rhoE", "--include=*_test.go", `^func Fuzz[A-Za-z0-9_]*`, root).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"FuzzParse", "FuzzParseValue", "FuzzParseMetadata", "FuzzInteractionPayload", "FuzzLoad"} {
		if !regexp.MustCompile(`(?m)^func ` + want + `$`).Match(out) {
			t.Errorf("no fuzz target %s", want)
		}
	}
}
