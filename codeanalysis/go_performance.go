package codeanalysis

import (
	"fmt"
	"go/ast"
	"go/token"
)

// deferInLoop reports defer inside a loop body: the deferred calls pile up
// until the function returns (open files, held locks). A closure called in
// the loop is the fix, so a defer inside one does not count.
func (g *goFile) deferInLoop(n *ast.DeferStmt, c goCtx) {
	if c.loops == 0 {
		return
	}
	line, _ := g.pos(c.loopPos)
	g.add(n.Pos(), "go-defer-in-loop", SeverityWarning,
		fmt.Sprintf("defer inside the loop at line %d runs only when the function returns, so the deferred calls pile up; move the loop body into a function", line))
}

// concatInLoop reports s += x (or s = s + x) on a string inside a loop: each
// step copies the whole string.
func (g *goFile) concatInLoop(n *ast.AssignStmt, c goCtx) {
	if c.loops == 0 || c.fn == nil || len(n.Lhs) != 1 || len(n.Rhs) != 1 {
		return
	}
	id, ok := n.Lhs[0].(*ast.Ident)
	if !ok {
		return
	}
	rhs := n.Rhs[0]
	switch n.Tok {
	case token.ADD_ASSIGN:
	case token.ASSIGN:
		b, ok := unparen(rhs).(*ast.BinaryExpr)
		if !ok || b.Op != token.ADD {
			return
		}
		if x, ok := unparen(b.X).(*ast.Ident); !ok || x.Name != id.Name {
			return
		}
	default:
		return
	}
	if !c.fn.vars.strings[id.Name] && !g.stringy(rhs) {
		return
	}
	// A string declared inside the loop starts afresh on every iteration:
	// building it with += copies nothing across iterations.
	if d, ok := c.fn.vars.declaredAt(id.Name, id.Pos()); ok && d > c.loopPos {
		return
	}
	g.add(id.Pos(), "go-string-concat-in-loop", SeverityWarning,
		fmt.Sprintf("string %s grown with += inside a loop is copied every time; use a strings.Builder", id.Name))
}

// regexpCompiles lists the regexp functions that compile a pattern.
var regexpCompiles = map[string]bool{"Compile": true, "MustCompile": true, "CompilePOSIX": true, "MustCompilePOSIX": true}

// collectCompiles finds, for each function of the file, the regexps it
// compiles from constant patterns, so that a call from a loop can be traced
// to them. Methods are keyed ".Name" since calls to them are matched by
// name alone.
func (g *goFile) collectCompiles() {
	for _, d := range g.file.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil || fd.Name == nil {
			continue
		}
		key := fd.Name.Name
		if fd.Recv != nil {
			key = "." + key
		}
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			if pkg, name := g.callee(call); pkg == "regexp" && regexpCompiles[name] {
				if _, ok := g.constString(call.Args[0]); ok {
					g.compiles[key] = append(g.compiles[key], call.Pos())
				}
			}
			return true
		})
	}
}

// regexpInLoop reports compiling a constant pattern inside a loop: the
// result is the same every time.
func (g *goFile) regexpInLoop(n *ast.CallExpr, c goCtx) {
	_, name := g.callee(n)
	if c.anyLoops == 0 || !regexpCompiles[name] || len(n.Args) == 0 || g.reportedCompile[n.Pos()] {
		return
	}
	if _, ok := g.constString(n.Args[0]); !ok {
		return
	}
	g.reportedCompile[n.Pos()] = true
	line, _ := g.pos(c.loopPos)
	where := fmt.Sprintf("inside the loop at line %d", line)
	if c.loops == 0 {
		where = fmt.Sprintf("in a closure inside the loop at line %d", line)
	}
	g.add(n.Pos(), "go-regexp-compile-in-loop", SeverityWarning,
		fmt.Sprintf("regexp.%s of a constant pattern %s compiles it on every iteration; compile it once in a package-level var", name, where))
}

