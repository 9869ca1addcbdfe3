package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// repoRoot is the repository's root from this package's directory.
var repoRoot = filepath.Join("..", "..")

// A dockerInstruction is one instruction of a Dockerfile, its continuation
// lines joined.
type dockerInstruction struct {
	Cmd  string // upper case: FROM, RUN…
	Args string
}

// readDockerfile reads the repository's Dockerfile into instructions.
func readDockerfile(t *testing.T) []dockerInstruction {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out  []dockerInstruction
		line strings.Builder
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		text := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(text, "#") || text == "" && line.Len() == 0 {
			continue
		}
		if cont, ok := strings.CutSuffix(text, `\`); ok {
			line.WriteString(cont + " ")
			continue
		}
		line.WriteString(text)
		cmd, args, _ := strings.Cut(strings.TrimSpace(line.String()), " ")
		out = append(out, dockerInstruction{Cmd: strings.ToUpper(cmd), Args: strings.Join(strings.Fields(args), " ")})
		line.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// finalStage returns the instructions after the last FROM, and that FROM's
// arguments.
func finalStage(ins []dockerInstruction) (from string, stage []dockerInstruction) {
	for i, in := range ins {
		if in.Cmd == "FROM" {
			from, stage = in.Args, ins[i+1:]
		}
	}
	return from, stage
}

// instruction returns the arguments of the one instruction cmd in stage.
func instruction(t *testing.T, stage []dockerInstruction, cmd string) string {
	t.Helper()
	var found []string
	for _, in := range stage {
		if in.Cmd == cmd {
			found = append(found, in.Args)
		}
	}
	if len(found) != 1 {
		t.Fatalf("the Dockerfile's final stage has %d %s instructions, want 1: %q", len(found), cmd, found)
	}
	return found[0]
}

// execForm decodes an instruction's exec form, ["a", "b"].
func execForm(t *testing.T, cmd, args string) []string {
	t.Helper()
	var argv []string
	if err := json.Unmarshal([]byte(args), &argv); err != nil || len(argv) == 0 {
		t.Fatalf("%s %s: want the exec form [\"program\", \"arg\"…] (no shell in the image): %v", cmd, args, err)
	}
	return argv
}

// dockerBuildCommand returns the environment and the arguments of the
// build stage's "go build", as the Dockerfile runs it.
func dockerBuildCommand(t *testing.T, ins []dockerInstruction) (env, args []string) {
	t.Helper()
	for _, in := range ins {
		if in.Cmd != "RUN" || !strings.Contains(in.Args, "go build") {
			continue
		}
		words, err := shellWords(in.Args)
		if err != nil {
			t.Fatalf("RUN %s: %v", in.Args, err)
		}
		for len(words) > 0 && strings.HasPrefix(words[0], "--mount=") {
			words = words[1:]
		}
		if i := slices.Index(words, "&&"); i >= 0 {
			words = words[:i]
		}
		for len(words) > 0 && strings.Contains(words[0], "=") {
			env, words = append(env, words[0]), words[1:]
		}
		if len(words) < 2 || words[0] != "go" || words[1] != "build" {
			t.Fatalf("RUN %s: want [VAR=value…] go build …", in.Args)
		}
		return env, words[1:]
	}
	t.Fatal("the Dockerfile runs no go build")
	return nil, nil
}

// shellWords splits s into words as a shell would for the plain commands
// of the Dockerfile: on blanks, with double quotes grouping.
func shellWords(s string) ([]string, error) {
	var (
		words  []string
		word   strings.Builder
		quoted bool
		inWord bool
	)
	for _, r := range s {
		switch {
		case r == '"':
			quoted, inWord = !quoted, true
		case r == '\\' || r == '\'' || r == '$' || r == '`':
			return nil, fmt.Errorf("%q is more shell than this test reads", r)
		case (r == ' ' || r == '\t') && !quoted:
			if inWord {
				words, inWord = append(words, word.String()), false
				word.Reset()
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		return nil, errors.New("unclosed quote")
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}

// dockerContext copies the files of the repository that .dockerignore
// lets into the Docker build context to a directory, and returns it. Its
// patterns are read as Docker reads them, from the context's root; the
// test fails on syntax it does not implement (** and !) rather than guess.
func dockerContext(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.Contains(l, "**") || strings.HasPrefix(l, "!") {
			t.Fatalf(".dockerignore: %q: this test reads no ** or ! patterns", l)
		}
		patterns = append(patterns, strings.TrimPrefix(filepath.Clean(l), "/"))
	}
	ignored := func(rel string) bool {
		for _, p := range patterns {
			if ok, err := filepath.Match(p, rel); err != nil {
				t.Fatalf(".dockerignore: %q: %v", p, err)
			} else if ok {
				return true
			}
		}
		return false
	}
	dst := t.TempDir()
	err = filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(repoRoot, path)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case ignored(rel) && d.IsDir():
			return filepath.SkipDir
		case ignored(rel):
			return nil
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		case !d.Type().IsRegular():
			return nil
		}
		return copyIntoContext(path, filepath.Join(dst, rel))
	})
	if err != nil {
		t.Fatalf("copying the build context: %v", err)
	}
	return dst
}

