package codeanalysis

import "errors"

// Errors returned by [Analyzer.Analyze]. Each is wrapped with its detail (the
// path as the caller gave it, the size and the limit, the allowed roots), so
// the message can be shown as it is; test for the kind with errors.Is.
var (
	// ErrOutsideRoots: the path, once cleaned and with its symbolic links
	// resolved, is not under any allowed root.
	ErrOutsideRoots = errors.New("path is outside the allowed roots")
	// ErrTooLarge: the requested file is larger than Options.MaxFileBytes.
	ErrTooLarge = errors.New("file is too large")
	// ErrBinary: the requested file is not text (a NUL byte in its first
	// 8 KiB, or mostly invalid UTF-8).
	ErrBinary = errors.New("file is binary, not text")
	// ErrNotFound: nothing exists at the path.
	ErrNotFound = errors.New("no such file or directory")
	// ErrBadRequest: the request itself is wrong (no path, an unknown
	// analysis type, a path that is neither a file nor a directory).
	ErrBadRequest = errors.New("bad request")
	// ErrNoRoots: no root was given and the working directory is too wide
	// to stand in for one (see Options.Roots), so nothing may be analysed.
	ErrNoRoots = errors.New("no directory may be analysed")
)
