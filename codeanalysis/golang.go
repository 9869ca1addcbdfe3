package codeanalysis

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"path"
	"strconv"
	"strings"
)

// maxParseErrors bounds the syntax errors reported for one Go file: past
// the first few, errors mostly echo each other.
const maxParseErrors = 5

// analyzeGo analyses a Go file from its syntax tree. A file with syntax
// errors is still analysed: the errors are reported as go-parse-error
// findings, and the rest comes from the tree the parser recovered, marked
// approximate.
func analyzeGo(path string, src []byte) *fileReport {
	rep := newFileReport(path, langGo, src)
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.ParseComments|parser.SkipObjectResolution|parser.AllErrors)
	if err != nil {
		rep.approximate = true
		rep.note = "syntax errors: the metrics and findings come from the parser's partial recovery"
		var list scanner.ErrorList
		if errors.As(err, &list) && len(list) > 0 {
			for i, e := range list {
				if i == maxParseErrors {
					rep.add(e.Pos.Line, e.Pos.Column, "go-parse-error", SeverityError, fmt.Sprintf("%d more syntax errors", len(list)-i))
					break
				}
				rep.add(e.Pos.Line, e.Pos.Column, "go-parse-error", SeverityError, "syntax error: "+e.Msg)
			}
		} else {
			rep.add(1, 0, "go-parse-error", SeverityError, "syntax error: "+err.Error())
		}
	}
	rep.scanSecretTokens()
	if f != nil {
		newGoFile(rep, fset, f).run()
	}
	rep.finish()
	return rep
}

// A goFile is the analysis state of one Go file.
type goFile struct {
	rep     *fileReport
	fset    *token.FileSet
	file    *ast.File
	imports map[string]string // local name → import path
	consts  map[string]string // constant name → its value when a string
	isTest  bool
	isMain  bool
	lits    int // closures outside any function, for naming

	compiles        map[string][]token.Pos // function key → constant regexp compilations in it
	reportedCompile map[token.Pos]bool
	hashUses        map[string]bool // weak hash import paths used
	errorLast       map[string]bool // function key → whether its last result is an error
	commentLines    map[int]bool    // lines where a comment starts
}

func newGoFile(rep *fileReport, fset *token.FileSet, f *ast.File) *goFile {
	g := &goFile{
		rep: rep, fset: fset, file: f,
		imports: map[string]string{}, consts: map[string]string{},
		isTest:          strings.HasSuffix(rep.path, "_test.go"),
		isMain:          f.Name != nil && f.Name.Name == "main",
		compiles:        map[string][]token.Pos{},
		reportedCompile: map[token.Pos]bool{},
		hashUses:        map[string]bool{},
	}
	for _, is := range f.Imports {
		if is == nil || is.Path == nil {
			continue
		}
		p, err := strconv.Unquote(is.Path.Value)
		if err != nil {
			continue
		}
		rep.imports = append(rep.imports, p)
		name := importName(p)
		if is.Name != nil {
			name = is.Name.Name
		}
		if name != "_" && name != "." {
			g.imports[name] = p
		}
	}
	return g
}

// importName is the name a package is imported under by default: the last
// element of its path, skipping a major version suffix.
func importName(p string) string {
	base := path.Base(p)
	if len(base) > 1 && base[0] == 'v' && strings.Trim(base[1:], "0123456789") == "" {
		if dir := path.Dir(p); dir != "." {
			base = path.Base(dir)
		}
	}
	return base
}

func (g *goFile) run() {
	g.collectConsts()
	g.collectCompiles()
	g.collectResults()
	g.collectCommentLines()
	for _, d := range g.file.Decls {
		g.visit(d, goCtx{})
	}
	for _, cg := range g.file.Comments {
		for _, c := range cg.List {
			line, col := g.pos(c.Pos())
			todoComments(g.rep, line, col, c.Text)
		}
	}
	g.weakHashImports()
}

func (g *goFile) collectCommentLines() {
	g.commentLines = map[int]bool{}
	for _, cg := range g.file.Comments {
		for _, c := range cg.List {
			line, _ := g.pos(c.Pos())
			g.commentLines[line] = true
		}
	}
}

