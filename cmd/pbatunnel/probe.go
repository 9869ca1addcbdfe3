package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// probeBodyLimit bounds what is read of an answer, for the message that
// says why a probe failed.
const probeBodyLimit = 512

func newProbeFlags(out io.Writer) (*flag.FlagSet, *time.Duration) {
	timeout := 5 * time.Second
	fs := flag.NewFlagSet("pbatunnel probe", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.DurationVar(&timeout, "timeout", timeout, "give up after this `duration`")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: pbatunnel probe [flags] URL

GET URL and exit 0 if it answers 2xx, 1 otherwise, saying why on stderr.
It is the health check of images that have no curl or wget, such as the
distroless one of the Dockerfile:

  HEALTHCHECK CMD ["/pbatunnel", "probe", "http://127.0.0.1:8080/livez"]

/livez, /readyz and /api/health need no token. Redirects are not followed:
a probe judges the URL it was given.

Flags:
`)
		fs.PrintDefaults()
	}
	return fs, &timeout
}

func runProbe(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs, timeout := newProbeFlags(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err: err, reported: true}
	}
	if fs.NArg() != 1 {
		return &usageError{err: fmt.Errorf("want one URL to probe, got %d arguments", fs.NArg())}
	}
	if *timeout <= 0 {
		return &usageError{err: fmt.Errorf("--timeout: want a positive duration, got %v", *timeout)}
	}
	target := fs.Arg(0)
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &usageError{err: fmt.Errorf("want an http or https URL, got %q", target)}
	}
	return probe(ctx, target, *timeout)
}

// probe GETs target and returns nil for a 2xx answer, else an error that
// says what came back, or why nothing did.
func probe(ctx context.Context, target string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	client := &http.Client{
		Transport: &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	res, err := client.Do(req)
	if err != nil {
		return err // a *url.Error: it names the method and the URL
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, probeBodyLimit))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s: %s", target, res.Status, strings.TrimSpace(string(body)))
	}
	return nil
}
