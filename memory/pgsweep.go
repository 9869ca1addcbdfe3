package memory

import (
	"context"
)

// sweepLoop deletes expired entries every SweepInterval until ctx ends.
// Every server sharing the database sweeps; a batch locks what it
// deletes (SKIP LOCKED), so two sweepers at once share the work instead
// of queueing on it.
func (s *Postgres) sweepLoop(ctx context.Context) {
	defer close(s.sweepDone)
	sweepEvery(ctx, s.opts, s.Sweep)
}

// Sweep deletes the entries expired by now, in batches, and says how many
// it deleted.
func (s *Postgres) Sweep(ctx context.Context) (int, error) {
	return sweepInBatches(s.now().UnixMilli(), func(now int64) (n int, err error) {
		err = s.write(ctx, func(w *pgWriteTx) error {
			n = 0
			err := s.query(ctx, w.tx, `DELETE FROM entries WHERE seq IN (
					SELECT seq FROM entries WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED
				) RETURNING id`, []any{now, sweepBatch}, deletedIDs(w, &n))
			if err != nil || n == 0 {
				return err
			}
			_, err = s.exec(ctx, w.tx, `UPDATE store_stats SET expired_swept = expired_swept + $1 WHERE id = 1`, n)
			return err
		})
		return n, err
	})
}
