package codeanalysis

import (
	"go/ast"
	"go/token"
	"strconv"
	"strings"
)

// goFuncName names a declaration as a stack trace does: F, T.M or (*T).M.
func goFuncName(d *ast.FuncDecl) string {
	name := "_"
	if d.Name != nil {
		name = d.Name.Name
	}
	if d.Recv == nil || len(d.Recv.List) == 0 || d.Recv.List[0] == nil {
		return name
	}
	t := d.Recv.List[0].Type
	ptr := false
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			ptr, t = true, x.X
			continue
		case *ast.ParenExpr:
			t = x.X
			continue
		case *ast.IndexExpr:
			t = x.X
			continue
		case *ast.IndexListExpr:
			t = x.X
			continue
		}
		break
	}
	recv := "_"
	if id, ok := t.(*ast.Ident); ok {
		recv = id.Name
	}
	if ptr {
		return "(*" + recv + ")." + name
	}
	return recv + "." + name
}

func countParams(ft *ast.FuncType) int {
	if ft == nil || ft.Params == nil {
		return 0
	}
	n := 0
	for _, f := range ft.Params.List {
		if f != nil {
			n += max(1, len(f.Names))
		}
	}
	return n
}

// exprNames are the names assigned to: x, and the field of x.f.
func exprNames(exprs []ast.Expr) []string {
	var out []string
	for _, e := range exprs {
		if name := exprName(e); name != "" {
			out = append(out, name)
		}
	}
	return out
}

func exprName(e ast.Expr) string {
	switch e := unparen(e).(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		if e.Sel != nil {
			return e.Sel.Name
		}
	case *ast.IndexExpr:
		if lit, ok := e.Index.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			s, _ := strconv.Unquote(lit.Value)
			return s
		}
	}
	return ""
}

func unparen(e ast.Expr) ast.Expr {
	for {
		p, ok := e.(*ast.ParenExpr)
		if !ok || p.X == nil {
			return e
		}
		e = p.X
	}
}

// shortExpr renders a name or selector chain for a message; anything else
// becomes "…".
func shortExpr(e ast.Expr) string {
	switch e := unparen(e).(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		if e.Sel != nil {
			return shortExpr(e.X) + "." + e.Sel.Name
		}
	case *ast.CallExpr:
		return shortExpr(e.Fun) + "()"
	case *ast.IndexExpr:
		return shortExpr(e.X) + "[…]"
	case *ast.StarExpr:
		return "*" + shortExpr(e.X)
	}
	return "…"
}

// callee resolves a call of a package function: the import path and the
// function name. For any other call the path is "" and the name is the
// called identifier or method.
func (g *goFile) callee(call *ast.CallExpr) (pkg, name string) {
	switch f := unparen(call.Fun).(type) {
	case *ast.Ident:
		return "", f.Name
	case *ast.SelectorExpr:
		if f.Sel == nil {
			return "", ""
		}
		if x, ok := f.X.(*ast.Ident); ok {
			if p, ok := g.imports[x.Name]; ok {
				return p, f.Sel.Name
			}
		}
		return "", f.Sel.Name
	}
	return "", ""
}

// isMethodCall reports whether a call is x.m(...) on a value, not a package.
func (g *goFile) isMethodCall(call *ast.CallExpr) bool {
	sel, ok := unparen(call.Fun).(*ast.SelectorExpr)
	if !ok {
		return false
	}
	if x, ok := sel.X.(*ast.Ident); ok {
		_, isPkg := g.imports[x.Name]
		return !isPkg
	}
	return true
}

func (g *goFile) call(n *ast.CallExpr, c goCtx) {
	pkg, name := g.callee(n)
	switch {
	case pkg == "" && name == "panic" && isIdent(n.Fun):
		g.panicCall(n, c)
	case pkg == "regexp" && strings.Contains(name, "Compile"):
		g.regexpInLoop(n, c)
	case pkg == "fmt" && name == "Sprintf":
		g.sprintfInLoop(n, c)
	case pkg == "os/exec" && (name == "Command" || name == "CommandContext"):
		g.execCommand(n, name, c)
	case pkg == "math/rand" || pkg == "math/rand/v2":
		g.mathRand(n, c)
	case pkg == "" && goSQLMethods[name] && g.isMethodCall(n):
		g.sqlCall(n, name, c)
	}
	g.calledInLoop(n, name, c)
}

func isIdent(e ast.Expr) bool {
	_, ok := unparen(e).(*ast.Ident)
	return ok
}
