package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
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
	if doc.Slack.TeamID != worldTeam || len(doc.Tenants) != 1 || !strings.HasSuffix(doc.Graph.BaseURL, "/v1.0") ||
		doc.Tenants[0].Domain != "contoso.onmicrosoft.com" || doc.Tenants[0].Keep == "" {
		t.Errorf("unexpected config: %+v", doc)
	}
}

func TestEmulateRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--users", "1"}, {"--time-scale", "0"}, {"--epoch", "yesterday"}} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), append([]string{"emulate", "--print-only"}, args...), &out, &errb); code != 1 {
			t.Errorf("%v: exit %d, want 1 (stderr %q)", args, code, errb.String())
		}
	}
}

func TestWorldServesStatsAndSharedClock(t *testing.T) {
	epoch := time.Now().Add(-time.Second)
	w, err := startWorld(worldOptions{Users: 10, Scale: 3600, Epoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	// Emulated time ran about an hour per wall second since the epoch.
	if ahead := w.graph.Clock().Now().Sub(epoch); ahead < 50*time.Minute {
		t.Errorf("graph clock only %v past the epoch", ahead)
	}
	for _, c := range []struct {
		url    string
		client *http.Client
	}{{w.slack.URL() + "/emulator/stats", http.DefaultClient}, {w.graph.URL() + "/emulator/stats", w.graph.Client()}} {
		resp, err := c.client.Get(c.url)
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		err = json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
		if resp.StatusCode != 200 || err != nil {
			t.Errorf("%s: status %d, decode %v", c.url, resp.StatusCode, err)
		}
	}
}
