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

// ignoredError reports a call whose last result, by convention its error,
// is assigned to _: "_ = f()" and "x, _ := f()". Without type information
// this cannot know that the result is an error; the convention is strong
// enough to be worth a warning. Printing to standard output is exempt.
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
