package codeanalysis

import (
	"go/ast"
	"go/token"
	"strconv"
	"strings"
)

// goVars is what a function's assignments say about its variables.
type goVars struct {
	strings map[string]bool         // variables that hold strings
	slices  map[string]token.Pos    // slices declared empty, without capacity
	strs    map[string]goStr        // how string variables were built
	exits   map[*ast.BlockStmt]bool // blocks holding a break, continue, goto or return
	decls   map[string][]token.Pos  // where each name is declared, in source order
}

// declaredAt returns where the declaration of name in scope at p is, as
// far as names tell: the last one before p.
func (v *goVars) declaredAt(name string, p token.Pos) (token.Pos, bool) {
	ds := v.decls[name]
	for i := len(ds) - 1; i >= 0; i-- {
		if ds[i] < p {
			return ds[i], true
		}
	}
	return token.NoPos, false
}

type goStr struct {
	pos     token.Pos // where it became dynamic, or was first assigned
	text    string    // its literal parts
	dynamic bool
}

// collectVars gathers the facts of a declaration and its closures. Order is
// not followed: a variable once built dynamically stays so.
func (g *goFile) collectVars(root ast.Node) *goVars {
	v := &goVars{strings: map[string]bool{}, slices: map[string]token.Pos{}, strs: map[string]goStr{}, exits: exitingBlocks(root), decls: map[string][]token.Pos{}}
	declare := func(e ast.Expr) {
		if id, ok := e.(*ast.Ident); ok && id.Name != "_" {
			v.decls[id.Name] = append(v.decls[id.Name], id.Pos())
		}
	}
	ast.Inspect(root, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncType:
			if n.Params != nil {
				for _, f := range n.Params.List {
					str := false
					if id, ok := f.Type.(*ast.Ident); ok && id.Name == "string" {
						str = true
					}
					for _, name := range f.Names {
						declare(name)
						if str {
							v.strings[name.Name] = true
						}
					}
				}
			}
		case *ast.RangeStmt:
			if n.Tok == token.DEFINE {
				declare(n.Key)
				declare(n.Value)
			}
		case *ast.ValueSpec:
			for i, name := range n.Names {
				declare(name)
				if id, ok := n.Type.(*ast.Ident); ok && id.Name == "string" {
					v.strings[name.Name] = true
				}
				if i < len(n.Values) {
					g.trackString(v, name.Name, n.Values[i], false)
				} else if at, ok := n.Type.(*ast.ArrayType); ok && at.Len == nil && len(n.Values) == 0 {
					v.slices[name.Name] = name.Pos()
				}
			}
		case *ast.AssignStmt:
			if n.Tok == token.ADD_ASSIGN && len(n.Lhs) == 1 && len(n.Rhs) == 1 {
				if id, ok := n.Lhs[0].(*ast.Ident); ok {
					g.trackString(v, id.Name, n.Rhs[0], true)
				}
				return true
			}
			if n.Tok == token.DEFINE {
				for _, l := range n.Lhs {
					declare(l)
				}
			}
			if (n.Tok != token.DEFINE && n.Tok != token.ASSIGN) || len(n.Lhs) != len(n.Rhs) {
				return true
			}
			for i, l := range n.Lhs {
				id, ok := l.(*ast.Ident)
				if !ok || id.Name == "_" {
					continue
				}
				r := n.Rhs[i]
				g.trackString(v, id.Name, r, false)
				if emptySliceNoCap(r) {
					if n.Tok == token.DEFINE {
						v.slices[id.Name] = id.Pos()
					}
				} else if !isAppendTo(r, id.Name) {
					delete(v.slices, id.Name) // given a capacity, or replaced
				}
			}
		}
		return true
	})
	return v
}

// trackString records what an assignment (or an append, with add) to name
// builds.
func (g *goFile) trackString(v *goVars, name string, e ast.Expr, add bool) {
	if g.stringy(e) {
		v.strings[name] = true
	} else if !add {
		return
	}
	text, dyn := g.strParts(e, 0)
	old, seen := v.strs[name]
	if add {
		if _, ok := unparen(e).(*ast.Ident); ok {
			dyn = true
		}
		s := goStr{pos: old.pos, text: strings.TrimSpace(old.text + " " + text), dynamic: old.dynamic || dyn}
		if dyn && !old.dynamic {
			s.pos = e.Pos()
		}
		v.strs[name] = s
		return
	}
	if seen && old.dynamic && !dyn {
		return
	}
	v.strs[name] = goStr{pos: e.Pos(), text: text, dynamic: dyn}
}

