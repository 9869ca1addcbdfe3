package jsonmeta

import "testing"

// TestDocSetUnread: a Doc not read has no message to edit: Set says so
// rather than return an empty one.
func TestDocSetUnread(t *testing.T) {
	var d Doc
	if out, err := d.Set("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"); err == nil {
		t.Errorf("Set on a Doc never read = %q, nil; want an error", out)
	}
	if v := d.Value(0); v != "" {
		t.Errorf("Value on a Doc never read = %q", v)
	}
}
