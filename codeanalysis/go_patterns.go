package codeanalysis

import (
	"fmt"
	"go/ast"
	"go/token"
	"strings"
)

// builtins whose results are not errors: assigning them to _ is not
// ignoring an error.
var goBuiltins = map[string]bool{
	"len": true, "cap": true, "append": true, "copy": true, "string": true, "int": true,
	"int64": true, "float64": true, "byte": true, "rune": true, "min": true, "max": true,
	"new": true, "make": true, "complex": true, "real": true, "imag": true, "recover": true,
}

// nonErrorLast are standard library functions whose last result is not an
// error (a found flag, a size): dropping it ignores nothing.
var nonErrorLast = map[string]bool{
	"strings.Cut": true, "strings.CutPrefix": true, "strings.CutSuffix": true,
	"bytes.Cut": true, "bytes.CutPrefix": true, "bytes.CutSuffix": true,
	"os.LookupEnv": true, "syscall.Getenv": true, "runtime.Caller": true,
	"unicode/utf8.DecodeRune": true, "unicode/utf8.DecodeRuneInString": true,
	"unicode/utf8.DecodeLastRune": true, "unicode/utf8.DecodeLastRuneInString": true,
	"path.Split": true, "path/filepath.Split": true, "sort.Find": true,
	"slices.BinarySearch": true, "slices.BinarySearchFunc": true,
	"math.Modf": true, "math.Frexp": true,
}

// nonErrorMethods return a value and an ok flag by convention (sync.Map).
var nonErrorMethods = map[string]bool{"Load": true, "LoadOrStore": true, "LoadAndDelete": true}

// collectResults records, for the functions and methods declared in the
// file, whether their last result is an error; a name declared twice with
// different answers is left unknown.
func (g *goFile) collectResults() {
	g.errorLast = map[string]bool{}
	conflict := map[string]bool{}
	for _, d := range g.file.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Name == nil || fd.Type == nil {
			continue
		}
		key := fd.Name.Name
		if fd.Recv != nil {
			key = "." + key
		}
		isErr := false
		if r := fd.Type.Results; r != nil && len(r.List) > 0 {
			id, ok := r.List[len(r.List)-1].Type.(*ast.Ident)
			isErr = ok && id.Name == "error"
		}
		if old, seen := g.errorLast[key]; seen && old != isErr {
			conflict[key] = true
		}
		g.errorLast[key] = isErr
	}
	for k := range conflict {
		delete(g.errorLast, k)
	}
}

// ignoredError reports a call whose last result, by convention its error,
// is assigned to _: "_ = f()" and "x, _ := f()". Without type information
// the convention decides, except for functions declared in the file (whose
// results are read) and a few standard ones known to end in a flag.
// Printing to standard output is exempt, and so is a line with a comment:
// the message asks for one, saying why the error does not matter.
func (g *goFile) ignoredError(n *ast.AssignStmt) {
	if (n.Tok != token.ASSIGN && n.Tok != token.DEFINE) || len(n.Rhs) != 1 || len(n.Lhs) == 0 {
		return
	}
	call, ok := unparen(n.Rhs[0]).(*ast.CallExpr)
	if !ok {
		return
	}
	last, ok := n.Lhs[len(n.Lhs)-1].(*ast.Ident)
	if !ok || last.Name != "_" {
		return
	}
	pkg, name := g.callee(call)
	if pkg == "fmt" && (strings.HasPrefix(name, "Print") || strings.HasPrefix(name, "Fprint")) {
		return
	}
	if pkg == "" && isIdent(call.Fun) && goBuiltins[name] {
		return
	}
	if pkg != "" && nonErrorLast[pkg+"."+name] {
		return
	}
	if pkg == "" {
		key := name
		if g.isMethodCall(call) {
			key = "." + name
			if nonErrorMethods[name] {
				return
			}
		}
		if isErr, known := g.errorLast[key]; known && !isErr {
			return
		}
	}
	if line, _ := g.pos(n.Pos()); g.commentLines[line] {
		return
	}
	what := shortExpr(call.Fun)
	allBlank := true
	for _, l := range n.Lhs {
		if id, ok := l.(*ast.Ident); !ok || id.Name != "_" {
			allBlank = false
		}
	}
	msg := fmt.Sprintf("error from %s() ignored (its last result is assigned to _); handle it, or say in a comment why it cannot fail", what)
	if allBlank && len(n.Lhs) == 1 {
		msg = fmt.Sprintf("result of %s() discarded with _; if it is an error, handle it, or say in a comment why it cannot fail", what)
	}
	g.add(last.Pos(), "go-ignored-error", SeverityWarning, msg)
}

// panicCall reports panic in library code: a library should return errors
// and leave it to its caller to decide what is fatal. Package main, tests
// and Must functions (which promise to panic) are exempt.
func (g *goFile) panicCall(n *ast.CallExpr, c goCtx) {
	if g.isMain || g.isTest {
		return
	}
	if c.fn != nil && strings.HasPrefix(c.fn.declName, "Must") {
		return
	}
	where := ""
	if c.fn != nil {
		where = " in " + c.fn.name
	}
	g.add(n.Pos(), "go-panic", SeverityWarning, "panic"+where+" in library code; return an error instead (only Must functions should panic)")
}