func (g *goFile) pos(p token.Pos) (line, col int) {
	if !p.IsValid() {
		return 1, 0
	}
	pp := g.fset.Position(p)
	return pp.Line, pp.Column
}

func (g *goFile) add(p token.Pos, rule string, sev Severity, msg string) {
	line, col := g.pos(p)
	g.rep.add(line, col, rule, sev, msg)
}

// collectConsts records every constant of the file, so that "SELECT " +
// table with a constant table is not taken for dynamic SQL.
func (g *goFile) collectConsts() {
	ast.Inspect(g.file, func(n ast.Node) bool {
		d, ok := n.(*ast.GenDecl)
		if !ok || d.Tok != token.CONST {
			return true
		}
		for _, s := range d.Specs {
			vs, ok := s.(*ast.ValueSpec)
			if !ok {
				continue
			}
			for i, name := range vs.Names {
				v := ""
				if i < len(vs.Values) {
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						v, _ = strconv.Unquote(lit.Value)
					}
				}
				g.consts[name.Name] = v
			}
		}
		return true
	})
}

// A goFunc is a function being measured: a declaration or a closure.
type goFunc struct {
	name     string
	declName string // the enclosing declaration's name, for a closure
	isLit    bool
	lits     int // closures directly inside, for naming them
	pos, end token.Pos
	params   int
	decision int
	nest     int
	nestPos  token.Pos
	vars     *goVars
}

// goCtx is what the walk knows about the place of a node.
type goCtx struct {
	fn       *goFunc
	depth    int       // control blocks enclosing the node within fn
	loops    int       // loops enclosing the node within fn
	anyLoops int       // loops enclosing the node, enclosing functions included
	loopPos  token.Pos // the innermost loop
	lhs      []string  // names assigned, inside a right-hand side
}

// children calls f on each direct child of n.
func children(n ast.Node, f func(ast.Node)) {
	ast.Inspect(n, func(c ast.Node) bool {
		if c == n {
			return true
		}
		if c != nil {
			f(c)
		}
		return false
	})
}

func (g *goFile) visitBlock(b *ast.BlockStmt, c goCtx) {
	if b != nil {
		g.visit(b, c)
	}
}

func (g *goFile) decision(c goCtx) {
	if c.fn != nil {
		c.fn.decision++
	}
}

// enter returns the context inside a control block opened at p.
func (g *goFile) enter(c goCtx, p token.Pos) goCtx {
	c.depth++
	if c.fn != nil && c.depth > c.fn.nest {
		c.fn.nest, c.fn.nestPos = c.depth, p
	}
	return c
}

func (g *goFile) enterLoop(c goCtx, p token.Pos) goCtx {
	c = g.enter(c, p)
	c.loops++
	c.anyLoops++
	c.loopPos = p
	return c
}

