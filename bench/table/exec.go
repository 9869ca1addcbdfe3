package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// env is what every row runs with.
type env struct {
	root   string // the module's directory, where every command runs
	module string // its import path, to turn "pkg:" lines into directories
	quick  bool   // run everything once and briefly: prove it works, not how fast
	count  int    // runs of each measurement; 0 leaves it to the row
	tmp    string // for built binaries and files handed to them
	log    io.Writer
	// environ is the commands' environment: this program's, with TMPDIR
	// under tmp, so that what benchmarks leave in the temporary directory
	// (fixture databases) goes when the run ends.
	environ []string

	built map[string]string // package directory → binary
	// ran holds, per package directory, the top-level benchmarks that
	// printed a result, so that the quick run can find the ones no row ran.
	ran map[string]map[string]bool
}

// runs is how many times a row measures each figure: -count when given,
// once in quick mode, else the row's own default.
func (e *env) runs(def int) int {
	switch {
	case e.count > 0:
		return e.count
	case e.quick:
		return 1
	}
	return def
}

// output runs a command in the module's directory and returns its standard
// output. On failure the error ends with the last lines the command wrote,
// which is where "go test" and Go programs say what went wrong.
func (e *env) output(ctx context.Context, name string, args ...string) ([]byte, error) {
	line := shellJoin(name, args...)
	fmt.Fprintf(e.log, "  $ %s\n", line)
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = e.root, e.environ
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%s: %w%s%s", line, err, tail("stdout", stdout.Bytes()), tail("stderr", stderr.Bytes()))
	}
	return stdout.Bytes(), nil
}

// build compiles the main package in dir (relative to the module) once per
// run and returns the binary's path.
func (e *env) build(ctx context.Context, dir string) (string, error) {
	if bin, ok := e.built[dir]; ok {
		return bin, nil
	}
	bin := filepath.Join(e.tmp, strings.ReplaceAll(dir, "/", "_"))
	if _, err := e.output(ctx, "go", "build", "-o", bin, "./"+dir); err != nil {
		return "", fmt.Errorf("building %s: %w", dir, err)
	}
	e.built[dir] = bin
	return bin, nil
}

// A server is a program that prints "serving on URL" when it is ready and
// serves until SIGTERM.
type server struct {
	name   string
	cmd    *exec.Cmd
	url    string
	stderr bytes.Buffer // read only after exit
	done   chan error   // the exit, once stdout is drained
}

// startServer starts bin and waits for its "serving on" line.
func (e *env) startServer(ctx context.Context, name, bin string, args ...string) (*server, error) {
	fmt.Fprintf(e.log, "  $ %s &\n", shellJoin(bin, args...))
	s := &server{name: name, cmd: exec.CommandContext(ctx, bin, args...), done: make(chan error, 1)}
	s.cmd.Dir, s.cmd.Env = e.root, e.environ
	s.cmd.Stderr = &s.stderr
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "serving on "); ok && !strings.Contains(u, " ") {
				select {
				case ready <- u:
				default:
				}
			}
		}
		io.Copy(io.Discard, out) // after a too-long line: keep the pipe flowing
		s.done <- s.cmd.Wait()
	}()
	// dashload fills 15 minutes of history before it listens: seconds,
	// more on a loaded machine.
	const startTimeout = time.Minute
	select {
	case s.url = <-ready:
		return s, nil
	case err := <-s.done:
		return nil, fmt.Errorf("%s exited before serving: %v%s", name, err, tail("stderr", s.stderr.Bytes()))
	case <-time.After(startTimeout):
	case <-ctx.Done():
	}
	s.cmd.Process.Kill()
	err = <-s.done
	return nil, fmt.Errorf("%s did not say where it serves within %v: %v%s", name, startTimeout, errors.Join(ctx.Err(), err), tail("stderr", s.stderr.Bytes()))
}

// stop asks the server to shut down, as Ctrl-C would, and reports an
// unclean exit; it kills the server if it takes too long.
func (s *server) stop() error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stopping %s: %w", s.name, err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			return fmt.Errorf("%s: %w%s", s.name, err, tail("stderr", s.stderr.Bytes()))
		}
		return nil
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("%s did not stop within 10s of SIGTERM", s.name)
	}
}

// tail is the end of a command's output, for an error message.
func tail(name string, out []byte) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return ""
	}
	const keep = 20
	if len(lines) > keep {
		lines = append([]string{"…"}, lines[len(lines)-keep:]...)
	}
	return "\n" + name + ":\n\t" + strings.Join(lines, "\n\t")
}

// shellJoin writes a command as one would type it, quoting what a shell
// would otherwise interpret, so that the table's commands can be pasted.
func shellJoin(name string, args ...string) string {
	parts := []string{name}
	for _, a := range args {
		if a == "" || strings.ContainsFunc(a, func(r rune) bool { return !isPlain(r) }) {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

func isPlain(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,@%+", r)
}
