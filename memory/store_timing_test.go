package memory_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/memory"
)

// Benchmarks run against databases of 10 000 and 100 000 entries whose
// text follows a Zipf distribution over a 20 000-word vocabulary, with real
// English function words at the top ranks: the most common word is in
// nearly every entry, a word of rank 1000 in about one in two hundred.
// Each fixture is built once per test binary and copied for benchmarks
// that write.
//
//	go test -run '^$' -bench . -benchtime 2000x ./memory

var fixtureSizes = []int{10_000, 100_000}

const (
	vocabSize     = 20_000
	conversations = 1_000
)

var stopwords = strings.Fields(`the to and of a in is that for it we on with this be as are was
not have at or by from but use should when if can will an which do all so there what`)

var contextTypes = []string{"general", "decision", "code", "task", "preference", "incident"}

// corpus generates deterministic pseudo-English.
type corpus struct {
	vocab []string
	zipf  *rand.Zipf
	r     *rand.Rand
}

func newCorpus(seed uint64) *corpus {
	r := rand.New(rand.NewPCG(seed, 7))
	return &corpus{vocab: vocabulary(), zipf: rand.NewZipf(r, 1.07, 2, vocabSize-1), r: r}
}

// vocabulary returns the words of every corpus, most frequent first: the
// same words whatever the seed, so that queries find the fixture's words.
var vocabulary = sync.OnceValue(func() []string {
	r := rand.New(rand.NewPCG(1, 1))
	seen := map[string]bool{}
	vocab := slices.Clone(stopwords)
	for _, w := range vocab {
		seen[w] = true
	}
	cons, vows := "bcdfghjklmnprstvz", "aeiou"
	for len(vocab) < vocabSize {
		var b strings.Builder
		for range 2 + r.IntN(3) {
			b.WriteByte(cons[r.IntN(len(cons))])
			b.WriteByte(vows[r.IntN(len(vows))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			vocab = append(vocab, w)
		}
	}
	return vocab
})

func (c *corpus) entry() memory.NewEntry {
	n := 15 + c.r.IntN(50)
	words := make([]string, n)
	for i := range words {
		words[i] = c.vocab[c.zipf.Uint64()]
	}
	var tags []string
	for range c.r.IntN(3) {
		tags = append(tags, fmt.Sprint("tag", c.r.IntN(50)))
	}
	return memory.NewEntry{
		ConversationID: fmt.Sprint("conv-", c.r.IntN(conversations)),
		Content:        strings.Join(words, " ") + ".",
		ContextType:    contextTypes[c.r.IntN(len(contextTypes))],
		Importance:     ptr(float64(c.r.IntN(11)) / 10),
		Tags:           tags,
		Metadata:       map[string]any{"source": "bench", "n": c.r.IntN(1000)},
	}
}

// query returns a search text like an agent's: one to three content words
// (ranks 50 to 5000), sometimes with a function word.
func (c *corpus) query() string {
	var words []string
	for range 1 + c.r.IntN(3) {
		words = append(words, c.vocab[50+c.r.IntN(4950)])
	}
	if c.r.IntN(3) == 0 {
		words = append(words, stopwords[c.r.IntN(len(stopwords))])
	}
	return strings.Join(words, " ")
}

var (
	fixtureMu   sync.Mutex
	fixtureDir  string
	fixturePath = map[int]string{}
)

// fixture returns the path of a database of n entries, built on first use.
func fixture(b *testing.B, n int) string {
	b.Helper()
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if p, ok := fixturePath[n]; ok {
		return p
	}
	if fixtureDir == "" {
		dir, err := os.MkdirTemp("", "memory-bench")
		if err != nil {
			b.Fatal(err)
		}
		fixtureDir = dir
	}
	path := filepath.Join(fixtureDir, fmt.Sprintf("%d.db", n))
	start := time.Now()
	s, err := memory.OpenSQLite(context.Background(), memory.Options{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	c := newCorpus(uint64(n))
	es := make([]memory.NewEntry, n)
	for i := range es {
		es[i] = c.entry()
	}
	// One entry a minute, ending now: newest first is the insert order
	// reversed.
	t0 := time.Now().Add(-time.Duration(n) * time.Minute)
	if err := s.BulkStore(context.Background(), es, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }); err != nil {
		b.Fatal(err)
	}
	if err := s.Checkpoint(context.Background()); err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	fi, _ := os.Stat(path)
	b.Logf("fixture of %d entries built in %v (%.1f MB)", n, time.Since(start).Round(time.Millisecond), float64(fi.Size())/1e6)
	fixturePath[n] = path
	return path
}

func removeFixtures() {
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
}

// openFixture opens the n-entry fixture; with copy, a private copy of it.
func openFixture(b *testing.B, n int, copy bool, opts memory.Options) memory.Store {
	b.Helper()
	path := fixture(b, n)
	if copy {
		dst := filepath.Join(b.TempDir(), "copy.db")
		if err := copyFile(path, dst); err != nil {
			b.Fatal(err)
		}
		path = dst
	}
	opts.Path = path
	return memory.MustOpenOptions(b, opts)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func sizeName(n int) string { return fmt.Sprintf("entries=%dk", n/1000) }

func BenchmarkStore(b *testing.B) {
	for _, n := range fixtureSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			s := openFixture(b, n, true, memory.Options{})
			c := newCorpus(1)
			es := make([]memory.NewEntry, 1000)
			for i := range es {
				es[i] = c.entry()
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := s.Store(bg, es[i%len(es)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// sampleIDs returns ids of k entries spread over the fixture.
func sampleIDs(b *testing.B, s memory.Store, k int) []string {
	b.Helper()
	var ids []string
	q := memory.Query{Limit: memory.MaxLimit}
	for len(ids) < k {
		page, err := s.Retrieve(bg, q)
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, entryIDs(page.Entries)...)
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	return ids[:min(k, len(ids))]
}

func BenchmarkGet(b *testing.B) {
	for _, n := range fixtureSizes {
		for _, cached := range []bool{true, false} {
			name := sizeName(n) + "/cached"
			opts := memory.Options{}
			if !cached {
				name = sizeName(n) + "/uncached"
				opts.CacheSize = -1
			}
			b.Run(name, func(b *testing.B) {
				s := openFixture(b, n, false, opts)
				ids := sampleIDs(b, s, 500) // fits the default cache
				for _, id := range ids {
					s.Get(bg, id)
				}
				b.ResetTimer()
				for i := 0; b.Loop(); i++ {
					if _, err := s.Get(bg, ids[i%len(ids)]); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkRetrieve(b *testing.B) {
	for _, n := range fixtureSizes {
		c := newCorpus(2)
		cases := []struct {
			name string
			q    func() memory.Query
		}{
			{"newest", func() memory.Query { return memory.Query{} }},
			{"conversation", func() memory.Query {
				return memory.Query{Filter: memory.Filter{ConversationID: fmt.Sprint("conv-", c.r.IntN(conversations))}}
			}},
			{"tag+importance", func() memory.Query {
				return memory.Query{Filter: memory.Filter{Tags: []string{fmt.Sprint("tag", c.r.IntN(50))}, MinImportance: 0.5}}
			}},
		}
		for _, tc := range cases {
			b.Run(sizeName(n)+"/"+tc.name, func(b *testing.B) {
				s := openFixture(b, n, false, memory.Options{})
				b.ResetTimer()
				for b.Loop() {
					q := tc.q()
					page, err := s.Retrieve(bg, q)
					if err != nil {
						b.Fatal(err)
					}
					if page.NextCursor != "" { // and the next page
						q.Cursor = page.NextCursor
						if _, err := s.Retrieve(bg, q); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}

func BenchmarkSearch(b *testing.B) {
	for _, n := range fixtureSizes {
		b.Run(sizeName(n), func(b *testing.B) {
			s := openFixture(b, n, false, memory.Options{})
			c := newCorpus(3)
			qs := make([]string, 1000)
			for i := range qs {
				qs[i] = c.query()
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := s.Search(bg, memory.SearchQuery{Text: qs[i%len(qs)]}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSearchLatency reports the percentiles of single searches at
// 100 000 entries: agent-like queries, the same within one conversation,
// and single very common words (which come in recency order).
func BenchmarkSearchLatency(b *testing.B) {
	n := fixtureSizes[len(fixtureSizes)-1]
	c := newCorpus(4)
	for _, tc := range []struct {
		name   string
		query  func() string
		filter bool
	}{
		{"typical", c.query, false},
		{"typical-in-conversation", c.query, true},
		{"common-word", func() string { return c.vocab[c.r.IntN(30)] }, false},
	} {
		b.Run(sizeName(n)+"/"+tc.name, func(b *testing.B) {
			s := openFixture(b, n, false, memory.Options{})
			var lat []time.Duration
			b.ResetTimer()
			for b.Loop() {
				q := memory.SearchQuery{Text: tc.query()}
				if tc.filter {
					q.ConversationID = fmt.Sprint("conv-", c.r.IntN(conversations))
				}
				start := time.Now()
				if _, err := s.Search(bg, q); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			reportPercentiles(b, lat)
		})
	}
}

// BenchmarkStoreLatency reports the percentiles of single stores into the
// 100 000-entry database.
func BenchmarkStoreLatency(b *testing.B) {
	n := fixtureSizes[len(fixtureSizes)-1]
	b.Run(sizeName(n), func(b *testing.B) {
		s := openFixture(b, n, true, memory.Options{})
		c := newCorpus(5)
		var lat []time.Duration
		b.ResetTimer()
		for b.Loop() {
			e := c.entry()
			start := time.Now()
			if _, err := s.Store(bg, e); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		reportPercentiles(b, lat)
	})
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(p float64) float64 {
		i := min(len(lat)-1, int(p*float64(len(lat))))
		return float64(lat[i]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1])/float64(time.Millisecond), "max-ms")
}
