package codeanalysis

import (
	"context"
	"fmt"
	"strings"
)

// A Request asks for one analysis of one file or directory.
type Request struct {
	// Path is the file or directory, absolute or relative to a root (each
	// root is tried in turn). It must stay under the roots once cleaned and
	// once its symbolic links are resolved.
	Path string `json:"path"`
	// Type is complexity, patterns, security or performance.
	Type string `json:"type"`
}

// An Analyzer analyses files under a fixed set of roots. It holds no
// mutable state after New, so it is safe for concurrent use.
type Analyzer struct {
	roots   []root
	refusal error // why no root is allowed, when none is
	opts    Options
}

// New returns an Analyzer for opts. The roots are resolved once, here: each
// must exist and be a directory. Without roots, and with a working
// directory too wide to stand in for one, New succeeds with an Analyzer
// that allows nothing (see Options.Roots and Refusal).
func New(opts Options) (*Analyzer, error) {
	opts = opts.withDefaults()
	roots, refusal, err := resolveRoots(opts)
	if err != nil {
		return nil, err
	}
	return &Analyzer{roots: roots, refusal: refusal, opts: opts}, nil
}

// Refusal returns why the Analyzer allows no directory at all, an error
// wrapping ErrNoRoots, or nil when it allows some. Every Analyze then fails
// with it.
func (a *Analyzer) Refusal() error { return a.refusal }

// Roots returns the allowed roots, absolute and clean, in the order given.
func (a *Analyzer) Roots() []string {
	out := make([]string, len(a.roots))
	for i, r := range a.roots {
		out[i] = r.given
	}
	return out
}

// Analyze runs one analysis. A file is analysed alone; a directory is walked
// (skipping .git, node_modules, vendor, hidden and a few other directories,
// see Result.Skipped). The error wraps ErrBadRequest, ErrOutsideRoots,
// ErrNotFound, ErrTooLarge or ErrBinary when the request cannot be served,
// or ctx's error when it is cancelled; its message is fit to show a user.
// Problems with single files of a directory are not errors: they are
// skipped, with the reason.
func (a *Analyzer) Analyze(ctx context.Context, req Request) (*Result, error) {
	if a.refusal != nil {
		return nil, a.refusal
	}
	typ, err := parseType(req.Type)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("analysis cancelled: %w", err)
	}
	t, err := a.resolve(req.Path)
	if err != nil {
		return nil, err
	}
	files := a.newRootFiles()
	defer files.close()
	fi, err := files.stat(t.real)
	if err != nil {
		return nil, openErr(req.Path, err)
	}
	switch {
	case fi.Mode().IsRegular():
		c := newCollector(typ, a.opts, t, "file")
		data, err := files.readText(t.real, req.Path, a.opts.MaxFileBytes)
		if err != nil {
			return nil, err
		}
		lang := fileLanguage(t.display, t.real)
		if lang == "" {
			c.skip(t.display, "unsupported language")
			c.note("nothing analysed: supported files are " + supportedExtensions)
			return c.finish(), nil
		}
		rep, err := analyzeSource(t.display, lang, data)
		if err != nil {
			return nil, err
		}
		c.add(rep)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("analysis cancelled: %w", err)
		}
		return c.finish(), nil
	case fi.IsDir():
		c := newCollector(typ, a.opts, t, "directory")
		w := &walker{a: a, files: files, c: c, budget: a.opts.MaxFiles * entryBudgetPerFile}
		if err := w.dir(ctx, t.real, t.display, 0); err != nil {
			return nil, err
		}
		return c.finish(), nil
	}
	return nil, fmt.Errorf("%w: %q is neither a regular file nor a directory", ErrBadRequest, req.Path)
}

// parseType accepts an analysis type in any case, with surrounding space.
func parseType(s string) (string, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for _, x := range Types() {
		if t == x {
			return x, nil
		}
	}
	list := strings.Join(Types(), ", ")
	if t == "" {
		return "", fmt.Errorf("%w: analysis type is required; use one of %s", ErrBadRequest, list)
	}
	return "", fmt.Errorf("%w: unknown analysis type %q; use one of %s", ErrBadRequest, s, list)
}

// fileLanguage names the language from the name the file was reached by,
// or else from the file a symbolic link leads to.
func fileLanguage(display, real string) string {
	if l := languageOf(display); l != "" {
		return l
	}
	return languageOf(real)
}

// analyzeSource analyses one file. The analysers are fuzzed not to panic;
// a panic all the same is turned into an error about this one file rather
// than taking the server down.
func analyzeSource(path, lang string, src []byte) (rep *fileReport, err error) {
	defer func() {
		if r := recover(); r != nil {
			rep, err = nil, fmt.Errorf("internal error analysing %q: %v", path, r)
		}
	}()
	switch lang {
	case langGo:
		return analyzeGo(path, src), nil
	case langPython:
		return analyzePython(path, src), nil
	case langJavaScript, langTypeScript:
		return analyzeJS(path, lang, src), nil
	}
	return nil, fmt.Errorf("%w: unsupported language for %q", ErrBadRequest, path)
}
