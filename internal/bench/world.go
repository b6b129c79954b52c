package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/closebot/closebot/config"
	"github.com/closebot/closebot/internal/demo"
)

// world is one scenario's processes: `closebot emulate` (Graph, measured
// at), optionally the bench's Slack emulator with its people and a
// `closebot run` child on the same time-scaled clock.
type world struct {
	dir        string
	epoch      time.Time
	scale      float64
	emu        *emulator
	graph      *http.Client
	log        *graphLog
	slack      *demo.World // nil without a bot
	bot        *proc
	stopFollow context.CancelFunc
}

// now is emulated time: epoch + (wall − epoch)·scale, as every process of
// the world computes it.
func (w *world) now() time.Time {
	return w.epoch.Add(time.Duration(float64(time.Since(w.epoch)) * w.scale))
}

// wall converts emulated time to wall time.
func (w *world) wall(d time.Duration) time.Duration { return time.Duration(float64(d) / w.scale) }

// startWorld starts the Graph emulator with args (latency in emulated time
// is turned into wall time here) and, with bot, the Slack side and closebot.
func (b *bench) startWorld(ctx context.Context, name string, scale float64, latency time.Duration, bot bool, args ...string) (*world, error) {
	dir, err := os.MkdirTemp(b.o.Dir, "closebot-bench-"+name+"-")
	if err != nil {
		return nil, err
	}
	w := &world{dir: dir, epoch: time.Now().UTC(), scale: scale}
	wallLatency := time.Duration(float64(latency) / scale)
	args = append([]string{"--epoch", w.epoch.Format(time.RFC3339Nano), "--time-scale", fmt.Sprint(scale), "--latency", wallLatency.String()}, args...)
	if w.emu, err = startEmulator(ctx, b.o.Exe, dir, args); err != nil {
		w.close()
		return nil, err
	}
	if w.graph, err = emulatorClient(w.emu.env["SSL_CERT_FILE"], 2*unpacedWorkers); err != nil {
		w.close()
		return nil, err
	}
	w.log = &graphLog{c: w.graph, root: w.emu.root}
	fctx, cancel := context.WithCancel(ctx)
	w.stopFollow = cancel
	go w.log.follow(fctx, 250*time.Millisecond)
	if !bot {
		return w, nil
	}
	// The bench's own Slack emulator, seeded as `closebot emulate`'s (its
	// two-user Graph tenant is not used).
	if w.slack, err = demo.StartWorld(demo.Options{Users: 2, Latency: wallLatency, Scale: scale, Epoch: w.epoch}); err != nil {
		w.close()
		return nil, err
	}
	cfgPath := filepath.Join(dir, "closebot.yaml")
	cfg := strings.Replace(w.emu.cfgYAML, "store: {path: closebot.db}", "store: {path: "+filepath.Join(dir, "closebot.db")+"}", 1)
	// No abort window: the bench measures step 1, not a 30-minute wait.
	cfg = strings.Replace(cfg, "abort_window: 30m", "abort_window: 0s", 1)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		w.close()
		return nil, err
	}
	env := os.Environ()
	for k, v := range w.emu.env {
		if k == config.EnvSlackAPIURL {
			v = w.slack.Slack().APIURL()
		}
		env = append(env, k+"="+v)
	}
	if w.bot, err = start(b.o.Exe, "closebot-run", dir, []string{"run", "--config", cfgPath,
		"--emulated-clock", w.epoch.Format(time.RFC3339Nano) + "," + fmt.Sprint(scale)}, env, nil); err != nil {
		w.close()
		return nil, err
	}
	if err := w.slack.Slack().WaitConnections(1, time.Minute); err != nil {
		err = fmt.Errorf("closebot run did not connect to Slack: %w: %s", err, w.bot.tail())
		w.close()
		return nil, err
	}
	return w, nil
}

func (w *world) people() *people {
	return &people{slack: w.slack.Slack(), graph: w.graph, root: w.emu.root}
}

// botRSS is the bot's peak RSS so far (0 if there is no bot or it is gone).
func (w *world) botRSS() int64 {
	if w.bot == nil {
		return 0
	}
	n, err := w.bot.peakRSS()
	if err != nil {
		return 0
	}
	return n
}

func (w *world) close() {
	if w.stopFollow != nil {
		w.stopFollow()
	}
	if w.bot != nil {
		w.bot.stop()
	}
	if w.slack != nil {
		w.slack.Close()
	}
	if w.emu != nil {
		w.emu.stop()
	}
	_ = os.RemoveAll(w.dir)
}

// spendTenantWrites empties the tenant's all-apps write bucket at the
// emulator, as other apps' writes would have.
func (w *world) spendTenantWrites(ctx context.Context, tenant string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.emu.root+"/emulator/throttle/"+tenant+"/spend-writes", nil)
	if err != nil {
		return err
	}
	resp, err := w.graph.Do(req)
	if err != nil {
		return fmt.Errorf("spend the tenant's writes: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("spend the tenant's writes: %s", resp.Status)
	}
	return nil
}
