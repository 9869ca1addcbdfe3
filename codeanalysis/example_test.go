package codeanalysis_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mcp-pba-tunnel/pbatunnel/codeanalysis"
)

func Example() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	code := `package shop

import "database/sql"

func Find(db *sql.DB, name string, limit int) error {
	if name == "" || limit <= 0 {
		return nil
	}
	for i := 0; i < limit; i++ {
		db.Query("SELECT * FROM items WHERE name = '" + name + "'")
	}
	return nil
}
`
	if err := os.WriteFile(filepath.Join(dir, "shop.go"), []byte(code), 0o644); err != nil {
		panic(err)
	}

	a, err := codeanalysis.New(codeanalysis.Options{Roots: []string{dir}})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	res, err := a.Analyze(ctx, codeanalysis.Request{Path: "shop.go", Type: codeanalysis.TypeComplexity})
	if err != nil {
		panic(err)
	}
	for _, f := range res.Functions {
		fmt.Printf("%s: cyclomatic %d, %d lines, nesting %d, %d params\n", f.Name, f.Cyclomatic, f.Lines, f.MaxNesting, f.Params)
	}

	res, err = a.Analyze(ctx, codeanalysis.Request{Path: "shop.go", Type: codeanalysis.TypeSecurity})
	if err != nil {
		panic(err)
	}
	for _, f := range res.Findings {
		fmt.Printf("%s:%d %s %s\n", f.File, f.Line, f.Severity, f.Rule)
	}

	_, err = a.Analyze(ctx, codeanalysis.Request{Path: "../../etc/passwd", Type: codeanalysis.TypeSecurity})
	fmt.Println(errors.Is(err, codeanalysis.ErrOutsideRoots))
	// Output:
	// Find: cyclomatic 4, 9 lines, nesting 1, 3 params
	// shop.go:10 error go-sql-injection
	// true
}

func ExampleRules() {
	for _, r := range codeanalysis.Rules() {
		if r.Type == codeanalysis.TypeComplexity {
			fmt.Println(r.ID, r.Languages)
		}
	}
	// Output:
	// go-cyclomatic [go]
	// js-cyclomatic [javascript typescript]
	// py-cyclomatic [python]
}
