package codeanalysis

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
)

// An Analyzer serves concurrent requests, each with the result it would get
// alone (run with -race).
func TestConcurrentAnalyze(t *testing.T) {
	dir := mixedTree(t)
	a := mustNew(t, Options{Roots: []string{dir}, MaxFileBytes: 1000})
	want := map[string]string{}
	for _, typ := range Types() {
		res, err := a.Analyze(context.Background(), Request{Path: ".", Type: typ})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(res)
		want[typ] = string(b)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		typ := Types()[i%4]
		wg.Go(func() {
			res, err := a.Analyze(context.Background(), Request{Path: ".", Type: typ})
			if err != nil {
				t.Error(err)
				return
			}
			if b, _ := json.Marshal(res); string(b) != want[typ] {
				t.Errorf("%s: concurrent result differs", typ)
			}
		})
	}
	wg.Wait()
}
