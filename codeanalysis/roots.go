package codeanalysis

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// A root is a directory whose contents may be analysed.
type root struct {
	given string // absolute and clean, as configured
	real  string // given with its symbolic links resolved
}

// resolveRoots makes every root absolute, resolves its symbolic links once,
// and checks that it is a directory. Both spellings are kept: requests name
// paths under the given one, while containment is decided on the real one.
// Without roots it takes the working directory, or, when that is too wide
// (see tooWide), none, and says why in refusal.
func resolveRoots(opts Options) (roots []root, refusal, err error) {
	paths := opts.Roots
	if len(paths) == 0 {
		wd, err := opts.getwd()
		if err != nil {
			return nil, nil, fmt.Errorf("codeanalysis: working directory: %w", err)
		}
		if why := tooWide(wd, opts.userHome); why != "" {
			return nil, fmt.Errorf("%w: no --allow-root was given, and the working directory %s is %s, too wide to allow by default; "+
				"start the server with --allow-root naming the project to analyse (Options.Roots from Go)", ErrNoRoots, wd, why), nil
		}
		paths = []string{wd}
	}
	roots, err = resolvePaths(paths)
	return roots, nil, err
}

// tooWide says why the working directory dir may not stand in for the
// roots, or "" when it may: it is the filesystem root, or the user's home
// directory or one above it (such as /home), which hold every file of the
// user. MCP clients and other launchers often start servers there.
func tooWide(dir string, userHome func() (string, error)) string {
	real := dir
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		real = r
	}
	real = filepath.Clean(real)
	if filepath.Dir(real) == real {
		return "the filesystem root"
	}
	home, err := userHome()
	if err != nil || home == "" {
		return "" // no home to protect
	}
	if r, err := filepath.EvalSymlinks(home); err == nil {
		home = r
	}
	home = filepath.Clean(home)
	switch {
	case home == real:
		return "your home directory"
	case within(real, home):
		return "above your home directory (" + home + ")"
	}
	return ""
}

// resolvePaths resolves the roots given.
func resolvePaths(paths []string) ([]root, error) {
	roots := make([]root, 0, len(paths))
	seen := make(map[string]bool, len(paths))
	for _, p := range paths {
		if strings.TrimSpace(p) == "" {
			return nil, errors.New("codeanalysis: empty root")
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("codeanalysis: root %q: %w", p, err)
		}
		real, err := filepath.EvalSymlinks(abs)
		if err != nil {
			return nil, fmt.Errorf("codeanalysis: root %q: %w", p, err)
		}
		fi, err := os.Stat(real)
		if err != nil {
			return nil, fmt.Errorf("codeanalysis: root %q: %w", p, err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("codeanalysis: root %q is not a directory", p)
		}
		if seen[real] {
			continue
		}
		seen[real] = true
		roots = append(roots, root{given: abs, real: real})
	}
	return roots, nil
}

// within reports whether p is dir or below it. Both must be clean and
// absolute.
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	if err != nil {
		return false
	}
	return rel == "." || (rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel))
}

// rootsList is the allowed roots for an error message.
func (a *Analyzer) rootsList() string {
	names := make([]string, len(a.roots))
	for i, r := range a.roots {
		names[i] = r.given
	}
	return strings.Join(names, ", ")
}

// realRoot returns the root whose real directory contains the resolved path p.
func (a *Analyzer) realRoot(p string) (int, bool) {
	for i, r := range a.roots {
		if within(r.real, p) {
			return i, true
		}
	}
	return -1, false
}

// lexicalRoot returns the root that contains the cleaned, unresolved path p,
// under either spelling of the root, and p relative to it.
func (a *Analyzer) lexicalRoot(p string) (root, string, bool) {
	for _, r := range a.roots {
		for _, dir := range []string{r.given, r.real} {
			if within(dir, p) {
				rel, _ := filepath.Rel(dir, p)
				return r, filepath.ToSlash(rel), true
			}
		}
	}
	return root{}, "", false
}

