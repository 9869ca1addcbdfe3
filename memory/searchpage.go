package memory

import (
	"context"
	"fmt"
	"math"
)

// hitSearcher is what searchPage needs of a backend: its statements for a
// page in each order, which fill page.
type hitSearcher interface {
	searchRanked(ctx context.Context, plan searchPlan, page *SearchPage) error
	searchRecent(ctx context.Context, plan searchPlan, page *SearchPage) error
}

// searchPage is the page of plan on any backend, in the plan's order.
func searchPage(ctx context.Context, b hitSearcher, plan searchPlan) (SearchPage, error) {
	page := SearchPage{Hits: []Hit{}, Ranking: plan.ranking, IgnoredTerms: plan.ignored}
	var err error
	if plan.match != "" {
		if plan.ranking == RankingRecency {
			err = b.searchRecent(ctx, plan, &page)
		} else {
			err = b.searchRanked(ctx, plan, &page)
		}
	}
	if err != nil {
		return SearchPage{}, fmt.Errorf("searching: %w", err)
	}
	return page, nil
}

// hitPage fills a SearchPage from the rows of a search's statement, in
// either order and either store: the statements differ, the rows and the
// cursors do not.
type hitPage struct {
	entryPage
	plan  searchPlan
	page  *SearchPage
	score float64 // in relevance order, the score of the last hit read
}

func newHitPage(scan entryScanner, plan searchPlan, page *SearchPage) *hitPage {
	return &hitPage{entryPage: entryPage{scan: scan, limit: plan.limit}, plan: plan, page: page}
}

// rankedRows is the row callback of a search in relevance order, whose
// rows are an entry's columns and then its score.
func (h *hitPage) rankedRows() func(rowScanner) error {
	return h.rows(func(e Entry) { h.add(e, h.score) }, &h.score)
}

// recentRows is the row callback of a search in recency order, whose rows
// are an entry's columns.
func (h *hitPage) recentRows() func(rowScanner) error {
	return h.rows(func(e Entry) { h.add(e, 0) })
}

func (h *hitPage) add(e Entry, score float64) {
	h.page.Hits = append(h.page.Hits, Hit{Entry: e, Score: score, Snippet: makeSnippet(e.Content, h.plan.terms)})
}

// endRanked sets the page's NextCursor, in relevance order, when a row
// came after its last hit.
func (h *hitPage) endRanked() {
	if h.more {
		h.page.NextCursor = cursor{kind: cursorSearch, fingerprint: h.plan.fingerprint, key: math.Float64bits(h.score), seq: h.last}.String()
	}
}

// endRecent sets the page's NextCursor in recency order. A page that came
// short has a next page too when the window of matches it looked at was
// full (recencyScan of them): the next page goes on below the window.
// window counts the matches in the window and finds their lowest seq (nil
// when there are none).
func (h *hitPage) endRecent(window func(scanned *int, lowest **int64) error) error {
	last := h.last
	if !h.more {
		var scanned int
		var lowest *int64
		if err := window(&scanned, &lowest); err != nil || scanned < recencyScan || lowest == nil {
			return err // (lowest is nil only for an empty window)
		}
		last = *lowest
	}
	h.page.NextCursor = cursor{kind: cursorRecent, fingerprint: h.plan.fingerprint, seq: last}.String()
	return nil
}
