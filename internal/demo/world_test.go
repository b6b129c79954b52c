package demo

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

func TestWorldServesStatsAndSharedClock(t *testing.T) {
	epoch := time.Now().Add(-time.Second)
	w, err := StartWorld(Options{Users: 10, Scale: 3600, Epoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// Emulated time ran about an hour per wall second since the epoch.
	if ahead := w.Graph().Clock().Now().Sub(epoch); ahead < 50*time.Minute {
		t.Errorf("graph clock only %v past the epoch", ahead)
	}
	for _, c := range []struct {
		url    string
		client *http.Client
	}{{w.Slack().URL() + "/emulator/stats", http.DefaultClient}, {w.Graph().URL() + "/emulator/stats", w.Graph().Client()}} {
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