// isAppendTo reports whether e is append(name, ...).
func isAppendTo(e ast.Expr, name string) bool {
	call, ok := unparen(e).(*ast.CallExpr)
	if !ok || len(call.Args) == 0 {
		return false
	}
	f, ok := call.Fun.(*ast.Ident)
	a0, ok2 := call.Args[0].(*ast.Ident)
	return ok && ok2 && f.Name == "append" && a0.Name == name
}

// emptySliceNoCap reports []T{} and make([]T, 0): empty, without capacity.
func emptySliceNoCap(e ast.Expr) bool {
	switch e := unparen(e).(type) {
	case *ast.CompositeLit:
		at, ok := e.Type.(*ast.ArrayType)
		return ok && at.Len == nil && len(e.Elts) == 0
	case *ast.CallExpr:
		if id, ok := e.Fun.(*ast.Ident); !ok || id.Name != "make" || len(e.Args) != 2 {
			return false
		}
		at, ok := e.Args[0].(*ast.ArrayType)
		lit, ok2 := e.Args[1].(*ast.BasicLit)
		return ok && at.Len == nil && ok2 && lit.Value == "0"
	}
	return false
}

// stringy reports whether an expression certainly builds a string.
func (g *goFile) stringy(e ast.Expr) bool {
	switch e := unparen(e).(type) {
	case *ast.BasicLit:
		return e.Kind == token.STRING
	case *ast.BinaryExpr:
		return e.Op == token.ADD && (g.stringy(e.X) || g.stringy(e.Y))
	case *ast.CallExpr:
		pkg, name := g.callee(e)
		switch pkg {
		case "fmt":
			return strings.HasPrefix(name, "Sprint")
		case "strings":
			return name == "Join" || name == "Repeat" || name == "ToUpper" || name == "ToLower" || name == "TrimSpace" || name == "Replace" || name == "ReplaceAll"
		case "strconv":
			return name == "Itoa" || name == "Quote" || strings.HasPrefix(name, "Format")
		case "":
			return name == "string" && isIdent(e.Fun)
		}
	}
	return false
}

// strParts returns the literal text of a string expression and whether
// non-constant parts are mixed in (a variable, a call, fmt.Sprintf with
// arguments).
func (g *goFile) strParts(e ast.Expr, depth int) (string, bool) {
	if depth > 64 {
		return "", true
	}
	switch e := unparen(e).(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			s, _ := strconv.Unquote(e.Value)
			return s, false
		}
		return "", false
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", true
		}
		l, ld := g.strParts(e.X, depth+1)
		r, rd := g.strParts(e.Y, depth+1)
		return l + " " + r, ld || rd
	case *ast.Ident:
		if v, ok := g.consts[e.Name]; ok {
			return v, false
		}
		return "", true
	case *ast.CallExpr:
		if pkg, name := g.callee(e); pkg == "fmt" && name == "Sprintf" && len(e.Args) > 0 {
			format, _ := g.strParts(e.Args[0], depth+1)
			return format, len(e.Args) > 1
		}
	}
	return "", true
}

// built describes how a dynamic string expression was built, for messages.
func (g *goFile) built(e ast.Expr) string {
	switch e := unparen(e).(type) {
	case *ast.BinaryExpr:
		return "concatenation"
	case *ast.CallExpr:
		if pkg, name := g.callee(e); pkg == "fmt" && name == "Sprintf" {
			return "fmt.Sprintf"
		}
	}
	return "a non-constant expression"
}

// constString returns the value of a constant string expression.
func (g *goFile) constString(e ast.Expr) (string, bool) {
	s, dyn := g.strParts(e, 0)
	if dyn {
		return "", false
	}
	return strings.TrimSpace(s), true
}

func (g *goFile) assign(n *ast.AssignStmt, c goCtx) {
	g.ignoredError(n)
	g.concatInLoop(n, c)
	g.assignSecrets(n)
	g.assignTLS(n)
}
