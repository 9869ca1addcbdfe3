package memory

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// A database restarted, or failed over, under a running server cuts every
// connection of the pool, and each would fail the next statement sent on
// it: pgxpool only checks a connection that was idle for a second. So a
// statement that finds its connection lost says so (connLost), the pool
// drops every connection it holds (they went the same way), and the
// statement runs again on a new one when that is safe: a read that had
// returned no row yet, a BEGIN, or a write transaction that had not sent
// its COMMIT (the server rolled it back). A database still down fails the
// second try to connect, with the driver's message.

// connLost reports whether err says that the connection was lost (the
// server shut it, or the socket closed) rather than that a statement
// failed on a live one.
func connLost(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return false // a new connection failed: the database is down, or refuses
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "57P01", "57P02": // admin_shutdown, crash_shutdown
			return true
		}
		return strings.HasPrefix(pe.Code, "08") // connection_exception
	}
	return pgconn.SafeToRetry(err) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// reconnect reports whether a statement that failed with err on q should
// run again: q is the pool, not a transaction, and err says the
// connection was lost, in which case the pool's connections are dropped.
func (s *Postgres) reconnect(q pgQueryer, err error) bool {
	if q != pgQueryer(s.pool) || !connLost(err) {
		return false
	}
	s.pool.Reset()
	return true
}

// lostBeforeCommit is the error of a write transaction whose connection
// was lost before its COMMIT was sent: nothing of it was kept, and it may
// run again.
type lostBeforeCommit struct{ err error }

func (e lostBeforeCommit) Error() string { return e.err.Error() }
func (e lostBeforeCommit) Unwrap() error { return e.err }
