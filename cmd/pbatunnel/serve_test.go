package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// waitLimit bounds every wait on the program. It is generous because a
// loaded CI machine running the race detector can be slow; a healthy run
// takes well under a second.
const waitLimit = 30 * time.Second

var (
	binDir    string // removed by TestMain
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pbatunnel-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	testenv.StopPostgres()
	os.RemoveAll(dir)
	os.Exit(code)
}

// binary builds pbatunnel once per test run, with the race detector when
// the tests have it, and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	goTool := testenv.Require(t, "go")
	buildOnce.Do(func() {
		binPath = filepath.Join(binDir, "pbatunnel")
		args := []string{"build", "-o", binPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		out, err := exec.Command(goTool, append(args, ".")...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// binaryCommand prepares the binary with args, in the test's environment minus
// any PBATUNNEL_* variable, plus env.
func binaryCommand(ctx context.Context, t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PBATUNNEL_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// startUntil starts cmd and waits until its stderr says started; stop
// interrupts it and waits for it to end (once; also when the test ends).
func startUntil(t *testing.T, cmd *exec.Cmd, started string) (stop func()) {
	t.Helper()
	var logs testenv.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() { once.Do(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }) }
	t.Cleanup(stop)
	for deadline := time.Now().Add(waitLimit); !strings.Contains(logs.String(), started); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start:\n%s", cmd.Args[1], logs.String())
		}
	}
	return stop
}

// logLine is one JSON log record.
type logLine map[string]any

func (l logLine) msg() string { s, _ := l["msg"].(string); return s }

// readLines decodes r's JSON lines onto a channel until EOF or until done is
// closed, so the goroutine never outlives the test.
func readLines(t *testing.T, r io.Reader, done <-chan struct{}) <-chan logLine {
	ch := make(chan logLine)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			var l logLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				l = logLine{"msg": "<not JSON>", "text": sc.Text()}
			}
			select {
			case ch <- l:
			case <-done:
				return
			}
		}
	}()
	return ch
}

// next returns the next line for which keep is true, failing the test if
// the output ends or waitLimit passes first.
func next(t *testing.T, lines <-chan logLine, deadline <-chan time.Time, what string, keep func(logLine) bool) logLine {
	t.Helper()
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("output ended before %s", what)
			}
			if l.msg() == "<not JSON>" {
				t.Errorf("log line is not JSON: %s", l["text"])
			}
			if keep(l) {
				return l
			}
		case <-deadline:
			t.Fatalf("no %s within %s", what, waitLimit)
		}
	}
}

