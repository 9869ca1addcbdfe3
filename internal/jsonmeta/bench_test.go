package jsonmeta

import (
	"strings"
	"testing"
)

// Figures on the development machine (2 vCPUs, shared with other work:
// load average 2.7 during the run), go1.26.8 linux/amd64:
//
//	go test -run '^$' -bench . -benchtime 1s ./internal/jsonmeta
//
//	BenchmarkSet/300B-2   567627     1992 ns/op   155.63 MB/s      416 B/op   1 allocs/op
//	BenchmarkSet/1MiB-2      646  1712601 ns/op   612.18 MB/s  1048576 B/op   1 allocs/op
//	BenchmarkGet/300B-2  1383390     1054 ns/op   362.42 MB/s      112 B/op   2 allocs/op
//	BenchmarkGet/1MiB-2     1238   897440 ns/op  1168.32 MB/s      112 B/op   2 allocs/op
//
// Set's one allocation is its result; Get's two are the []string of
// values and the one value found (traceparent). Set on 1 MiB costs about
// a parse (as Get) plus allocating and copying the result.

// smallCall is a 300-byte tools/call request as a client sends it.
var smallCall = []byte(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"search_files","arguments":{"path":"/home/user/project/src","pattern":"func (p \"parser\")","exclude":["vendor","node_modules",".git"],"maxResults":100,"caseSensitive":false,"context":{"before":2,"after":2}},"_meta":{"progressToken":"tok-8f3a"}}}`)

// bigCall is a 1 MiB tools/call request: a file written through a tool,
// its text full of escapes, with _meta after it.
var bigCall = func() []byte {
	line := `\tfmt.Printf(\"%d: %s\\n\", i, strings.Repeat(\"é\", i)) // {[\"_meta\"]}\n`
	var b strings.Builder
	b.WriteString(`{"jsonrpc":"2.0","id":43,"method":"tools/call","params":{"name":"write_file","arguments":{"path":"/tmp/x.go","content":"`)
	for b.Len() < 1<<20-200 {
		b.WriteString(line)
	}
	b.WriteString(`"},"_meta":{"progressToken":44}}}`)
	return []byte(b.String())
}()

var sink []byte

func BenchmarkSet(b *testing.B) {
	kv := []KV{{"traceparent", tp}, {"tracestate", "vendor=opaque"}}
	for _, c := range []struct {
		name string
		msg  []byte
	}{{"300B", smallCall}, {"1MiB", bigCall}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.msg)))
			for b.Loop() {
				out, err := Set(c.msg, kv...)
				if err != nil {
					b.Fatal(err)
				}
				sink = out
			}
		})
	}
}

var sinkVals []string

func BenchmarkGet(b *testing.B) {
	msg300, err := Set(smallCall, KV{"traceparent", tp})
	if err != nil {
		b.Fatal(err)
	}
	msg1M, err := Set(bigCall, KV{"traceparent", tp})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		msg  []byte
	}{{"300B", msg300}, {"1MiB", msg1M}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.msg)))
			for b.Loop() {
				vals, err := Get(c.msg, "traceparent", "tracestate", "baggage")
				if err != nil || vals[0] != tp {
					b.Fatal(vals, err)
				}
				sinkVals = vals
			}
		})
	}
}

func TestBenchMessages(t *testing.T) {
	if len(smallCall) < 280 || len(smallCall) > 320 {
		t.Errorf("smallCall is %d bytes", len(smallCall))
	}
	for _, m := range [][]byte{smallCall, bigCall} {
		checkSet(t, m, []KV{{"traceparent", tp}})
	}
}
