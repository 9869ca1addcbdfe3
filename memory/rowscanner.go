package memory

// rowScanner is one row of a result as a query's callback reads it: both
// *sql.Rows (SQLite) and pgx.Rows (PostgreSQL) are one, so that a callback
// that only scans serves either store.
type rowScanner interface {
	Scan(dest ...any) error
}

// scanPlus scans the columns of an entry followed by more.
type scanPlus struct {
	rows  rowScanner
	extra []any
}

func (s scanPlus) Scan(dest ...any) error { return s.rows.Scan(append(dest, s.extra...)...) }

// scanPrefix scans some columns before those of an entry.
type scanPrefix struct {
	rows   rowScanner
	before []any
}

func (s scanPrefix) Scan(dest ...any) error { return s.rows.Scan(append(s.before, dest...)...) }
