package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/closebot/closebot/internal/demo"
)

func TestEmulatePrintsEnvironmentAndConfig(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"emulate", "--users", "20", "--print-only", "--time-scale", "60", "--epoch", "2026-11-26T12:00:00Z"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	text := out.String()
	for _, want := range []string{"export SLACK_API_URL='http://127.0.0.1:", "/api/'", "export AZURE_AUTHORITY_HOST='https://127.0.0.1:",
		"export SSL_CERT_FILE=", "export CLOSEBOT_AUDIT_KEY_FILE=", "export SLACK_APP_TOKEN='xapp-", "epoch 2026-11-26T12:00:00Z, time-scale 60"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	_, cfg, ok := strings.Cut(text, "# closebot.yaml:\n")
	if !ok {
		t.Fatalf("no config in output")
	}
	var doc struct {
		Slack struct {
			TeamID    string   `yaml:"team_id"`
			Channels  []string `yaml:"channels"`
			Approvers []string `yaml:"approvers"`
		} `yaml:"slack"`
		Graph struct {
			BaseURL string `yaml:"base_url"`
		} `yaml:"graph"`
		Tenants []struct {
			ID, Domain, Keep string
		} `yaml:"tenants"`
	}
	if err := yaml.Unmarshal([]byte(cfg), &doc); err != nil {
		t.Fatalf("config is not YAML: %v\n%s", err, cfg)
	}
	if doc.Slack.TeamID != demo.Team || len(doc.Tenants) != 1 || !strings.HasSuffix(doc.Graph.BaseURL, "/v1.0") ||
		doc.Tenants[0].Domain != "contoso.onmicrosoft.com" || doc.Tenants[0].Keep == "" {
		t.Errorf("unexpected config: %+v", doc)
	}
}

func TestEmulateRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--users", "1"}, {"--time-scale", "0"}, {"--epoch", "yesterday"}, {"--tenants", "0"}, {"--quota-scale", "0"}} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), append([]string{"emulate", "--print-only"}, args...), &out, &errb); code != 1 {
			t.Errorf("%v: exit %d, want 1 (stderr %q)", args, code, errb.String())
		}
	}
}

// The bench's flags: more tenants under the one app, every user deletable,
// a quota knob and other apps' load.
func TestEmulateBenchFlags(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"emulate", "--users", "20", "--print-only", "--tenants", "2", "--plain-users",
		"--quota-scale", "10", "--background-writes", "5"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	text := out.String()
	if !strings.Contains(text, "# throttling: quota scale 10 (test knob), background writes 5/s per tenant") {
		t.Errorf("no throttling line:\n%s", text)
	}
	_, cfg, _ := strings.Cut(text, "# closebot.yaml:\n")
	var doc struct {
		Tenants []struct {
			ID, Domain, Keep string
			ClientID         string `yaml:"client_id"`
		} `yaml:"tenants"`
	}
	if err := yaml.Unmarshal([]byte(cfg), &doc); err != nil {
		t.Fatalf("config is not YAML: %v\n%s", err, cfg)
	}
	if len(doc.Tenants) != 2 || doc.Tenants[1].Domain != "contoso2.onmicrosoft.com" || doc.Tenants[1].Keep != "admin@contoso2.onmicrosoft.com" ||
		doc.Tenants[0].ID == doc.Tenants[1].ID || doc.Tenants[0].ClientID != doc.Tenants[1].ClientID {
		t.Errorf("tenants = %+v", doc.Tenants)
	}
}