// copyIntoContext copies the file src to dst with its permissions.
func copyIntoContext(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// TestDockerfile checks the image's instructions, then runs the binary as
// the image would: with its ENV, ENTRYPOINT and CMD (on another port), it
// refuses to listen beyond loopback without a token and serves with one,
// and its HEALTHCHECK command passes while it serves and fails after.
func TestDockerfile(t *testing.T) {
	clearEnv(t)
	ins := readDockerfile(t)
	if len(ins) == 0 || ins[0].Cmd != "FROM" || !strings.HasPrefix(ins[0].Args, "golang:") || !strings.HasSuffix(ins[0].Args, " AS build") {
		t.Errorf("the first stage is %+v, want FROM golang:… AS build", ins[0])
	}
	from, stage := finalStage(ins)
	if !strings.HasPrefix(from, "gcr.io/distroless/static") && from != "scratch" {
		t.Errorf("final stage FROM %s, want a distroless static base or scratch", from)
	}
	if user := instruction(t, stage, "USER"); user == "root" || user == "0" || strings.HasPrefix(user, "0:") || strings.HasPrefix(user, "root:") {
		t.Errorf("USER %s: want a user that is not root", user)
	}
	if v := instruction(t, stage, "VOLUME"); v != `["/data"]` {
		t.Errorf("VOLUME %s, want [\"/data\"]", v)
	}
	port := instruction(t, stage, "EXPOSE")
	env := strings.Fields(instruction(t, stage, "ENV"))
	wantEnv := []string{"PBATUNNEL_ADDR=0.0.0.0:" + port, "PBATUNNEL_DATA_DIR=/data"}
	for _, kv := range wantEnv {
		if !slices.Contains(env, kv) {
			t.Errorf("ENV %q lacks %s", env, kv)
		}
	}
	health := instruction(t, stage, "HEALTHCHECK")
	_, hc, ok := strings.Cut(health, " CMD ")
	if !ok {
		t.Fatalf("HEALTHCHECK %s: want options then CMD", health)
	}
	check := execForm(t, "HEALTHCHECK CMD", hc)
	entry := execForm(t, "ENTRYPOINT", instruction(t, stage, "ENTRYPOINT"))
	cmd := execForm(t, "CMD", instruction(t, stage, "CMD"))
	livez := "http://127.0.0.1:" + port + "/livez"
	if len(check) < 3 || check[0] != entry[0] || check[1] != "probe" || check[len(check)-1] != livez {
		t.Fatalf("HEALTHCHECK CMD %q, want [%q, \"probe\", …, %q]", check, entry[0], livez)
	}
	if len(entry) != 1 || !slices.Equal(cmd, []string{"serve"}) {
		t.Errorf("ENTRYPOINT %q CMD %q, want the binary, then serve", entry, cmd)
	}

	// The image's process, on a free port instead of the container's.
	free := testenv.FreePort(t)
	runEnv := []string{"GORACE=atexit_sleep_ms=0"}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "PBATUNNEL_ADDR":
			v = strings.TrimSuffix(v, port) + fmt.Sprint(free)
		case "PBATUNNEL_DATA_DIR":
			v = t.TempDir()
		}
		runEnv = append(runEnv, k+"="+v)
	}
	out, err := binaryCommand(t.Context(), t, runEnv, cmd...).CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "PBATUNNEL_AUTH_TOKEN") {
		t.Errorf("the image's command without a token: %v, want exit status 2 asking for PBATUNNEL_AUTH_TOKEN:\n%s", err, out)
	}
	srv := binaryCommand(t.Context(), t, append(runEnv, "PBATUNNEL_AUTH_TOKEN=image-test"), cmd...)
	stop := startUntil(t, srv, `"msg":"starting"`)
	probeArgs := slices.Clone(check[1:])
	probeArgs[len(probeArgs)-1] = fmt.Sprintf("http://127.0.0.1:%d/livez", free)
	if out, err := binaryCommand(t.Context(), t, nil, probeArgs...).CombinedOutput(); err != nil {
		t.Errorf("the HEALTHCHECK command while serving: %v\n%s", err, out)
	}
	stop()
	start := time.Now()
	out, err = binaryCommand(t.Context(), t, nil, probeArgs...).CombinedOutput()
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("the HEALTHCHECK command once stopped: %v, want exit status 1 (Docker's unhealthy)\n%s", err, out)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the HEALTHCHECK command took %v to fail", d)
	}
}

func TestShellWords(t *testing.T) {
	got, err := shellWords(`CGO_ENABLED=0 go build -ldflags "-s -w"  -o /out/x ./cmd/x && mkdir -p /d`)
	want := []string{"CGO_ENABLED=0", "go", "build", "-ldflags", "-s -w", "-o", "/out/x", "./cmd/x", "&&", "mkdir", "-p", "/d"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("shellWords = %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{`go build "-s`, `go build $FLAGS`, `go build 'a'`} {
		if _, err := shellWords(bad); err == nil {
			t.Errorf("shellWords(%q) succeeded", bad)
		}
	}
}
