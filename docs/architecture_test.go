// Package docs holds tests that keep the documentation true to the code.
package docs

import (
	"bufio"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/mcp-pba-tunnel/pbatunnel/"

// TestArchitectureNamesEveryPackage: the package table of ARCHITECTURE.md
// lists every package of the module, and none that is gone, and each
// row's "imports of ours" are the package's own imports within the module:
// the table is written by hand, and went stale before.
func TestArchitectureNamesEveryPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	actual := map[string][]string{} // package → its imports within the module
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		if pkg == "docs" {
			continue
		}
		var ours []string
		for _, imp := range fields[1:] {
			if rest, ok := strings.CutPrefix(imp, module); ok {
				ours = append(ours, rest)
			}
		}
		slices.Sort(ours)
		actual[pkg] = ours
	}

	listed := map[string][]string{}
	wildcards := map[string]bool{}
	for _, row := range tableRows(t) {
		names := backticked.FindAllStringSubmatch(row[0], -1)
		groups := strings.Split(row[2], ";")
		for i, m := range names {
			name := m[1]
			if prefix, ok := strings.CutSuffix(name, "/*"); ok {
				wildcards[prefix+"/"] = true
				continue
			}
			imports := strings.TrimSpace(groups[min(i, len(groups)-1)])
			listed[name] = parseImports(imports)
		}
	}

	for pkg, imports := range actual {
		want, ok := listed[pkg]
		if !ok {
			if !hasPrefixIn(pkg, wildcards) {
				t.Errorf("package %s is not in ARCHITECTURE.md's table", pkg)
			}
			continue
		}
		if want != nil && !slices.Equal(want, imports) {
			t.Errorf("ARCHITECTURE.md says %s imports %v; it imports %v", pkg, want, imports)
		}
	}
	for pkg := range listed {
		if _, ok := actual[pkg]; !ok {
			t.Errorf("ARCHITECTURE.md lists %s, which is not a package", pkg)
		}
	}
}

var backticked = regexp.MustCompile("`([^`]+)`")

// tableRows returns the cells of the package table's rows: package,
// what it holds, imports of ours.
func tableRows(t *testing.T) [][]string {
	f, err := os.Open("ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]string
	in := false
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "| package |"):
			in = true
		case in && strings.HasPrefix(line, "|---"):
		case in && strings.HasPrefix(line, "| `"):
			cells := strings.Split(strings.Trim(line, "|"), " | ")
			if len(cells) != 3 {
				t.Fatalf("a row of the package table without three cells: %s", line)
			}
			rows = append(rows, cells)
		case in:
			return rows
		}
	}
	if len(rows) == 0 {
		t.Fatal("no package table in ARCHITECTURE.md")
	}
	return rows
}

// parseImports reads an "imports of ours" cell: "none", "all" (nil: not
// checked), or names separated by commas, each perhaps followed by a
// note in parentheses.
func parseImports(cell string) []string {
	switch cell {
	case "none":
		return []string{}
	case "all":
		return nil
	}
	var names []string
	for _, part := range strings.Split(cell, ",") {
		name, _, _ := strings.Cut(strings.TrimSpace(part), " (")
		names = append(names, strings.TrimSpace(name))
	}
	slices.Sort(names)
	return names
}

func hasPrefixIn(pkg string, prefixes map[string]bool) bool {
	for p := range prefixes {
		if strings.HasPrefix(pkg, p) {
			return true
		}
	}
	return false
}
