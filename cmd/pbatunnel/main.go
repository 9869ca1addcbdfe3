// Command pbatunnel measures an MCP server's tool calls and the host it runs
// on. Run "pbatunnel help" for its subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// A command runs one subcommand with the arguments after its name.
type command func(ctx context.Context, args []string, stdout, stderr io.Writer) error

var commands = map[string]command{
	"serve":   runServe,
	"proxy":   runProxy,
	"report":  runReport,
	"bench":   runBench,
	"replay":  runReplay,
	"alerts":  runAlerts,
	"memory":  runMemory,
	"pin":     runPin,
	"probe":   runProbe,
	"version": runVersion,
	"help":    runHelp,
}

// subcommands are the commands with a second word, such as "alerts check".
// The first word alone runs the entry of commands, which explains them.
var subcommands = map[string]map[string]command{
	"alerts": {"check": runAlertsCheck, "test": runAlertsTest, "export": runAlertsExport},
	"memory": {"import": runMemoryImport, "export": runMemoryExport},
	"pin":    {"accept": runPinAccept},
}

// run dispatches args to a subcommand and turns its result into the exit
// status: 0 for success (and for -h), 2 for a mistake in the invocation, 1
// for a failure while running or a negative answer ("alerts check" on an
// invalid file).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return 2
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-h", "-help", "--help":
		name = "help"
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "pbatunnel: unknown command %q\nRun 'pbatunnel help' for usage.\n", name)
		return 2
	}
	if len(rest) > 0 {
		if sub, ok := subcommands[name][rest[0]]; ok {
			name, cmd, rest = name+" "+rest[0], sub, rest[1:]
		}
	}
	return exitStatus(name, cmd(ctx, rest, stdout, stderr), stderr)
}

// usageError marks an error in how the command was invoked (flags,
// environment, config file), as opposed to one met while running.
type usageError struct {
	err error
	// reported is set when the message was already written, as the flag
	// package does for bad flags.
	reported bool
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// errReported is returned by a command that has already written why it
// failed: the status is 1 and nothing more is printed.
var errReported = errors.New("failure already reported")

// exitStatusError is a status to exit with and nothing to print: the proxy
// exits with its MCP server's status, which no error of its own describes.
type exitStatusError int

func (e exitStatusError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func exitStatus(name string, err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if errors.Is(err, errReported) {
		return 1
	}
	var es exitStatusError
	if errors.As(err, &es) {
		return int(es)
	}
	var ue *usageError
	if errors.As(err, &ue) {
		if !ue.reported {
			fmt.Fprintf(stderr, "pbatunnel %s: %v\n", name, err)
		}
		return 2
	}
	fmt.Fprintf(stderr, "pbatunnel %s: %v\n", name, err)
	return 1
}

// parseFlags parses args with fs and rejects positional arguments, which no
// subcommand takes yet.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err: err, reported: true}
	}
	if fs.NArg() > 0 {
		return &usageError{err: fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}