func TestServeLogsSamplesAndStopsOnSIGTERM(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "new", "data") // created by serve
	cmd := binaryCommand(t.Context(), t, nil,
		"serve", "--addr", "127.0.0.1:0", "--interval", "200ms", "--data-dir", dataDir, "--log-format", "json")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	waited := false
	t.Cleanup(func() {
		close(done)
		if !waited {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	lines := readLines(t, stderr, done)
	deadline := time.After(waitLimit)

	start := next(t, lines, deadline, "start line", func(l logLine) bool { return l.msg() == "starting" })
	for key, want := range map[string]any{
		"interval": float64(200 * time.Millisecond),
		"data_dir": dataDir, "config_file": "",
	} {
		if start[key] != want {
			t.Errorf("start line %s = %v (%T), want %v", key, start[key], start[key], want)
		}
	}
	if v, _ := start["version"].(string); v == "" {
		t.Errorf("start line version = %v, want a version", start["version"])
	}

	sample := next(t, lines, deadline, "sample line", func(l logLine) bool { return l.msg() == "sample" })
	if seq, ok := sample["seq"].(float64); !ok || seq < 1 {
		t.Errorf("sample seq = %v, want a number >= 1", sample["seq"])
	}
	// The dashboard serves on the port it was given (any free one here).
	url, _ := start["dashboard"].(string)
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("start line dashboard = %v", start["dashboard"])
	}
	res, err := http.Get(url + "/api/health")
	if err != nil {
		t.Fatal(err)
	}
	var health map[string]any
	err = json.NewDecoder(res.Body).Decode(&health)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK || health["status"] == nil {
		t.Errorf("GET /api/health: %d %v (%v)", res.StatusCode, health, err)
	}
	if mem, ok := sample["memory_percent"].(float64); !ok || mem <= 0 || mem > 100 {
		t.Errorf("sample memory_percent = %v, want a measured percentage", sample["memory_percent"])
	}
	// CPU needs two readings, so the first sample may lack it, but then it
	// must say why rather than show a made-up number.
	switch cpu := sample["cpu_percent"].(type) {
	case float64:
		if cpu < 0 || cpu > 100 {
			t.Errorf("sample cpu_percent = %v, want 0..100", cpu)
		}
	case string:
		if !strings.HasPrefix(cpu, "n/a: ") {
			t.Errorf("sample cpu_percent = %q, want a number or an n/a reason", cpu)
		}
	default:
		t.Errorf("sample cpu_percent = %v (%T), want a number or an n/a reason", cpu, cpu)
	}

	info, err := os.Stat(dataDir)
	if err != nil {
		t.Fatalf("data dir: %v", err)
	}
	if perm := info.Mode().Perm(); !info.IsDir() || perm&0o077 != 0 {
		t.Errorf("data dir mode = %v, want a directory private to its owner", info.Mode())
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	stopped := next(t, lines, deadline, "stopped line", func(l logLine) bool { return l.msg() == "stopped" })
	if reason, _ := stopped["reason"].(string); !strings.Contains(reason, "terminated") {
		t.Errorf("stopped reason = %q, want the signal", reason)
	}
	for range lines { // drain to EOF, as Wait requires
	}
	waited = true
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0", err)
	}
	if stdout.Len() > 0 {
		t.Errorf("stdout = %q, want logs on stderr only", &stdout)
	}
}

func TestServeRejectsBadInvocation(t *testing.T) {
	dir := t.TempDir()
	badConfig := filepath.Join(dir, "pbatunnel.yaml")
	if err := os.WriteFile(badConfig, []byte("interval: 1s\nretention:\n  max_age: 1h\n  max_sampels: 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hugeRing := filepath.Join(dir, "huge-ring.yaml")
	if err := os.WriteFile(hugeRing, []byte("call_ring: 50000000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  []string
		want []string
	}{
		{name: "unknown flag", args: []string{"--intervall", "1s"},
			want: []string{"flag provided but not defined: -intervall", "Usage: pbatunnel serve"}},
		{name: "flag without value", args: []string{"--interval"},
			want: []string{"flag needs an argument: -interval"}},
		{name: "bad env interval", env: []string{"PBATUNNEL_INTERVAL=banana"},
			want: []string{"PBATUNNEL_INTERVAL", `"banana"`}},
		{name: "bad env addr", env: []string{"PBATUNNEL_ADDR=localhost"},
			want: []string{"PBATUNNEL_ADDR", "host:port"}},
		{name: "config unknown key", args: []string{"--config", badConfig},
			want: []string{badConfig + ":4: retention.max_sampels: unknown key"}},
		{name: "config from env unknown key", env: []string{"PBATUNNEL_CONFIG=" + badConfig},
			want: []string{badConfig + ":4: retention.max_sampels: unknown key"}},
		{name: "no call ring", args: []string{"--call-ring", "0"},
			want: []string{`invalid value "0" for flag -call-ring: must be at least 1 call, got 0`}},
		{name: "negative call ring from env", env: []string{"PBATUNNEL_CALL_RING=-3"},
			want: []string{`environment variable PBATUNNEL_CALL_RING: invalid value "-3": must be at least 1 call, got -3`}},
		{name: "huge call ring in config", args: []string{"--config", hugeRing},
			want: []string{hugeRing + ":1: call_ring: must be at most 1000000 calls, got 50000000: each call kept takes about 250 bytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Should the command wrongly start serving, the context ends it.
			ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
			defer cancel()
			args := append([]string{"serve", "--data-dir", dir}, tt.args...)
			cmd := binaryCommand(ctx, t, tt.env, args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("run: %v, want a non-zero exit\nstderr: %s", err, &stderr)
			}
			if code := exit.ExitCode(); code != 2 {
				t.Errorf("exit code = %d, want 2\nstderr: %s", code, &stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr = %q, want it to contain %q", &stderr, w)
				}
			}
		})
	}
}

// syncBuffer collects output written by the command under test while the
// test reads it, and signals each write.
type syncBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	wrote chan struct{}
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{wrote: make(chan struct{}, 1)} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case b.wrote <- struct{}{}:
	default:
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestServeInProcess runs serve inside the test so that the race detector
// and the leak check see its goroutines: all must end with the context.
func TestServeInProcess(t *testing.T) {
	clearEnv(t)
	ignore := goleak.IgnoreCurrent()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stderr := newSyncBuffer()
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, []string{"serve", "--interval", "100ms", "--data-dir", t.TempDir()},
			io.Discard, stderr)
	}()

	deadline := time.After(waitLimit)
	for !strings.Contains(stderr.String(), "msg=sample ") {
		select {
		case <-stderr.wrote:
		case code := <-exited:
			t.Fatalf("serve exited with %d before a sample:\n%s", code, stderr)
		case <-deadline:
			t.Fatalf("no sample within %s:\n%s", waitLimit, stderr)
		}
	}
	cancel()
	select {
	case code := <-exited:
		if code != 0 {
			t.Errorf("exit code = %d, want 0", code)
		}
	case <-deadline:
		t.Fatalf("serve did not stop within %s of its context ending", waitLimit)
	}
	out := stderr.String()
	for _, want := range []string{"msg=starting", "msg=sample", "msg=stopped reason=\"context canceled\""} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	goleak.VerifyNone(t, ignore)
}
