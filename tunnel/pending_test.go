package tunnel

import (
	"strconv"
	"testing"
)

func TestPendingTableCancel(t *testing.T) {
	var tab pendingTable[struct{}]
	tab.add([]byte("own"), call[struct{}]{method: "initialize", state: replaying})
	if _, ok := tab.cancel([]byte("own")); ok {
		t.Error("the tunnel's own replay was cancelled")
	}
	if _, ok := tab.cancel([]byte("absent")); ok {
		t.Error("an absent request was cancelled")
	}
	tab.add([]byte("1"), call[struct{}]{method: "tools/call"})
	if c, ok := tab.cancel([]byte("1")); !ok || c.method != "tools/call" {
		t.Fatalf("cancel(1) = %+v, %v", c, ok)
	}
	if _, ok := tab.cancel([]byte("1")); ok {
		t.Error("a request was cancelled twice: it would be recorded twice")
	}
	if c, ok := tab.take([]byte("1")); !ok || c.state != cancelled {
		t.Errorf("take(1) = %+v, %v; want the request marked cancelled, for its late answer", c, ok)
	}

	// Cancelled requests are kept for keepCancelled cancellations more;
	// an id reused for a new request in the meantime is not removed.
	tab.add([]byte("old"), call[struct{}]{})
	tab.cancel([]byte("old"))
	tab.add([]byte("reused"), call[struct{}]{})
	tab.cancel([]byte("reused"))
	tab.add([]byte("reused"), call[struct{}]{method: "ping"})
	for i := range keepCancelled - 2 {
		id := []byte("n" + strconv.Itoa(i))
		tab.add(id, call[struct{}]{})
		tab.cancel(id)
	}
	if _, ok := tab.m["old"]; !ok {
		t.Error("a cancelled request was removed before keepCancelled others were cancelled")
	}
	tab.add([]byte("new"), call[struct{}]{})
	tab.cancel([]byte("new"))
	tab.add([]byte("newer"), call[struct{}]{})
	tab.cancel([]byte("newer"))
	if _, ok := tab.m["old"]; ok {
		t.Error("the oldest cancelled request is still kept")
	}
	if c, ok := tab.m["reused"]; !ok || c.method != "ping" {
		t.Errorf("the request that reused a cancelled id = %+v, %v; want it kept", c, ok)
	}
	if n := len(tab.m); n != keepCancelled+2 {
		t.Errorf("%d requests kept, want %d: the own replay, the new ping and the last %d cancelled", n, keepCancelled+2, keepCancelled)
	}
}
