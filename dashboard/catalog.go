package dashboard

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/mcp-pba-tunnel/pbatunnel/catalog"
)

// catalogResponse is GET /api/catalog.
type catalogResponse struct {
	Tools []catalogTool `json:"tools"`
	// ToolsListTokens is what the whole list costs a model's context, in
	// every conversation that offers the tools.
	ToolsListTokens int `json:"tools_list_tokens"`
	// Listed is when the list was last seen; null before any was.
	Listed *string `json:"listed"`
	// PinnedAt is when the first whole list was seen, which later lists
	// are compared with; null before. Changes are what differed since,
	// oldest first (at most 100); Drift how many differences the latest
	// list has from the pin (0: it is the pinned one again).
	PinnedAt *string         `json:"pinned_at"`
	Changes  []catalogChange `json:"changes"`
	Drift    int             `json:"drift"`
}

type catalogChange struct {
	Time   string          `json:"time"`
	Tool   string          `json:"tool"`
	Kind   string          `json:"kind"`
	Before json.RawMessage `json:"before"`
	After  json.RawMessage `json:"after"`
}

type catalogTool struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Tokens      int    `json:"tokens"`
	// Findings are what the description holds that tool poisoning uses.
	Findings []catalog.Finding `json:"findings"`
	// Calls are the tool's calls as of the latest sample.
	Calls uint64 `json:"calls"`
}

// catalog serves GET /api/catalog?sort=name|tokens|calls: every tool
// offered, called or not, with the tokens its definition costs.
func (a *api) catalog(w http.ResponseWriter, r *http.Request) {
	if !checkParams(w, r, "sort") {
		return
	}
	order, ok := singleParam(w, r.URL.Query(), "sort")
	if !ok {
		return
	}
	switch order {
	case "", "name", "tokens", "calls":
	default:
		writeError(w, http.StatusBadRequest, "sort must be name, tokens or calls; got "+order)
		return
	}
	res := catalogResponse{Tools: []catalogTool{}, Changes: []catalogChange{}}
	if c := a.opts.Catalog; c != nil {
		changes, drift, pinned := c.Drift()
		for _, ch := range changes {
			res.Changes = append(res.Changes, catalogChange{Time: stamp(ch.Time), Tool: ch.Tool, Kind: ch.Kind,
				Before: nullIfNil(ch.Before), After: nullIfNil(ch.After)})
		}
		res.Drift = drift
		if !pinned.IsZero() {
			s := stamp(pinned)
			res.PinnedAt = &s
		}
		tools, total, listed, err := c.Tools()
		if err != nil {
			writeError(w, http.StatusInternalServerError, "reading the tool catalogue: "+err.Error())
			return
		}
		snap := a.m.Latest()
		for _, t := range tools {
			ct := catalogTool{Name: t.Name, Description: t.Description, Tokens: t.Tokens, Findings: t.Findings}
			if ct.Findings == nil {
				ct.Findings = []catalog.Finding{}
			}
			if snap != nil {
				ct.Calls = snap.Tools[t.Name].Count
			}
			res.Tools = append(res.Tools, ct)
		}
		res.ToolsListTokens = total
		if !listed.IsZero() {
			s := stamp(listed)
			res.Listed = &s
		}
	}
	slices.SortFunc(res.Tools, func(x, y catalogTool) int {
		switch order {
		case "tokens":
			return cmp.Or(cmp.Compare(y.Tokens, x.Tokens), cmp.Compare(x.Name, y.Name))
		case "calls":
			return cmp.Or(cmp.Compare(y.Calls, x.Calls), cmp.Compare(x.Name, y.Name))
		}
		return cmp.Compare(x.Name, y.Name)
	})
	writeJSON(w, http.StatusOK, res)
}

func nullIfNil(raw json.RawMessage) json.RawMessage {
	if raw == nil {
		return json.RawMessage("null")
	}
	return raw
}
