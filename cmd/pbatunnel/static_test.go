package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// TestStaticBuild builds pbatunnel as the README says to get a single
// static binary, CGO_ENABLED=0, and checks that it is one: an ELF file
// with no program interpreter (the dynamic loader) and no shared library
// to load, that runs. The default build links the C library for net and
// os/user; with cgo off they fall back to their pure Go code, and the
// SQLite driver is pure Go already, so nothing is lost. The build reuses
// the go command's cache, so it costs a full compile once, then seconds.
func TestStaticBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	goTool := testenv.Require(t, "go")
	bin := filepath.Join(t.TempDir(), "pbatunnel")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}

	if runtime.GOOS == "linux" {
		checkStatic(t, bin)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "pbatunnel ") {
		t.Errorf("%s version: %v: %q", bin, err, out)
	}
}

// checkStatic fails the test unless the ELF file at path loads without
// the dynamic loader: no PT_INTERP program header, no DT_NEEDED library.
func checkStatic(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("reading the binary as ELF: %v", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("the binary names a program interpreter (PT_INTERP): it is linked dynamically")
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatalf("reading the binary's needed libraries: %v", err)
	}
	if len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %q", libs)
	}
}
