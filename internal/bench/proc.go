package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/closebot/closebot/config"
)

// proc is a child closebot process (`closebot emulate` or `closebot run`).
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	log  string // file holding its stderr
}

// start runs exe with args and env; stderr goes to dir/<name>.log.
func start(exe, name, dir string, args, env []string, stdout io.Writer) (*proc, error) {
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("%s's log: %w", name, err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, stdout, logf
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() {
		p.err = cmd.Wait()
		_ = logf.Close()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the child has ended, and why.
func (p *proc) exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// stop asks the child to stop (SIGINT, as Ctrl-C) and kills it if it has
// not within ten seconds.
func (p *proc) stop() {
	if ok, _ := p.exited(); ok {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// tail is the end of the child's log, for an error message.
func (p *proc) tail() string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return ""
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return s
}

var vmHWM = regexp.MustCompile(`(?m)^VmHWM:\s+(\d+)\s+kB`)

// peakRSS is the child's peak resident set size (VmHWM), in bytes.
func (p *proc) peakRSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("read %s's peak RSS: %w", p.name, err)
	}
	m := vmHWM.FindSubmatch(b)
	if m == nil {
		return 0, errors.New("no VmHWM in /proc/<pid>/status")
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10, nil
}

// emulator is a running `closebot emulate`: the Graph emulator the bench
// measures at (its Slack emulator is left idle: the bench's own one, in
// this process, is where the people type).
type emulator struct {
	*proc
	root    string            // https://127.0.0.1:port, for /emulator/...
	env     map[string]string // what it printed for closebot
	cfgYAML string            // the closebot.yaml it wrote
	cfg     *config.Config
}

var graphAt = regexp.MustCompile(`Graph and Entra login at (https://\S+)`)

// startEmulator starts `closebot emulate` with args and waits until it serves.
func startEmulator(ctx context.Context, exe, dir string, args []string) (*emulator, error) {
	cfgPath := filepath.Join(dir, "emulate.yaml")
	pr, pw := io.Pipe()
	p, err := start(exe, "emulate", dir, append([]string{"emulate", "--write-config", cfgPath}, args...), os.Environ(), pw)
	if err != nil {
		return nil, err
	}
	e := &emulator{proc: p, env: map[string]string{}}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			if m := graphAt.FindStringSubmatch(line); m != nil {
				e.root = m[1]
			}
			if kv, ok := strings.CutPrefix(line, "export "); ok {
				k, v, _ := strings.Cut(kv, "=")
				e.env[k] = strings.ReplaceAll(strings.Trim(v, "'"), `'\''`, "'")
			}
			if strings.HasPrefix(line, "# serving") {
				ready <- nil
				_, _ = io.Copy(io.Discard, pr)
				return
			}
		}
		ready <- fmt.Errorf("closebot emulate stopped before serving: %s", p.tail())
	}()
	go func() { <-p.done; _ = pw.Close() }()
	select {
	case err = <-ready:
	case <-ctx.Done():
		err = ctx.Err()
	case <-time.After(2 * time.Minute):
		err = errors.New("closebot emulate did not start within 2 minutes")
	}
	if err == nil {
		err = e.load(cfgPath)
	}
	if err != nil {
		p.stop()
		return nil, err
	}
	return e, nil
}

func (e *emulator) load(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read the emulator's closebot.yaml: %w", err)
	}
	e.cfgYAML = string(b)
	if e.cfg, err = config.Load(path, func(k string) string { return e.env[k] }); err != nil {
		return fmt.Errorf("the emulator's closebot.yaml: %w", err)
	}
	if e.root == "" {
		return errors.New("closebot emulate printed no Graph address")
	}
	return nil
}
