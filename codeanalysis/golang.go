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
