package memory

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// Two writers on one file: one waits while the other holds its turn, gets
// the next turn, and the first, coming back while it waits, waits in turn.
func TestWriteTurns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	a, err := openWriteTurns(path)
	if err != nil {
		t.Fatal(err)
	}
	if a == nil {
		t.Skip("no flock here: SQLite's lock alone orders writers")
	}
	defer a.close()
	b, err := openWriteTurns(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	ctx := context.Background()

	releaseA := a.acquire(ctx, time.Minute)
	bGot := make(chan func())
	go func() { bGot <- b.acquire(ctx, time.Minute) }()
	waitFor(t, "b to say it waits", func() bool { return someoneWaiting(a.waiting) })
	select {
	case <-bGot:
		t.Fatal("b took a turn while a held one")
	case <-time.After(20 * time.Millisecond):
	}
	releaseA()
	releaseB := <-bGot

	// a comes back while b holds its turn and waits. b's run is over, so
	// when b asks again at once it lets a go first.
	aGot := make(chan func())
	go func() { aGot <- a.acquire(ctx, time.Minute) }()
	waitFor(t, "a to say it waits", func() bool { return someoneWaiting(b.waiting) })
	time.Sleep(turnRun)
	releaseB()
	bAgain := make(chan func())
	go func() { bAgain <- b.acquire(ctx, time.Minute) }()
	select {
	case releaseA = <-aGot:
	case r := <-bAgain:
		r()
		t.Fatal("b took the next turn while a was waiting")
	case <-time.After(10 * time.Second):
		t.Fatal("a never got its turn")
	}
	select {
	case <-bAgain:
		t.Fatal("b took a turn while a held one")
	case <-time.After(20 * time.Millisecond):
	}
	releaseA()
	(<-bAgain)()

	// A turn that does not come within the limit is given up on: the
	// writer goes on, and SQLite's own lock decides.
	releaseA = a.acquire(ctx, time.Minute)
	start := time.Now()
	b.acquire(ctx, 50*time.Millisecond)()
	if d := time.Since(start); d < 50*time.Millisecond || d > 5*time.Second {
		t.Errorf("acquire with a 50 ms limit returned after %v", d)
	}
	releaseA()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
