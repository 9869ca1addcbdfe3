package memory_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mcp-pba-tunnel/pbatunnel/memory"
)

var bg = context.Background()

func ptr[T any](v T) *T { return &v }

// mustStore stores ne and fails the test on error.
func mustStore(tb testing.TB, s memory.Store, ne memory.NewEntry) memory.Entry {
	tb.Helper()
	e, err := s.Store(bg, ne)
	if err != nil {
		tb.Fatalf("Store(%.40q): %v", ne.Content, err)
	}
	return e
}

func mustRelate(tb testing.TB, s memory.Store, from, to memory.Entry, typ string) memory.Relationship {
	tb.Helper()
	r, err := s.Relate(bg, memory.NewRelationship{SourceID: from.ID, TargetID: to.ID, Type: typ})
	if err != nil {
		tb.Fatalf("Relate(%s, %s, %s): %v", from.ID, to.ID, typ, err)
	}
	return r
}

// checkErr checks that err is (wraps) want and that its message contains
// every part of msg.
func checkErr(tb testing.TB, err, want error, msg ...string) {
	tb.Helper()
	if !errors.Is(err, want) {
		tb.Fatalf("error %v, want %v", err, want)
	}
	for _, m := range msg {
		if !strings.Contains(err.Error(), m) {
			tb.Errorf("error %q does not say %q", err, m)
		}
	}
}

func entryIDs(es []memory.Entry) []string {
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	return ids
}

func hitIDs(hs []memory.Hit) []string {
	ids := make([]string, len(hs))
	for i, h := range hs {
		ids[i] = h.Entry.ID
	}
	return ids
}

// idsOf returns the ids of entries, in the order given.
func idsOf(es ...memory.Entry) []string { return entryIDs(es) }

// sameSet reports a difference between two id lists ignoring order.
func sameSet(a, b []string) string {
	return cmp.Diff(a, b, cmpopts.SortSlices(func(x, y string) bool { return x < y }), cmpopts.EquateEmpty())
}

func nan() float64 { return math.NaN() }

func isNotFound(err error) bool { return errors.Is(err, memory.ErrNotFound) }

var cmpEmpty = cmpopts.EquateEmpty()
