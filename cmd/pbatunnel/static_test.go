package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// TestStaticBuild builds pbatunnel as the Dockerfile does, with its own
// go build command (CGO_ENABLED=0, -trimpath, -ldflags "-s -w"), from the
// files .dockerignore lets into the build context, and checks that the
// result is a single static binary: an ELF file with no program
// interpreter (the dynamic loader) and no shared library to load, that
// runs. It is the README's CGO_ENABLED=0 build too: the other flags trim
// paths and strip symbols, they do not change how it links. The default
// build links the C library for net and os/user; with cgo off they fall
// back to their pure Go code, and the SQLite driver is pure Go already,
// so nothing is lost. The build reuses the go command's cache, so it
// costs a full compile once, then seconds.
func TestStaticBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	goTool := testenv.Require(t, "go")
	env, args := dockerBuildCommand(t, readDockerfile(t))
	if !slices.Contains(env, "CGO_ENABLED=0") {
		t.Errorf("the Dockerfile builds with %q, want CGO_ENABLED=0", env)
	}
	bin := filepath.Join(t.TempDir(), "pbatunnel")
	i := slices.Index(args, "-o")
	if i < 0 || i+1 >= len(args) {
		t.Fatalf("the Dockerfile's go %q names no -o output", args)
	}
	args[i+1] = bin
	build := exec.Command(goTool, args...)
	build.Dir = dockerContext(t)
	build.Env = append(os.Environ(), env...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%s go %s: %v\n%s", strings.Join(env, " "), strings.Join(args, " "), err, out)
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
