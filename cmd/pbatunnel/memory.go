package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mcp-pba-tunnel/pbatunnel/export"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/config"
	"github.com/mcp-pba-tunnel/pbatunnel/memory"
)

// memoryDBName is the store's file in the data directory, where "serve"
// keeps it.
const memoryDBName = "memory.db"

func printMemoryUsage(w io.Writer) {
	fmt.Fprint(w, `Usage:
  pbatunnel memory import [--data-dir DIR | --store URL] FILE
  pbatunnel memory export [--data-dir DIR | --store URL] [--output FILE]

import  merges a knowledge graph into the memory store: a file in the format
        of @modelcontextprotocol/server-memory (JSON lines, "memory.jsonl"),
        or one JSON object {"entities":[…],"relations":[…]}; FILE "-" is
        standard input. New entities and relations are created; an entity
        that exists keeps its type and gains the observations it lacks. The
        import is all or nothing.
export  writes the store's knowledge graph in that JSON-lines format, which
        the reference server reads, to standard output or --output.

Both work while "pbatunnel serve" runs on the same data directory or
PostgreSQL database (--store postgres://…, or PBATUNNEL_STORE).
`)
}

// runMemory is reached for "memory" without a known subcommand.
func runMemory(_ context.Context, args []string, stdout, _ io.Writer) error {
	if len(args) == 0 {
		return &usageError{err: errors.New("want a subcommand: import or export (see 'pbatunnel help memory')")}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		printMemoryUsage(stdout)
		return nil
	}
	return &usageError{err: fmt.Errorf("unknown subcommand %q: want import or export", args[0])}
}

// newMemoryFlags are the flags of "memory import" and "memory export":
// where the store is, found as "serve" finds it.
func newMemoryFlags(name string, out io.Writer) (*flag.FlagSet, *config.Settings) {
	s := config.Defaults()
	fs := flag.NewFlagSet("pbatunnel memory "+name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&s.DataDir, "data-dir", "", "`directory` of the memory store, as for serve (default $XDG_DATA_HOME/pbatunnel or ~/.local/share/pbatunnel)")
	fs.StringVar(&s.ConfigFile, "config", "", "YAML config `file` that may set data_dir or store")
	s.RegisterStoreFlag(fs)
	fs.Usage = func() {
		printMemoryUsage(fs.Output())
		fmt.Fprintln(fs.Output(), "\nFlags:")
		fs.PrintDefaults()
	}
	return fs, &s
}

// openMemory opens the store s names: its PostgreSQL database, else the
// SQLite file of its data directory; create says whether a missing SQLite
// file is made.
func openMemory(ctx context.Context, s *config.Settings, create bool) (memory.Store, error) {
	if s.Store != "" {
		return memory.Open(ctx, memory.Options{URL: s.Store})
	}
	path := filepath.Join(s.DataDir, memoryDBName)
	if !create {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no memory store at %s (set --data-dir): %w", path, err)
		}
	} else if err := os.MkdirAll(s.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data dir: %w", err)
	}
	return memory.Open(ctx, memory.Options{Path: path})
}

// storeName says where s keeps the memory store, for messages.
func storeName(s *config.Settings) string {
	if s.Store != "" {
		return config.RedactStore(s.Store)
	}
	return filepath.Join(s.DataDir, memoryDBName)
}

func runMemoryImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, s := newMemoryFlags("import", stderr)
	if err := fs.Parse(args); err != nil {
		return &usageError{err: err, reported: true}
	}
	if fs.NArg() != 1 {
		return &usageError{err: fmt.Errorf("want one FILE to import (or - for standard input), got %d arguments", fs.NArg())}
	}
	if err := s.Resolve(fs, os.LookupEnv); err != nil {
		return &usageError{err: err}
	}
	name := fs.Arg(0)
	var in io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	store, err := openMemory(ctx, s, true)
	if err != nil {
		return err
	}
	defer store.Close()
	res, err := store.ImportGraph(ctx, in)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	fmt.Fprintf(stdout, "imported %s into %s: %d entities created, %d merged, %d observations added, %d relations created, %d items already there, %d lines of other types skipped\n",
		name, storeName(s), res.EntitiesCreated, res.EntitiesMerged, res.ObservationsAdded,
		res.RelationsCreated, res.Unchanged, res.Skipped)
	return store.Close()
}

func runMemoryExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, s := newMemoryFlags("export", stderr)
	output := fs.String("output", "", "write to this `file` (atomically) instead of standard output")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := s.Resolve(fs, os.LookupEnv); err != nil {
		return &usageError{err: err}
	}
	store, err := openMemory(ctx, s, false)
	if err != nil {
		return err
	}
	defer store.Close()
	if *output == "" {
		_, _, err := store.ExportGraph(ctx, stdout)
		return err
	}
	var buf bytes.Buffer
	ne, nr, err := store.ExportGraph(ctx, &buf)
	if err != nil {
		return err
	}
	if err := export.WriteFileAtomic(*output, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "exported %d entities and %d relations to %s\n", ne, nr, *output)
	return nil
}
