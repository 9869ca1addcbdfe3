package main

import (
	"context"
	"fmt"
	"io"
)

func printUsage(w io.Writer) {
	fmt.Fprint(w, `pbatunnel measures the tool calls of an MCP server and the host it runs on.

Usage:
  pbatunnel <command> [flags]

Commands:
  serve          sample the host and this process, serve the dashboard, the
                 JSON API and Prometheus metrics, and notify alerts
  proxy          monitor any MCP server: run it behind pbatunnel (stdio or HTTP,
                 or bridging one to the other)
  report         print or save the report of a running pbatunnel
  probe          GET a URL and exit 0 if it answers 2xx: a health check
                 for images without curl
  bench          load any MCP server with tool calls and print the numbers
  replay         serve a recording of "proxy --record" as an MCP server, with no server
  memory import  merge a knowledge graph (server-memory's memory.jsonl) into the store
  memory export  write the store's knowledge graph in that format
  pin accept     take a running proxy's tools as they are now as its pin
  alerts check   validate a config file, alert rules and handlers included
  alerts test    send a test alert through every configured alert handler
  alerts export  write the alert rules and SLOs as a Prometheus rules file
  version        print the version and the Go version it was built with
  help           show this help, or a command's flags with "help <command>"

Every flag can also be set with an environment variable PBATUNNEL_<FLAG>,
upper-case with "-" as "_" (--data-dir is PBATUNNEL_DATA_DIR). A flag wins
over the variable, which wins over the config file.
`)
}

// runHelp prints the overview, or the flags of the named command, to stdout:
// help that was asked for is output, not a diagnostic.
func runHelp(_ context.Context, args []string, stdout, _ io.Writer) error {
	switch {
	case len(args) == 0:
		printUsage(stdout)
		return nil
	case len(args) == 2 && args[0] == "memory":
		if args[1] != "import" && args[1] != "export" {
			return &usageError{err: fmt.Errorf("unknown command \"memory %s\"", args[1])}
		}
		fs, _ := newMemoryFlags(args[1], stdout)
		fs.Usage()
		return nil
	case len(args) == 2 && args[0] == "pin":
		if args[1] != "accept" {
			return &usageError{err: fmt.Errorf("unknown command \"pin %s\"", args[1])}
		}
		fs, _ := newPinAcceptFlags(stdout)
		fs.Usage()
		return nil
	case len(args) == 2 && args[0] == "alerts":
		switch args[1] {
		case "check":
			fs, _ := newAlertsCheckFlags(stdout)
			fs.Usage()
		case "test":
			fs, _ := newAlertsTestFlags(stdout)
			fs.Usage()
		case "export":
			fs, _ := newAlertsExportFlags(stdout)
			fs.Usage()
		default:
			return &usageError{err: fmt.Errorf("unknown command \"alerts %s\"", args[1])}
		}
		return nil
	case len(args) > 1:
		return &usageError{err: fmt.Errorf("want at most one command, got %q", args)}
	}
	switch args[0] {
	case "alerts":
		printAlertsUsage(stdout)
	case "memory":
		printMemoryUsage(stdout)
	case "pin":
		printPinUsage(stdout)
	case "serve":
		fs, _ := newServeFlags(stdout)
		fs.Usage()
	case "proxy":
		fs, _, _ := newProxyFlags(stdout)
		fs.Usage()
	case "report":
		fs, _ := newReportFlags(stdout)
		fs.Usage()
	case "bench":
		fs, _ := newBenchFlags(stdout)
		fs.Usage()
	case "replay":
		fs, _ := newReplayFlags(stdout)
		fs.Usage()
	case "probe":
		fs, _ := newProbeFlags(stdout)
		fs.Usage()
	case "version":
		fs := newVersionFlags(stdout)
		fs.Usage()
	case "help":
		printUsage(stdout)
	default:
		return &usageError{err: fmt.Errorf("unknown command %q", args[0])}
	}
	return nil
}