// calledInLoop reports the constant regexps compiled by a function of this
// file that is called from a loop.
func (g *goFile) calledInLoop(n *ast.CallExpr, name string, c goCtx) {
	if c.anyLoops == 0 || name == "" {
		return
	}
	key := name
	switch f := unparen(n.Fun).(type) {
	case *ast.Ident:
	case *ast.SelectorExpr:
		if !g.isMethodCall(n) {
			return
		}
		key = "." + f.Sel.Name
	default:
		return
	}
	line, _ := g.pos(n.Pos())
	for _, p := range g.compiles[key] {
		if g.reportedCompile[p] {
			continue
		}
		g.reportedCompile[p] = true
		g.add(p, "go-regexp-compile-in-loop", SeverityWarning,
			fmt.Sprintf("regexp compiled on every call of %s, which is called in a loop (line %d); compile it once in a package-level var", name, line))
	}
}

// sprintfInLoop notes fmt.Sprintf in a loop: it allocates every time, which
// matters only in hot loops, hence info.
func (g *goFile) sprintfInLoop(n *ast.CallExpr, c goCtx) {
	if c.loops == 0 {
		return
	}
	g.add(n.Pos(), "go-sprintf-in-loop", SeverityInfo, "fmt.Sprintf inside a loop allocates on every iteration; in a hot loop use strconv or append to a []byte or strings.Builder")
}

// appendPrealloc notes a range loop whose body appends exactly once per
// iteration, unconditionally, to a slice declared empty without capacity:
// the final length is the loop's length, known in advance.
func (g *goFile) appendPrealloc(n *ast.RangeStmt, c goCtx) {
	if c.fn == nil || n.Body == nil {
		return
	}
	for _, st := range n.Body.List {
		as, ok := st.(*ast.AssignStmt)
		if !ok || as.Tok != token.ASSIGN || len(as.Lhs) != 1 || len(as.Rhs) != 1 {
			continue
		}
		v, ok := as.Lhs[0].(*ast.Ident)
		if !ok {
			continue
		}
		call, ok := as.Rhs[0].(*ast.CallExpr)
		if !ok || len(call.Args) != 2 || call.Ellipsis.IsValid() {
			continue
		}
		if f, ok := call.Fun.(*ast.Ident); !ok || f.Name != "append" {
			continue
		}
		if a0, ok := call.Args[0].(*ast.Ident); !ok || a0.Name != v.Name {
			continue
		}
		decl, ok := c.fn.vars.slices[v.Name]
		if !ok || decl >= n.Pos() || c.fn.vars.exits[n.Body] {
			continue
		}
		g.add(as.Pos(), "go-append-no-prealloc", SeverityInfo,
			fmt.Sprintf("%s grows by one append per iteration over %s, whose length is known; preallocate it with make(…, 0, len(%s))", v.Name, shortExpr(n.X), shortExpr(n.X)))
		return
	}
}

// exitingBlocks finds the blocks that hold a break, continue, goto or
// return of their own function, any number of levels down, in one pass: an
// exit marks its ancestors as it is left, up to the nearest closure.
func exitingBlocks(root ast.Node) map[*ast.BlockStmt]bool {
	exits := map[*ast.BlockStmt]bool{}
	type frame struct {
		n    ast.Node
		exit bool
	}
	var stack []frame
	ast.Inspect(root, func(n ast.Node) bool {
		if n == nil {
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if top.exit {
				if b, ok := top.n.(*ast.BlockStmt); ok {
					exits[b] = true
				}
				if _, lit := top.n.(*ast.FuncLit); !lit && len(stack) > 0 {
					stack[len(stack)-1].exit = true
				}
			}
			return true
		}
		f := frame{n: n}
		switch n.(type) {
		case *ast.BranchStmt, *ast.ReturnStmt:
			f.exit = true
		}
		stack = append(stack, f)
		return true
	})
	return exits
}
