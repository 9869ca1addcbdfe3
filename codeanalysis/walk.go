package codeanalysis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// entryBudgetPerFile bounds the directory entries a walk looks at, per file
// it may analyse: a tree of a million unsupported files ends the walk early
// instead of taking minutes.
const entryBudgetPerFile = 50

// skipDirs are directories that hold dependencies, build output or
// fixtures rather than the code under analysis.
var skipDirs = map[string]string{
	"node_modules":  "dependencies (node_modules)",
	"vendor":        "vendored dependencies",
	"__pycache__":   "Python bytecode cache",
	"site-packages": "installed Python packages",
	"venv":          "Python virtual environment",
	"testdata":      "test fixtures (testdata); request it directly to analyse it",
}

func skipDirReason(name string) string {
	if name == ".git" {
		return "version control data (.git)"
	}
	if strings.HasPrefix(name, ".") {
		return "hidden directory"
	}
	return skipDirs[name]
}

// reGenerated is the marker of generated Go code (go help generate).
var reGenerated = regexp.MustCompile(`(?m)^// Code generated .* DO NOT EDIT\.\r?$`)

// generatedGo reports whether a Go file says it is generated, before its
// package clause.
func generatedGo(data []byte) bool {
	head := data
	if i := strings.Index(string(head[:min(len(head), 16<<10)]), "\npackage "); i >= 0 {
		head = head[:i]
	} else if len(head) > 16<<10 {
		head = head[:16<<10]
	}
	return reGenerated.Match(head)
}

// A walker analyses the files of a directory tree.
type walker struct {
	a       *Analyzer
	files   *rootFiles
	c       *collector
	budget  int
	stopped bool
}

func (w *walker) stop(note string) {
	if !w.stopped {
		w.stopped = true
		w.c.res.Truncated = true
		w.c.note(note)
	}
}

// dir walks the directory at the resolved path real, shown as display, at
// depth below the requested directory. Entries are taken in name order.
func (w *walker) dir(ctx context.Context, real, display string, depth int) error {
	entries, err := w.readDir(real)
	if err != nil {
		w.c.skip(dirName(display), "unreadable: "+osErr(err).Error())
		return nil
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("analysis cancelled: %w", err)
		}
		if w.stopped {
			return nil
		}
		w.budget--
		if w.budget < 0 {
			w.stop(fmt.Sprintf("walk stopped after looking at %d entries; analyse a subdirectory for the rest", w.a.opts.MaxFiles*entryBudgetPerFile))
			return nil
		}
		name := e.Name()
		childReal := filepath.Join(real, name)
		childDisplay := path.Join(display, name)
		mode := e.Type()
		switch {
		case mode&fs.ModeSymlink != 0:
			w.symlink(childReal, childDisplay)
		case mode.IsDir():
			if reason := skipDirReason(name); reason != "" {
				w.c.skip(dirName(childDisplay), reason)
				continue
			}
			if depth+1 > w.a.opts.MaxDepth {
				w.c.skip(dirName(childDisplay), fmt.Sprintf("deeper than the depth limit (%d)", w.a.opts.MaxDepth))
				continue
			}
			if err := w.dir(ctx, childReal, childDisplay, depth+1); err != nil {
				return err
			}
		case mode.IsRegular():
			w.file(childReal, childDisplay)
		default:
			w.c.skip(childDisplay, "not a regular file")
		}
	}
	return nil
}

func dirName(display string) string {
	return strings.TrimSuffix(display, "/") + "/"
}

// readDir lists a directory through its root, sorted by name, reading no
// more entries than the walk may still look at.
func (w *walker) readDir(real string) ([]fs.DirEntry, error) {
	f, err := w.files.openFile(real)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var entries []fs.DirEntry
	for len(entries) <= max(w.budget, 0) {
		batch, err := f.ReadDir(512)
		entries = append(entries, batch...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	return entries, nil
}

// symlink follows a symbolic link met during a walk: to a file under the
// roots it is analysed under the link's name; a link leading out of the
// roots, or to a directory (which could loop), is skipped.
func (w *walker) symlink(real, display string) {
	target, err := filepath.EvalSymlinks(real)
	if err != nil {
		w.c.skip(display, "broken symbolic link")
		return
	}
	if _, ok := w.a.realRoot(target); !ok {
		w.c.skip(display, "symbolic link leads outside the allowed roots")
		return
	}
	fi, err := w.files.stat(target)
	switch {
	case err != nil:
		w.c.skip(display, "unreadable: "+osErr(err).Error())
	case fi.IsDir():
		w.c.skip(dirName(display), "symbolic link to a directory (not followed)")
	case !fi.Mode().IsRegular():
		w.c.skip(display, "not a regular file")
	default:
		w.file(target, display)
	}
}

// file analyses one file of the walk, or says why it is skipped.
func (w *walker) file(real, display string) {
	lang := fileLanguage(display, real)
	if lang == "" {
		w.c.skip(display, "unsupported language")
		return
	}
	if strings.HasSuffix(strings.ToLower(display), ".min.js") {
		w.c.skip(display, "minified")
		return
	}
	if w.c.res.FilesAnalyzed >= w.a.opts.MaxFiles {
		w.stop(fmt.Sprintf("file limit reached: analysed %d files; the rest of the tree was not analysed", w.a.opts.MaxFiles))
		return
	}
	limit := w.a.opts.MaxFileBytes
	if fi, err := w.files.stat(real); err == nil && fi.Size() > limit {
		w.c.skip(display, fmt.Sprintf("too large: %s, the limit is %s", sizeText(fi.Size()), sizeText(limit)))
		return
	}
	data, err := w.files.readText(real, display, limit)
	switch {
	case errors.Is(err, ErrTooLarge):
		w.c.skip(display, "too large: the limit is "+sizeText(limit))
		return
	case errors.Is(err, ErrBinary):
		w.c.skip(display, "binary, not text")
		return
	case errors.Is(err, ErrNotFound):
		w.c.skip(display, "removed during the walk")
		return
	case err != nil:
		w.c.skip(display, "unreadable: "+err.Error())
		return
	}
	if lang == langGo && generatedGo(data) {
		w.c.skip(display, "generated code (Code generated … DO NOT EDIT)")
		return
	}
	rep, err := analyzeSource(display, lang, data)
	if err != nil {
		w.c.skip(display, err.Error())
		return
	}
	w.c.add(rep)
}