func (g *goFile) visit(n ast.Node, c goCtx) {
	switch n := n.(type) {
	case nil:
		return
	case *ast.FuncDecl:
		g.funcDecl(n)
		return
	case *ast.FuncLit:
		g.funcLit(n, c)
		return
	case *ast.IfStmt:
		g.decision(c)
		g.visit(n.Init, c)
		g.visit(n.Cond, c)
		in := g.enter(c, n.If)
		g.visitBlock(n.Body, in)
		if elif, ok := n.Else.(*ast.IfStmt); ok {
			g.visit(elif, c) // else if: a sibling, not a level deeper
		} else {
			g.visit(n.Else, in)
		}
		return
	case *ast.ForStmt:
		g.decision(c)
		g.visit(n.Init, c)
		in := g.enterLoop(c, n.For)
		g.visit(n.Cond, in)
		g.visit(n.Post, in)
		g.visitBlock(n.Body, in)
		return
	case *ast.RangeStmt:
		g.decision(c)
		g.visit(n.Key, c)
		g.visit(n.Value, c)
		g.visit(n.X, c)
		g.appendPrealloc(n, c)
		g.visitBlock(n.Body, g.enterLoop(c, n.For))
		return
	case *ast.SwitchStmt:
		g.visit(n.Init, c)
		g.visit(n.Tag, c)
		g.visitBlock(n.Body, g.enter(c, n.Switch))
		return
	case *ast.TypeSwitchStmt:
		g.visit(n.Init, c)
		g.visit(n.Assign, c)
		g.visitBlock(n.Body, g.enter(c, n.Switch))
		return
	case *ast.SelectStmt:
		g.visitBlock(n.Body, g.enter(c, n.Select))
		return
	case *ast.CaseClause:
		if n.List != nil {
			g.decision(c)
		}
	case *ast.CommClause:
		if n.Comm != nil {
			g.decision(c)
		}
	case *ast.BinaryExpr:
		if n.Op == token.LAND || n.Op == token.LOR {
			g.decision(c)
		}
		g.compareSecret(n)
	case *ast.DeferStmt:
		g.deferInLoop(n, c)
	case *ast.AssignStmt:
		g.assign(n, c)
		for _, l := range n.Lhs {
			g.visit(l, c)
		}
		rc := c
		rc.lhs = exprNames(n.Lhs)
		for _, r := range n.Rhs {
			g.visit(r, rc)
		}
		return
	case *ast.ValueSpec:
		g.valueSpec(n)
		rc := c
		rc.lhs = nil
		for _, name := range n.Names {
			rc.lhs = append(rc.lhs, name.Name)
		}
		for _, v := range n.Values {
			g.visit(v, rc)
		}
		return
	case *ast.CallExpr:
		g.call(n, c)
	case *ast.SelectorExpr:
		g.selector(n)
	case *ast.KeyValueExpr:
		g.keyValue(n)
	}
	children(n, func(ch ast.Node) { g.visit(ch, c) })
}

func (g *goFile) funcDecl(d *ast.FuncDecl) {
	if d.Body == nil {
		return // implemented elsewhere (assembly): nothing to measure
	}
	fn := &goFunc{name: goFuncName(d), pos: d.Pos(), end: d.End(), params: countParams(d.Type)}
	fn.declName = fn.name
	if d.Name != nil {
		fn.declName = d.Name.Name
	}
	fn.vars = g.collectVars(d)
	g.visitBlock(d.Body, goCtx{fn: fn})
	g.finishFunc(fn)
}

// funcLit measures a closure as a function of its own, named the way the
// runtime names it: Outer.func1, and Outer.func1.1 for one inside it.
func (g *goFile) funcLit(l *ast.FuncLit, c goCtx) {
	fn := &goFunc{isLit: true, pos: l.Pos(), end: l.End(), params: countParams(l.Type)}
	if p := c.fn; p != nil {
		p.lits++
		if len(p.name) > 100 {
			// Closures nested hundreds deep: keep names short, so that
			// their total size stays linear.
			fn.name = fmt.Sprintf("%s….%d", p.name[:strings.LastIndexByte(p.name[:100], '.')+1], p.lits)
		} else if p.isLit {
			fn.name = fmt.Sprintf("%s.%d", p.name, p.lits)
		} else {
			fn.name = fmt.Sprintf("%s.func%d", p.name, p.lits)
		}
		fn.declName, fn.vars = p.declName, p.vars
	} else {
		g.lits++
		fn.name = fmt.Sprintf("glob..func%d", g.lits)
		fn.vars = g.collectVars(l)
	}
	g.visitBlock(l.Body, goCtx{fn: fn, anyLoops: c.anyLoops})
	g.finishFunc(fn)
}

func (g *goFile) finishFunc(fn *goFunc) {
	line, _ := g.pos(fn.pos)
	endLine, _ := g.pos(fn.end)
	f := Function{Name: fn.name, Line: line, Cyclomatic: 1 + fn.decision, Lines: endLine - line + 1, MaxNesting: fn.nest, Params: fn.params}
	g.rep.function(f)
	nestLine := 0
	if fn.nestPos.IsValid() {
		nestLine, _ = g.pos(fn.nestPos)
	}
	shapeFindings(g.rep, "go", f, nestLine)
}

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
