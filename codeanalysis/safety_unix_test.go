//go:build unix

package codeanalysis

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A FIFO is refused without opening it: opening would block.
func TestFIFO(t *testing.T) {
	dir := writeTree(t, map[string]string{"a.go": "package a\n"})
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.go"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	a := mustNew(t, Options{Roots: []string{dir}})
	done := make(chan error, 1)
	go func() {
		_, err := a.Analyze(context.Background(), Request{Path: "pipe.go", Type: "complexity"})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "pipe.go") {
			t.Errorf("err = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Analyze blocked on a FIFO")
	}
	res, err := a.Analyze(context.Background(), Request{Path: ".", Type: "complexity"})
	if err != nil || res.FilesAnalyzed != 1 || res.FilesSkipped != 1 || res.Skipped[0].Reason != "not a regular file" {
		t.Errorf("a walk skips the FIFO: %+v, %v", res, err)
	}
}