// A target is a requested path that has been checked against the roots.
type target struct {
	display string // slash-separated, relative to root; "." for the root itself
	root    root   // the root the request named it under
	real    string // absolute, every symbolic link resolved
}

// resolve turns a requested path into a target. A relative path is looked
// for under each root in turn. The path is checked twice: as written (so that
// "../../etc/passwd" is refused before anything is touched) and once its
// symbolic links are resolved (so that a link cannot lead out of the roots).
func (a *Analyzer) resolve(p string) (target, error) {
	if strings.TrimSpace(p) == "" {
		return target{}, fmt.Errorf("%w: path is required", ErrBadRequest)
	}
	if strings.IndexByte(p, 0) >= 0 {
		return target{}, fmt.Errorf("%w: path contains a NUL byte", ErrBadRequest)
	}
	var cands []string
	if filepath.IsAbs(p) {
		cands = []string{filepath.Clean(p)}
	} else {
		for _, r := range a.roots {
			cands = append(cands, filepath.Join(r.given, p))
		}
	}
	inside := false
	for _, c := range cands {
		r, rel, ok := a.lexicalRoot(c)
		if !ok {
			continue
		}
		inside = true
		real, err := filepath.EvalSymlinks(c)
		if err != nil {
			if missing(err) {
				continue
			}
			return target{}, fmt.Errorf("resolving %q: %w", p, osErr(err))
		}
		if _, ok := a.realRoot(real); !ok {
			return target{}, fmt.Errorf("%w: %q leads out of them through a symbolic link (allowed roots: %s)", ErrOutsideRoots, p, a.rootsList())
		}
		return target{display: rel, root: r, real: real}, nil
	}
	if !inside {
		return target{}, fmt.Errorf("%w: %q (allowed roots: %s)", ErrOutsideRoots, p, a.rootsList())
	}
	return target{}, fmt.Errorf("%w: %q", ErrNotFound, p)
}

// missing reports whether err means that a path, or one of its parents, does
// not exist (a parent that is a file counts).
func missing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// osErr drops the path from an *fs.PathError: messages name paths as the
// caller wrote them, not as absolute paths on this machine.
func osErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// rootFiles opens files through os.Root, one handle per root, so that a
// symbolic link swapped in after a path was checked still cannot lead out of
// the root. It is used by one request and closed at its end.
type rootFiles struct {
	a    *Analyzer
	open []*os.Root
}

func (a *Analyzer) newRootFiles() *rootFiles {
	return &rootFiles{a: a, open: make([]*os.Root, len(a.roots))}
}

// rel returns the handle of the root containing the resolved path real, and
// real relative to it.
func (f *rootFiles) rel(real string) (*os.Root, string, error) {
	i, ok := f.a.realRoot(real)
	if !ok {
		return nil, "", fmt.Errorf("%w (allowed roots: %s)", ErrOutsideRoots, f.a.rootsList())
	}
	if f.open[i] == nil {
		r, err := os.OpenRoot(f.a.roots[i].real)
		if err != nil {
			return nil, "", fmt.Errorf("opening root %q: %w", f.a.roots[i].given, osErr(err))
		}
		f.open[i] = r
	}
	rel, err := filepath.Rel(f.a.roots[i].real, real)
	if err != nil {
		return nil, "", err
	}
	return f.open[i], rel, nil
}

func (f *rootFiles) stat(real string) (fs.FileInfo, error) {
	r, rel, err := f.rel(real)
	if err != nil {
		return nil, err
	}
	return r.Stat(rel)
}

func (f *rootFiles) openFile(real string) (*os.File, error) {
	r, rel, err := f.rel(real)
	if err != nil {
		return nil, err
	}
	return r.Open(rel)
}

func (f *rootFiles) close() {
	for _, r := range f.open {
		if r != nil {
			r.Close()
		}
	}
}
