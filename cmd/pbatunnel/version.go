package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

func newVersionFlags(out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("pbatunnel version", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: pbatunnel version\n\nPrint the module version and the Go version pbatunnel was built with.\n")
	}
	return fs
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if err := parseFlags(newVersionFlags(stderr), args); err != nil {
		return err
	}
	_, err := fmt.Fprintf(stdout, "pbatunnel %s %s %s/%s\n", version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}

// version is the module version the go command recorded in the binary (a
// tag, or a pseudo-version derived from the commit), or "devel" when it
// recorded none, as for a build from a checkout without version control
// information.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" || bi.Main.Version == "(devel)" {
		return "devel"
	}
	return bi.Main.Version
}
