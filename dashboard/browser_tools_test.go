package dashboard_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The Tools table's columns, 1-based, as jsToolCell takes them.
const (
	colCalls    = 2
	colLast     = 8
	colDefTok   = 9
	colRespAvg  = 10
	colRespP95  = 11
	colRespSize = 12
)

// apiReading is a report Reading: a number, or {"unavailable": reason}.
type apiReading struct {
	Value  *float64
	Reason string
}

func (r *apiReading) UnmarshalJSON(b []byte) error {
	var v float64
	if err := json.Unmarshal(b, &v); err == nil {
		r.Value = &v
		return nil
	}
	var u struct {
		Unavailable string `json:"unavailable"`
	}
	if err := json.Unmarshal(b, &u); err != nil {
		return err
	}
	r.Reason = u.Unavailable
	return nil
}

type apiToolCost struct {
	BytesAvg  apiReading `json:"response_bytes_avg"`
	TokensAvg apiReading `json:"response_tokens_avg"`
	TokensP95 apiReading `json:"response_tokens_p95"`
}

type apiCatalog struct {
	Tools []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		Tokens      int    `json:"tokens"`
	} `json:"tools"`
	ToolsListTokens int     `json:"tools_list_tokens"`
	Listed          *string `json:"listed"`
}

// grouped writes n as the page does: thousands separated by commas.
func grouped(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// humanBytes is a size as the page shows it.
func humanBytes(v float64) string {
	fixed1 := func(x float64) string {
		if x < 10 {
			return strconv.FormatFloat(x, 'f', 1, 64)
		}
		return grouped(int(math.Round(x)))
	}
	switch {
	case v < 1024:
		return grouped(int(math.Round(v))) + " B"
	case v < 1024*1024:
		return fixed1(v/1024) + " KiB"
	}
	return fixed1(v/1048576) + " MiB"
}

// jsToolTitle is the title of a tool's cell in column col (1-based).
func jsToolTitle(tool string, col int) string {
	return strings.Replace(jsToolCell(tool, col), "?.textContent", "?.title", 1)
}

// costOrder is the tools ordered by a figure, measured ones first (the
// largest first when desc), then those without one, each run by name.
func costOrder(tools map[string]apiToolCost, names []string, get func(apiToolCost) apiReading, desc bool) []string {
	out := slices.Clone(names)
	slices.SortFunc(out, func(a, b string) int {
		x, y := get(tools[a]).Value, get(tools[b]).Value
		switch {
		case x == nil && y == nil:
		case x == nil:
			return 1
		case y == nil:
			return -1
		case desc:
			if c := cmp.Compare(*y, *x); c != 0 {
				return c
			}
		default:
			if c := cmp.Compare(*x, *y); c != 0 {
				return c
			}
		}
		return cmp.Compare(a, b)
	})
	return out
}

// testToolsCost checks what the Tools tab says each tool costs a model's
// context: every tool of the catalogue, called or not, with its
// definition's tokens and its responses' tokens and size, the whole
// list's tokens above, and the "Heaviest first" order.
func testToolsCost(t *testing.T, b *browser, env *browserEnv) {
	tb := b.newTab(t, desktop)
	tb.watchMarkup()
	tb.navigate(env.base + "/#tools")
	tb.wait("five tools", jsToolRows+`.length === 5`)

	var cat apiCatalog
	getJSON(t, env.base+"/api/catalog", &cat)
	var tools map[string]apiToolCost
	getJSON(t, env.base+"/api/tools", &tools)
	if cat.Listed == nil || cat.ToolsListTokens == 0 || len(cat.Tools) != 5 {
		t.Fatalf("the catalogue is not the environment's: %+v", cat)
	}

	// The tool whose description changed after the first list: the
	// change, before and after, the hostile text as text.
	tb.wait("the tool changes", `!document.querySelector('#drift-panel').hidden && document.querySelectorAll('#drift-table tbody tr').length === 1`)
	drift := eval[[]string](tb, `[...document.querySelectorAll('#drift-table tbody tr td')].slice(1).map(td => td.textContent)`)
	if want := []string{"flaky_tool", "description changed", "Fails.", driftDesc}; strings.Join(drift, "|") != strings.Join(want, "|") {
		t.Errorf("the change row %q, want %q", drift, want)
	}
	if got := eval[string](tb, `document.querySelector('#drift-count').textContent`); got != "1 difference from the pinned tools now" {
		t.Errorf("drift count %q", got)
	}
	noMarkup(t, tb)
	// flaky_tool's description is now one to read: the row says why.
	tb.wait("the finding on flaky_tool", `[...document.querySelectorAll('#tools-table tbody tr')].some(tr => tr.querySelector('.finding') &&
		tr.querySelector('.finding').textContent === 'Read this description: instruction tags, secret files')`)

	// The whole list's cost, above the table.
	wantCost := fmt.Sprintf("Tool definitions cost %s tokens in every conversation (the tools/list result, o200k_base)", grouped(cat.ToolsListTokens))
	tb.wait("the total line", `document.querySelector('#tools-cost').textContent === `+jsString(wantCost)+
		` && !document.querySelector('#tools-cost').hidden`)

	// Every tool of the catalogue is a row, with its definition's tokens.
	for _, c := range cat.Tools {
		tb.wait(c.Name+"'s definition tokens", jsToolCell(c.Name, colDefTok)+` === `+jsString(grouped(c.Tokens)))
	}
	// The tool never called: its call figures are "—", and say why.
	if _, ok := tools[neverCalled]; ok {
		t.Fatalf("%s has calls; the environment must leave it uncalled", neverCalled)
	}
	for _, col := range []int{colCalls, colLast, colRespAvg, colRespP95, colRespSize} {
		if got := eval[string](tb, jsToolCell(neverCalled, col)); got != "—" {
			t.Errorf("%s column %d = %q, want —", neverCalled, col, got)
		}
	}
	if got := eval[string](tb, jsToolTitle(neverCalled, colRespAvg)); got != "never called" {
		t.Errorf("%s response tokens title = %q, want never called", neverCalled, got)
	}

	// The responses' figures are the API's: tokens with the unit in the
	// heading, the size in human units; "—" and the reason when there is
	// none.
	measured := 0
	for name, tc := range tools {
		for _, f := range []struct {
			col int
			r   apiReading
		}{{colRespAvg, tc.TokensAvg}, {colRespP95, tc.TokensP95}} {
			shown := eval[string](tb, jsToolCell(name, f.col))
			if f.r.Value == nil {
				title := eval[string](tb, jsToolTitle(name, f.col))
				if shown != "—" || title != "not available: "+f.r.Reason {
					t.Errorf("%s column %d = %q (title %q), want — (not available: %s)", name, f.col, shown, title, f.r.Reason)
				}
				continue
			}
			measured++
			got, tol, err := parseShown(shown)
			if err != nil || math.Abs(got-*f.r.Value) > tol {
				t.Errorf("%s column %d = %q, the API says %v", name, f.col, shown, *f.r.Value)
			}
		}
		want := "—"
		if v := tc.BytesAvg.Value; v != nil {
			want = humanBytes(*v)
		}
		if got := eval[string](tb, jsToolCell(name, colRespSize)); got != want {
			t.Errorf("%s response size = %q, want %q", name, got, want)
		}
	}
	if measured < 4 {
		t.Fatalf("%d response token figures measured; the environment must count some for two tools", measured)
	}
	heads := eval[[]string](tb, `[...document.querySelectorAll('#tools-table th')].slice(8).map(th => th.textContent)`)
	if want := []string{"Definition (tokens)", "Response avg (tokens)", "Response p95 (tokens)", "Response avg size"}; !slices.Equal(heads, want) {
		t.Errorf("cost headings %q, want %q", heads, want)
	}

	names := make([]string, 0, len(cat.Tools))
	for _, c := range cat.Tools {
		names = append(names, c.Name)
	}
	avg := func(c apiToolCost) apiReading { return c.TokensAvg }
	p95 := func(c apiToolCost) apiReading { return c.TokensP95 }

	// "Heaviest first": by mean response tokens, largest first, those
	// without a figure last.
	tb.click(`th[data-col="name"] button`)
	tb.wait("rows by name", jsToolRows+`[0] === `+jsString(hostile))
	tb.click(`#tools-heaviest`)
	heaviest := costOrder(tools, names, avg, true)
	tb.wait("heaviest first", fmt.Sprintf(`JSON.stringify(%s) === JSON.stringify(%s)`, jsToolRows, jsArray(heaviest)))
	if heaviest[0] != "enhanced_memory" || heaviest[1] != "code_analysis" {
		t.Errorf("heaviest first from the API: %q; the environment's figures changed", heaviest)
	}
	if got := eval[string](tb, `document.querySelector('#tools-heaviest').getAttribute('aria-pressed') + ' ' +
		document.querySelector('th[data-col="rtok"]').getAttribute('aria-sort')`); got != "true descending" {
		t.Errorf("after Heaviest first: pressed, aria-sort = %s; want true descending", got)
	}
	tb.screenshot("tools-cost")

	// The token columns sort as numbers, and what has no figure stays last
	// in either direction.
	tb.click(`th[data-col="rp95"] button`)
	tb.wait("by p95 tokens, descending", fmt.Sprintf(`JSON.stringify(%s) === JSON.stringify(%s)`, jsToolRows, jsArray(costOrder(tools, names, p95, true))))
	tb.click(`th[data-col="rp95"] button`)
	tb.wait("by p95 tokens, ascending", fmt.Sprintf(`JSON.stringify(%s) === JSON.stringify(%s)`, jsToolRows, jsArray(costOrder(tools, names, p95, false))))
	if got := eval[string](tb, `document.querySelector('#tools-heaviest').getAttribute('aria-pressed')`); got != "false" {
		t.Errorf("Heaviest first pressed = %s after another order, want false", got)
	}
	var byTokens apiCatalog
	getJSON(t, env.base+"/api/catalog?sort=tokens", &byTokens)
	defOrder := make([]string, 0, len(byTokens.Tools))
	for _, c := range byTokens.Tools {
		defOrder = append(defOrder, c.Name)
	}
	// Numbers, not strings: the definitions span 2 and 3 digits.
	if first, last := byTokens.Tools[0].Tokens, byTokens.Tools[len(byTokens.Tools)-1].Tokens; first < 100 || last >= 100 {
		t.Errorf("definition tokens from %d to %d; the environment must have some of 3 digits and some of 2", first, last)
	}
	tb.click(`th[data-col="def"] button`)
	tb.wait("by definition tokens", fmt.Sprintf(`JSON.stringify(%s) === JSON.stringify(%s)`, jsToolRows, jsArray(defOrder)))

	// Hostile text is text: the name and the description, literally.
	tb.wait("the hostile description as text", fmt.Sprintf(`(() => {
		const tr = [...document.querySelectorAll('#tools-table tbody tr')].find(tr => tr.dataset.tool === %s);
		return tr && tr.querySelector('.tool').textContent === %s && tr.querySelector('.desc').textContent === %s; })()`,
		jsString(hostile), jsString(hostile), jsString(hostileDesc)))
	if n := eval[int](tb, `document.querySelectorAll('#tools-table script, #tools-table b, #tools-table img').length`); n != 0 {
		t.Errorf("the tools table has %d elements made from a tool's text", n)
	}
	if els, alerts := tb.markupSeen(); len(els) > 0 || alerts > 0 {
		t.Errorf("markup from text: %q, %d alert calls", els, alerts)
	}
}
