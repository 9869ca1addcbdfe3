package monitor

import "context"

// Subscribe returns a channel that receives every new snapshot until ctx
// ends, when it is closed. A reader that falls more than buf snapshots
// behind loses the oldest ones; buf < 1 means 1.
func (m *Monitor) Subscribe(ctx context.Context, buf int) <-chan *Snapshot {
	return m.subs.Subscribe(ctx, buf)
}
