package memory

import (
	"context"
	"fmt"
	"time"
)

// retryWrite runs once until it succeeds, fails with an error retryable
// does not accept, or timeout has passed since the first attempt, waiting
// between attempts from 5 ms, doubling to 200 ms. A ctx that ends while
// it waits ends it, with the last error and while saying when.
func retryWrite(ctx context.Context, timeout time.Duration, retryable func(error) bool, while string, once func() error) error {
	first := time.Now()
	backoff := 5 * time.Millisecond
	for {
		err := once()
		if err == nil {
			return nil
		}
		if !retryable(err) || time.Since(first)+backoff > timeout {
			return err
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w %s: %v", ctx.Err(), while, err)
		}
		backoff = min(2*backoff, 200*time.Millisecond)
	}
}
