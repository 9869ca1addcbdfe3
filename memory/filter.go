package memory

import (
	"strings"
	"time"
)

// A Filter narrows Retrieve and Search. The zero Filter matches every live
// (not expired) entry.
type Filter struct {
	ConversationID string `json:"conversation_id,omitempty"`
	SessionID      string `json:"session_id,omitempty"`
	ContextType    string `json:"context_type,omitempty"`
	// Tags: an entry must carry every one of them.
	Tags          []string `json:"tags,omitempty"`
	MinImportance float64  `json:"min_importance,omitempty"` // 0 to 1
	// Since and Until bound the creation time: Since inclusive, Until
	// exclusive; zero means unbounded.
	Since time.Time `json:"since,omitzero"`
	Until time.Time `json:"until,omitzero"`
}

// Limits on a page.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

func (f Filter) validate() (Filter, error) {
	if err := checkScopeID("conversation_id", f.ConversationID); err != nil {
		return f, err
	}
	if err := checkScopeID("session_id", f.SessionID); err != nil {
		return f, err
	}
	f.ContextType = strings.TrimSpace(f.ContextType)
	if f.ContextType != "" {
		if err := checkLabel("context_type", f.ContextType, MaxContextTypeBytes); err != nil {
			return f, err
		}
	}
	tags, err := normalizeTags(f.Tags)
	if err != nil {
		return f, err
	}
	f.Tags = tags
	if err := checkUnit("min_importance", f.MinImportance); err != nil {
		return f, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return f, invalidf("invalid until %s: must be after since %s",
			f.Until.Format(time.RFC3339Nano), f.Since.Format(time.RFC3339Nano))
	}
	return f, nil
}

// checkLimit returns the page size a limit asks for.
func checkLimit(n int) (int, error) {
	switch {
	case n == 0:
		return DefaultLimit, nil
	case n < 0 || n > MaxLimit:
		return 0, invalidf("invalid limit %d: must be between 1 and %d (0 means %d)", n, MaxLimit, DefaultLimit)
	}
	return n, nil
}

// where returns the conditions on the entry aliased e, and their
// arguments, that select the live entries f matches at now (Unix ms).
func (f Filter) where(now int64) ([]string, []any) {
	conds := []string{liveCond}
	args := []any{now}
	if f.ConversationID != "" {
		conds = append(conds, `e.conversation_id = ?`)
		args = append(args, f.ConversationID)
	}
	if f.SessionID != "" {
		conds = append(conds, `e.session_id = ?`)
		args = append(args, f.SessionID)
	}
	if f.ContextType != "" {
		conds = append(conds, `e.context_type = ?`)
		args = append(args, f.ContextType)
	}
	for _, t := range f.Tags {
		// One lookup per tag in the (tag) index; the planner may also start
		// from the rarest tag.
		conds = append(conds, `e.seq IN (SELECT entry_seq FROM entry_tags WHERE tag = ?)`)
		args = append(args, t)
	}
	if f.MinImportance > 0 {
		conds = append(conds, `e.importance >= ?`)
		args = append(args, f.MinImportance)
	}
	if !f.Since.IsZero() {
		conds = append(conds, `e.created_at >= ?`)
		args = append(args, f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		conds = append(conds, `e.created_at < ?`)
		args = append(args, f.Until.UnixMilli())
	}
	return conds, args
}

func (f Filter) hash(fp *fingerprinter) {
	fp.str(f.ConversationID)
	fp.str(f.SessionID)
	fp.str(f.ContextType)
	fp.u64(uint64(len(f.Tags)))
	for _, t := range f.Tags {
		fp.str(t)
	}
	fp.str(formatFloat(f.MinImportance))
	fp.u64(uint64(zeroOrMillis(f.Since)))
	fp.u64(uint64(zeroOrMillis(f.Until)))
}

func zeroOrMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
