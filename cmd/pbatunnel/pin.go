package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/catalog"
	"github.com/mcp-pba-tunnel/pbatunnel/export"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/config"
)

// printPinUsage explains the pin commands.
func printPinUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: pbatunnel pin accept [flags]

A proxy pins the tools its server lists first (or those of --pin FILE) and
compares every later list with them. "pin accept" tells a running proxy
that a person has read what changed (GET /api/catalog, the Tools tab) and
takes the tools as they are now: calls the proxy blocks for drift
(--on-drift block) go through again, and --pin FILE is rewritten.
`)
}

// runPin is "pin" alone, or with an unknown second word.
func runPin(_ context.Context, args []string, _, stderr io.Writer) error {
	printPinUsage(stderr)
	if len(args) > 0 {
		return &usageError{err: fmt.Errorf("unknown command \"pin %s\"", args[0])}
	}
	return &usageError{err: errors.New("want a pin command: accept"), reported: true}
}

type pinFlags struct {
	addr, token string
	tools       []string
	timeout     time.Duration
}

func newPinAcceptFlags(out io.Writer) (*flag.FlagSet, *pinFlags) {
	p := &pinFlags{addr: config.DefaultAddr, timeout: 10 * time.Second}
	fs := flag.NewFlagSet("pbatunnel pin accept", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&p.addr, "addr", p.addr, "`host:port` of the running proxy's dashboard")
	fs.StringVar(&p.token, "auth-token", "", "bearer `token`, when the dashboard requires one (or PBATUNNEL_AUTH_TOKEN)")
	fs.Func("tool", "accept this `tool` only; repeatable (default: every tool that differs)", func(v string) error {
		p.tools = append(p.tools, v)
		return nil
	})
	fs.DurationVar(&p.timeout, "timeout", p.timeout, "give up after this `duration`")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: pbatunnel pin accept [flags]

Accept the changes in a running proxy's tools: they become the pin.

Flags (--addr and --auth-token also from PBATUNNEL_ADDR and PBATUNNEL_AUTH_TOKEN):
`)
		fs.PrintDefaults()
	}
	return fs, p
}

func runPinAccept(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, p := newPinAcceptFlags(stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fromEnv(fs, "addr", "auth-token")
	if err := config.CheckAddr(p.addr); err != nil {
		return &usageError{err: fmt.Errorf("--addr: %w", err)}
	}
	body, _ := json.Marshal(map[string][]string{"tools": p.tools})
	status, answer, err := dashboardClient{addr: p.addr, token: p.token, timeout: p.timeout}.
		call(ctx, http.MethodPost, "/api/catalog/accept", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	var out struct {
		Accepted []string `json:"accepted"`
		PinnedAt string   `json:"pinned_at"`
		Drift    int      `json:"drift"`
		Error    string   `json:"error"`
	}
	if err := json.Unmarshal(answer, &out); err != nil {
		return fmt.Errorf("the answer of %s: HTTP %d, %w", p.addr, status, err)
	}
	if status != http.StatusOK {
		return errors.New(out.Error)
	}
	if len(out.Accepted) == 0 {
		fmt.Fprintln(stdout, "nothing to accept: the tools are the ones pinned")
		return nil
	}
	fmt.Fprintf(stdout, "accepted %s; pinned at %s", strings.Join(out.Accepted, ", "), out.PinnedAt)
	if out.Drift > 0 {
		fmt.Fprintf(stdout, "; %d differences left", out.Drift)
	}
	fmt.Fprintln(stdout)
	return nil
}

// usePin pins the catalogue from file, or, when there is none, writes the
// first whole tools/list there as it is pinned.
func usePin(c *catalog.Catalog, file string, logger *slog.Logger) error {
	b, err := os.ReadFile(file)
	switch {
	case err == nil:
		var p catalog.PinFile
		if err := json.Unmarshal(b, &p); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		return c.LoadPin(p)
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	c.OnPin = func(p catalog.PinFile) {
		b, err := json.MarshalIndent(p, "", "  ")
		if err == nil {
			err = export.WriteFileAtomic(file, append(b, '\n'), 0o644)
		}
		if err != nil {
			logger.Warn("writing the tool pin failed", "file", file, "error", err)
			return
		}
		logger.Info("pinned the server's tools", "file", file, "tools", len(p.Tools))
	}
	return nil
}

// blockDrifted is the proxy's Block with --on-drift block: a call to a
// tool that differs from its pin is refused, with why and what to do.
func blockDrifted(c *catalog.Catalog) func(tool string) string {
	return func(tool string) string {
		if !c.Differs(tool) {
			return ""
		}
		return "pbatunnel blocked this call: the tool " + strconv.Quote(tool) + " was added or changed since its definition was pinned " +
			"(GET /api/catalog shows how); it is called again once a person accepts the change (pbatunnel pin accept)"
	}
}
