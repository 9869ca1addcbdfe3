package dashboard

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"time"
)

// acceptRequest is the body of POST /api/catalog/accept: the tools whose
// present definition to pin; none is all that differ.
type acceptRequest struct {
	Tools []string `json:"tools"`
}

type acceptResponse struct {
	// Accepted are the tools whose pin changed: pinned as they are
	// listed now, or, removed from the list, unpinned.
	Accepted []string `json:"accepted"`
	PinnedAt string   `json:"pinned_at"`
	Drift    int      `json:"drift"`
}

// acceptCatalog serves POST /api/catalog/accept: a person has read what
// changed in the server's tools and takes it as the new pin, so that
// calls the proxy blocks for drift (--on-drift block) go through again.
// The body must be JSON, which a web page cannot send here without the
// browser asking first (CORS), and nothing here answers that.
func (a *api) acceptCatalog(w http.ResponseWriter, r *http.Request) {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "the body must be JSON (Content-Type: application/json), such as {\"tools\": [\"name\"]} or {} for all")
		return
	}
	c := a.opts.Catalog
	if c == nil {
		writeError(w, http.StatusNotFound, "no tool catalogue here")
		return
	}
	var req acceptRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "the body must be {\"tools\": [\"name\", …]}: "+err.Error())
		return
	}
	accepted, err := c.Accept(req.Tools, time.Now())
	if err != nil {
		writeError(w, http.StatusConflict, err.Error())
		return
	}
	_, drift, pinned := c.Drift()
	if accepted == nil {
		accepted = []string{}
	}
	writeJSON(w, http.StatusOK, acceptResponse{Accepted: accepted, PinnedAt: stamp(pinned), Drift: drift})
}
