package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// A staticResponse is one route's answer as the dashboard gave it.
type staticResponse struct {
	ContentType string `json:"content_type"`
	Body        []byte `json:"body"`
}

// serveStatic serves the responses in file, a JSON object of path to
// response, from a bare net/http handler until ctx ends. It is the anchor
// of the dashboard row: the same bytes under the same load with nothing
// computed, so the ratio shows what the dashboard's own work costs.
func serveStatic(ctx context.Context, file string, stdout io.Writer) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("reading responses: %w", err)
	}
	var routes map[string]staticResponse
	if err := json.Unmarshal(data, &routes); err != nil {
		return fmt.Errorf("reading responses: %s: %w", file, err)
	}
	mux := http.NewServeMux()
	for path, r := range routes {
		length := strconv.Itoa(len(r.Body))
		// A route's query (/api/calls?limit=100) is answered whatever the
		// query: the anchor serves bytes, it does not read requests.
		path, _, _ = strings.Cut(path, "?")
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", r.ContentType)
			w.Header().Set("Content-Length", length)
			w.Write(r.Body)
		})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "serving on http://%s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	return nil
}

// captureResponses fetches each path from base once and writes what came
// back to a file for serveStatic.
func captureResponses(ctx context.Context, base string, paths []string, file string) error {
	// As load asks: no Accept-Encoding, so the bytes are those it gets.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer client.CloseIdleConnections()
	routes := map[string]staticResponse{}
	for _, p := range paths {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+p, nil)
		if err != nil {
			return err
		}
		res, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("GET %s: %w", p, err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return fmt.Errorf("GET %s: %w", p, err)
		}
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: status %s", p, res.Status)
		}
		routes[p] = staticResponse{ContentType: res.Header.Get("Content-Type"), Body: body}
	}
	data, err := json.Marshal(routes)
	if err != nil {
		return err
	}
	return os.WriteFile(file, data, 0o600)
}
