package memory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestConnLost(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"none", nil, false},
		{"a statement's error", &pgconn.PgError{Code: "23505"}, false},
		{"a lost race", &pgconn.PgError{Code: "40001"}, false},
		{"restart", fmt.Errorf("storing: %w", &pgconn.PgError{Severity: "FATAL", Code: "57P01"}), true},
		{"crash", &pgconn.PgError{Code: "57P02"}, true},
		{"connection exception", &pgconn.PgError{Code: "08006"}, true},
		{"starting up", &pgconn.PgError{Code: "57P03"}, false},
		{"socket closed", fmt.Errorf("reading: %w", io.ErrUnexpectedEOF), true},
		{"cancelled", context.Canceled, false},
		{"stalled", fmt.Errorf("%w in 1s: %w", errStalled, context.DeadlineExceeded), false},
		{"other", errors.New("boom"), false},
	}
	for _, tt := range tests {
		if got := connLost(tt.err); got != tt.want {
			t.Errorf("connLost(%s: %v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}
