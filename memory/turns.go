package memory

import (
	"context"
	"os"
	"time"
)

// writeTurns make the processes that write one database take turns.
//
// SQLite's write lock goes to whoever asks first once it is free, and a
// writer that finds it taken sleeps in SQLite's busy handler, up to 100 ms
// between looks. A process whose writers follow each other without a
// pause therefore takes the lock again and again while another process's
// writer sleeps: in a test of two processes writing flat out on two busy
// cores, one writer waited 8.8 s.
//
// Two lock files beside the database, locked with flock(2), hand the
// lock over instead. A writer holds Path+"-writer" exclusively for its
// transaction. One that has to wait for it first holds Path+"-waiting"
// shared, which says "someone is waiting"; a writer that gets the writer
// lock but finds someone waiting lets it go and waits in turn. Waiting is
// polling with short sleeps, bounded by the store's BusyTimeout, past which
// the writer goes on and SQLite's own lock decides, as without turns: a
// stuck process can slow the others, never stop them. Where flock is
// missing (see turns_other.go) there are no turns.
type writeTurns struct {
	writer, waiting *os.File
	// turnStart is when this store's run of turns began: a run goes on
	// while no one else waits, or for turnRun when someone does, so that
	// writes that come together still go together. Used by one writer at
	// a time (the store's writeSem).
	turnStart time.Time
}

// turnRun is how long a store keeps taking turns while another process
// waits: long enough for a few transactions in a row, short enough that
// the wait is a few milliseconds.
const turnRun = 5 * time.Millisecond

// Sleeps between looks at a taken lock: short, since a turn lasts one
// transaction, and growing, so that a long wait costs little CPU.
const (
	turnPollMin = 20 * time.Microsecond
	turnPollMax = 200 * time.Microsecond
)

// acquire waits for this store's turn to write and returns what ends it.
// It never fails: past limit, or when ctx ends, it returns without a turn.
func (t *writeTurns) acquire(ctx context.Context, limit time.Duration) (release func()) {
	none := func() {}
	if t == nil {
		return none
	}
	polite := false
	if tryLock(t.writer, true) {
		if time.Since(t.turnStart) < turnRun || !someoneWaiting(t.waiting) {
			return func() { unlock(t.writer) }
		}
		unlock(t.writer) // their turn first
		polite = true
	}
	deadline := time.Now().Add(limit)
	// Say we wait; the shared lock conflicts only with another writer's
	// brief exclusive look in someoneWaiting.
	if !poll(ctx, deadline, func() bool { return tryLock(t.waiting, false) }) {
		return none
	}
	if polite {
		// Stay off the writer lock until those who were waiting have
		// taken it: each lets go of the waiting lock once it has, and
		// then ours can be made exclusive, and shared again.
		if !poll(ctx, deadline, func() bool { return tryLock(t.waiting, true) }) {
			unlock(t.waiting)
			return none
		}
		tryLock(t.waiting, false)
	}
	got := poll(ctx, deadline, func() bool { return tryLock(t.writer, true) })
	unlock(t.waiting)
	if !got {
		return none
	}
	t.turnStart = time.Now()
	return func() { unlock(t.writer) }
}

// someoneWaiting reports whether another writer holds the waiting lock.
func someoneWaiting(f *os.File) bool {
	if tryLock(f, true) {
		unlock(f)
		return false
	}
	return true
}

// poll calls try until it succeeds, ctx ends or deadline passes.
func poll(ctx context.Context, deadline time.Time, try func() bool) bool {
	sleep := turnPollMin
	for !try() {
		if ctx.Err() != nil || time.Now().After(deadline) {
			return false
		}
		time.Sleep(sleep)
		sleep = min(2*sleep, turnPollMax)
	}
	return true
}

func (t *writeTurns) close() error {
	if t == nil {
		return nil
	}
	err := t.writer.Close()
	if err2 := t.waiting.Close(); err == nil {
		err = err2
	}
	return err
}
