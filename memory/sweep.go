package memory

import (
	"context"
	"fmt"
	"time"
)

// sweepBatch bounds the entries one sweep transaction deletes, so that a
// backlog of expired entries never holds the write lock for long.
const sweepBatch = 500

// sweepLoop deletes expired entries every SweepInterval until ctx ends.
func (s *SQLite) sweepLoop(ctx context.Context) {
	defer close(s.sweepDone)
	sweepEvery(ctx, s.opts, s.sweep)
}

// sweepEvery runs sweep every opts.SweepInterval until ctx ends, and
// tells opts.swept of each.
func sweepEvery(ctx context.Context, opts Options, sweep func(context.Context) (int, error)) {
	t := time.NewTicker(opts.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := sweep(ctx)
			if ctx.Err() != nil {
				return // closing: an interrupted sweep is no failure
			}
			if opts.swept != nil {
				opts.swept(n, err)
			}
		}
	}
}

// sweepInBatches deletes the entries expired by now with batch, which
// deletes up to sweepBatch of them in one write transaction and says how
// many, until a batch comes short; it returns how many it deleted.
func sweepInBatches(now int64, batch func(now int64) (int, error)) (int, error) {
	total := 0
	for {
		n, err := batch(now)
		total += n
		if err != nil {
			return total, fmt.Errorf("sweeping expired entries: %w", err)
		}
		if n < sweepBatch {
			return total, nil
		}
	}
}

// sweep deletes the entries expired by now, in batches, and adds their
// number to store_stats.expired_swept.
func (s *SQLite) sweep(ctx context.Context) (int, error) {
	return sweepInBatches(s.now().UnixMilli(), func(now int64) (n int, err error) {
		err = s.write(ctx, func(w *writeTx) error {
			n = 0
			err := s.query(ctx, w.tx, `DELETE FROM entries WHERE seq IN (
					SELECT seq FROM entries WHERE expires_at <= ? LIMIT ?
				) RETURNING id`, []any{now, sweepBatch}, deletedIDs(w, &n))
			if err != nil || n == 0 {
				return err
			}
			_, err = s.exec(ctx, w.tx, `UPDATE store_stats SET expired_swept = expired_swept + ?`, n)
			return err
		})
		return n, err
	})
}
