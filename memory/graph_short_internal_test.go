package memory

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"
	"unicode"

	"github.com/google/go-cmp/cmp"
)

// TestCaseVariants checks caseVariants against every code point: each
// rune is a variant of its lower case, and every variant of c lowers to c.
func TestCaseVariants(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if l := unicode.ToLower(r); l != r && !slices.Contains(caseVariants(l), r) {
			t.Errorf("%U lowers to %U but is not among its variants %U", r, l, caseVariants(l))
		}
	}
	for c := range lowerInverse() {
		for _, v := range caseVariants(c) {
			if l := unicode.ToLower(v); l != c {
				t.Errorf("%U is a variant of %U but lowers to %U", v, c, l)
			}
		}
	}
	for _, tt := range []struct {
		c    rune
		want []rune
	}{
		{'k', []rune{'K', 'k', '\u212a'}},
		{'i', []rune{'I', 'i', '\u0130'}},
		{'ı', []rune{'ı'}},
		{'ß', []rune{'ß', 'ẞ'}},
		{'ǆ', []rune{'Ǆ', 'ǅ', 'ǆ'}},
		{'7', []rune{'7'}},
		{'K', nil}, // nothing lowers to an upper-case K
	} {
		if got := slices.Sorted(slices.Values(caseVariants(tt.c))); !slices.Equal(got, tt.want) {
			t.Errorf("caseVariants(%q) = %q, want %q", tt.c, got, tt.want)
		}
	}
}

func TestGraphShortGrams(t *testing.T) {
	tests := []struct {
		fields []string
		want   string
	}{
		{[]string{"abab"}, "61 62 6162 6261"},
		// Pairs stay within a field; case is kept; repeats across fields
		// are dropped.
		{[]string{"Ab", "b", "", "bA"}, "41 62 4162 6241"},
		{[]string{"é日🙂"}, "c3a9 e697a5 c3a9e697a5 f09f9982 e697a5f09f9982"},
		{[]string{" -"}, "20 2d 202d"},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := graphShortGrams(tt.fields); got != tt.want {
			t.Errorf("graphShortGrams(%q) = %q, want %q", tt.fields, got, tt.want)
		}
	}
}

func TestShortMatch(t *testing.T) {
	tests := []struct {
		terms []string
		want  string
	}{
		{[]string{"a"}, `("61" OR "41")`},
		{[]string{"7-"}, `("372d")`},
		{[]string{"ab", "k"}, `("6162" OR "6142" OR "4162" OR "4142") AND ("6b" OR "4b" OR "e284aa")`},
		{[]string{"ß"}, `("c39f" OR "e1ba9e")`},
	}
	for _, tt := range tests {
		got, ok := shortMatch(tt.terms)
		if !ok || got != tt.want {
			t.Errorf("shortMatch(%q) = %q, %v; want %q", tt.terms, got, ok, tt.want)
		}
	}
	if got, ok := shortMatch([]string{"aK"}); ok {
		t.Errorf("shortMatch(aK) = %q; nothing lowers to K, so nothing can match", got)
	}
}

// TestGraphShortUpgrade opens a file of schema 2 that holds entities: the
// migration indexes them, searches find them through the index, and
// emptying the index empties the answers, so the index is what answers.
func TestGraphShortUpgrade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	ctx := context.Background()
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(path, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
		ms[0].sql, ms[1].sql,
		`INSERT INTO schema_migrations VALUES (1, '0001_init.sql', 0), (2, '0002_graph.sql', 0)`,
		`INSERT INTO graph_entities (name, entity_type, observations, created_at, updated_at) VALUES
			('Ada', 'person', '["Analytical Engine","née Byron"]', 1, 1),
			('Kelvin', 'unit', '["\u212a"]', 1, 1),
			('Bob', 'person', '[]', 1, 1)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	db.Close()

	s := MustOpenOptions(t, Options{Path: path})
	tests := []struct {
		query string
		want  []string
	}{
		{"a", []string{"Ada"}},
		{"é", []string{"Ada"}},
		{"k", []string{"Kelvin"}},
		{"on", []string{"Ada", "Bob"}},
		{"pe", []string{"Ada", "Bob"}},
		{"", []string{"Ada", "Kelvin", "Bob"}},
		{"zz", nil},
	}
	names := func(p GraphPage) []string {
		var ns []string
		for _, e := range p.Entities {
			ns = append(ns, e.Name)
		}
		return ns
	}
	for _, tt := range tests {
		p, err := s.SearchNodes(ctx, NodeQuery{Query: tt.query})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(tt.want, names(p)); d != "" {
			t.Errorf("SearchNodes(%q) after the upgrade (-want +got):\n%s", tt.query, d)
		}
	}

	if _, err := s.db.ExecContext(ctx, `INSERT INTO graph_short (graph_short) VALUES ('delete-all')`); err != nil {
		t.Fatal(err)
	}
	p, err := s.SearchNodes(ctx, NodeQuery{Query: "a"})
	if err != nil || len(p.Entities) != 0 {
		t.Errorf("with the index emptied, SearchNodes(a) = %q, %v; want nothing", names(p), err)
	}
	p, err = s.SearchNodesScan(ctx, NodeQuery{Query: "a"})
	if err != nil || len(p.Entities) != 1 {
		t.Errorf("with the index emptied, the scan for a = %q, %v; want Ada", names(p), err)
	}
}
