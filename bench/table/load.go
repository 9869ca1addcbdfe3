package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// A loadResult is what one load run measured: the latency of every
// request that completed, in order.
type loadResult struct {
	lat     []time.Duration
	elapsed time.Duration
}

func (r loadResult) rate() float64 { return float64(len(r.lat)) / r.elapsed.Seconds() }

// percentile is the latency under which a fraction q of requests
// completed, in milliseconds.
func (r loadResult) percentile(q float64) float64 {
	i := min(len(r.lat)-1, int(q*float64(len(r.lat))))
	return float64(r.lat[i]) / float64(time.Millisecond)
}

// load sends GET url over conns keep-alive connections, each one request
// after another, for d, as "wrk -c conns" does; it runs in this program so
// that the table needs nothing installed. A request that fails or answers
// anything but 200 fails the run: throughput of errors means nothing.
func load(ctx context.Context, url string, conns int, d time.Duration) (loadResult, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()

	type worker struct {
		lat    []time.Duration
		failed int
		first  error
	}
	ws := make([]worker, conns)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range ws {
		w := &ws[i]
		wg.Go(func() {
			for ctx.Err() == nil {
				t0 := time.Now()
				err := get(ctx, client, url)
				switch {
				case err == nil:
					w.lat = append(w.lat, time.Since(t0))
				case ctx.Err() != nil:
					return // cut short by the end of the run, not a failure
				default:
					w.failed++
					if w.first == nil {
						w.first = err
					}
				}
			}
		})
	}
	wg.Wait()
	res := loadResult{elapsed: time.Since(start)}
	failed, total := 0, 0
	var first error
	for _, w := range ws {
		res.lat = append(res.lat, w.lat...)
		failed += w.failed
		total += len(w.lat) + w.failed
		if first == nil {
			first = w.first
		}
	}
	if failed > 0 {
		return res, fmt.Errorf("GET %s: %d of %d requests failed, the first with: %w", url, failed, total, first)
	}
	if len(res.lat) == 0 {
		return res, fmt.Errorf("GET %s: no request completed in %v", url, d)
	}
	slices.Sort(res.lat)
	return res, nil
}

func get(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", res.Status)
	}
	return nil
}
