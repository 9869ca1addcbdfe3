package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// A Server is an external server program started for a test.
type Server struct {
	// URL is "http://127.0.0.1:<port>".
	URL string
	// Output is what the process has written so far.
	Output func() string
}

// StartServer runs the program at path on a free loopback port for the
// length of the test and waits until GET URL+readyPath answers 200. args
// receives the "127.0.0.1:port" address to put on the command line. A free
// port is found by listening and closing, so another process may take it
// first: on "address already in use" it tries another, up to three times.
// The process is killed and waited for when the test ends, and its output
// logged if the test failed.
func StartServer(t testing.TB, path string, args func(addr string) []string, readyPath string, timeout time.Duration) *Server {
	t.Helper()
	for try := 1; ; try++ {
		addr := Addr(FreePort(t))
		out := &Buffer{}
		cmd := exec.Command(path, args(addr)...)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting %s: %v", path, err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		stop := func() {
			_ = cmd.Process.Kill()
			<-exited
		}
		s := &Server{URL: "http://" + addr, Output: out.String}
		err := waitReady(s.URL+readyPath, exited, timeout)
		if err == nil {
			t.Cleanup(func() {
				stop()
				if t.Failed() {
					t.Logf("output of %s:\n%s", path, out.String())
				}
			})
			return s
		}
		stop()
		if try < 3 && strings.Contains(out.String(), "address already in use") {
			continue
		}
		t.Fatalf("%s did not become ready: %v\noutput:\n%s", path, err, out.String())
	}
}

// waitReady polls url until it answers 200, the process exits, or timeout
// passes. Its client is its own, closed after, so that no idle connection
// outlives the wait (tests check for leaked goroutines).
func waitReady(url string, exited <-chan struct{}, timeout time.Duration) error {
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		res, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			err = errors.New(res.Status)
		}
		last = err
		select {
		case <-exited:
			return errors.New("the process exited")
		case <-ctx.Done():
			return fmt.Errorf("not ready after %v (last: %v)", timeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
