package memory

import (
	"errors"
	"fmt"
)

// Errors the store returns, always wrapped with a message that names the
// offending field or entry. Test for them with errors.Is.
var (
	// ErrNotFound: the entry or relationship does not exist, or has expired.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: a request failed validation; the message says which field
	// is wrong and why.
	ErrInvalid = errors.New("invalid request")
	// ErrClosed: the store has been closed.
	ErrClosed = errors.New("memory store closed")
)

// invalidf returns ErrInvalid wrapped with a message built from format.
// The message comes first so that it reads naturally:
// "invalid importance 1.5: must be between 0 and 1".
func invalidf(format string, args ...any) error {
	return &wrapped{msg: fmt.Sprintf(format, args...), err: ErrInvalid}
}

// notFoundf returns ErrNotFound wrapped with a message built from format.
func notFoundf(format string, args ...any) error {
	return &wrapped{msg: fmt.Sprintf(format, args...), err: ErrNotFound}
}

// wrapped is an error whose text is msg alone: the sentinel's own text
// ("invalid request") would add nothing to a message that already says
// what is wrong.
type wrapped struct {
	msg string
	err error
}

func (e *wrapped) Error() string { return e.msg }
func (e *wrapped) Unwrap() error { return e.err }
