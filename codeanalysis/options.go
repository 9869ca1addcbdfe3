package codeanalysis

import "os"

// Defaults used when an Options field is zero or negative.
const (
	DefaultMaxFileBytes = 1 << 20
	DefaultMaxFiles     = 2000
	DefaultMaxDepth     = 20
	DefaultMaxFindings  = 500
	DefaultMaxFunctions = 1000
)

// Options configure an Analyzer. The zero value is a good default for every
// field: the working directory as the only root, and the limits above.
type Options struct {
	// Roots are the directories whose contents may be analysed. Relative
	// roots are taken from the working directory; none means the working
	// directory, unless it is the filesystem root, the user's home
	// directory or a directory above it: programs that start servers
	// (MCP clients among them) often run them there, and allowing it by
	// default would open the whole disk or every file of the user. Then
	// nothing may be analysed, and every request fails with ErrNoRoots.
	// Each root must exist and be a directory.
	Roots []string
	// MaxFileBytes is the size of the largest file analysed. A larger file
	// is refused when it is the requested path ([ErrTooLarge]) and skipped
	// with a note during a directory walk. Default 1 MiB.
	MaxFileBytes int64
	// MaxFiles bounds the files analysed by one directory request; the walk
	// stops there and says so. Default 2000.
	MaxFiles int
	// MaxDepth bounds how deep a directory walk descends below the requested
	// directory (its direct subdirectories are depth 1). Default 20.
	MaxDepth int
	// MaxFindings bounds the findings in a Result; beyond it the most severe
	// are kept and the Result says how many were left out. Default 500.
	MaxFindings int
	// MaxFunctions bounds the per-function metrics in a complexity Result;
	// beyond it the most complex are kept. Default 1000.
	MaxFunctions int

	// getwd and userHome stand in for os.Getwd and os.UserHomeDir; tests
	// replace them.
	getwd    func() (string, error)
	userHome func() (string, error)
}

func (o Options) withDefaults() Options {
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.MaxFiles <= 0 {
		o.MaxFiles = DefaultMaxFiles
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxFindings <= 0 {
		o.MaxFindings = DefaultMaxFindings
	}
	if o.MaxFunctions <= 0 {
		o.MaxFunctions = DefaultMaxFunctions
	}
	if o.getwd == nil {
		o.getwd = os.Getwd
	}
	if o.userHome == nil {
		o.userHome = os.UserHomeDir
	}
	return o
}
