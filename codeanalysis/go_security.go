package codeanalysis

import (
	"fmt"
	"go/ast"
	"go/token"
	"path"
	"strconv"
	"strings"
)

// secretLit reports a string literal assigned to a sensitive name.
func (g *goFile) secretLit(name string, e ast.Expr) {
	lit, ok := unparen(e).(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING || name == "" {
		return
	}
	v, err := strconv.Unquote(lit.Value)
	if err != nil {
		return
	}
	secret, ok := hardcodedSecret(name, v)
	if !ok {
		return
	}
	g.rep.secrets = append(g.rep.secrets, secret)
	g.add(lit.Pos(), "secret-hardcoded", SeverityError, fmt.Sprintf(hardcodedMessage, name))
}

func (g *goFile) assignSecrets(n *ast.AssignStmt) {
	if len(n.Lhs) != len(n.Rhs) {
		return
	}
	for i, l := range n.Lhs {
		g.secretLit(exprName(l), n.Rhs[i])
	}
}

func (g *goFile) valueSpec(n *ast.ValueSpec) {
	for i, name := range n.Names {
		if i < len(n.Values) {
			g.secretLit(name.Name, n.Values[i])
		}
	}
}

func (g *goFile) compareSecret(n *ast.BinaryExpr) {
	if n.Op != token.EQL && n.Op != token.NEQ {
		return
	}
	g.secretLit(exprName(n.X), n.Y)
	g.secretLit(exprName(n.Y), n.X)
}

// keyValue checks struct fields and map entries: a secret in
// Config{Password: "..."} or map[string]string{"token": "..."}, and
// tls.Config{InsecureSkipVerify: true}.
func (g *goFile) keyValue(n *ast.KeyValueExpr) {
	name := ""
	switch k := unparen(n.Key).(type) {
	case *ast.Ident:
		name = k.Name
	case *ast.BasicLit:
		if k.Kind == token.STRING {
			name, _ = strconv.Unquote(k.Value)
		}
	}
	g.secretLit(name, n.Value)
	if name == "InsecureSkipVerify" && !isFalse(n.Value) {
		g.add(n.Pos(), "go-tls-insecure", SeverityError, "InsecureSkipVerify disables TLS certificate verification, so anyone on the path can impersonate the server; trust the right CA (RootCAs) instead")
	}
}

func (g *goFile) assignTLS(n *ast.AssignStmt) {
	if len(n.Lhs) != len(n.Rhs) {
		return
	}
	for i, l := range n.Lhs {
		if sel, ok := unparen(l).(*ast.SelectorExpr); ok && sel.Sel != nil && sel.Sel.Name == "InsecureSkipVerify" && !isFalse(n.Rhs[i]) {
			g.add(l.Pos(), "go-tls-insecure", SeverityError, "InsecureSkipVerify disables TLS certificate verification, so anyone on the path can impersonate the server; trust the right CA (RootCAs) instead")
		}
	}
}

func isFalse(e ast.Expr) bool {
	id, ok := unparen(e).(*ast.Ident)
	return ok && id.Name == "false"
}

// execCommand checks exec.Command and exec.CommandContext. A shell given a
// command line (sh -c) built by concatenation or fmt.Sprintf runs whatever
// the input says; a plain variable is a warning, since where it comes from
// is unknown. Without a shell, a built argument can still inject options.
func (g *goFile) execCommand(n *ast.CallExpr, fn string, c goCtx) {
	args := n.Args
	if fn == "CommandContext" {
		if len(args) == 0 {
			return
		}
		args = args[1:]
	}
	if len(args) == 0 {
		return
	}
	if prog, ok := g.constString(args[0]); ok && shells[prog] {
		for i := 1; i+1 < len(args); i++ {
			flag, ok := g.constString(args[i])
			if !ok || !shellFlags[flag] {
				continue
			}
			script := args[i+1]
			if _, ok := g.constString(script); ok {
				return
			}
			if how := g.dynamicHow(script, c); how != "" {
				g.add(script.Pos(), "go-command-injection", SeverityError,
					fmt.Sprintf("%s %s runs a command line built by %s; run the program directly with separate arguments, or pass values as positional parameters (sh -c 'cmd \"$1\"' sh value)", prog, flag, how))
				return
			}
			g.add(script.Pos(), "go-command-injection", SeverityWarning,
				fmt.Sprintf("%s %s runs the command line in %s; make sure no input reaches it, or run the program directly", prog, flag, shortExpr(script)))
			return
		}
	}
	for _, a := range args {
		if how := g.dynamicHow(a, c); how != "" && !g.literalStart(a) {
			g.add(a.Pos(), "go-command-injection", SeverityWarning,
				fmt.Sprintf("exec.%s argument built by %s and starting with a value: input starting with \"-\" becomes an option; put \"--\" before it or check it", fn, how))
			return
		}
	}
}

// literalStart reports whether a built argument starts with constant text
// ("--file=" + name): whatever follows cannot turn it into an option.
func (g *goFile) literalStart(e ast.Expr) bool {
	switch e := unparen(e).(type) {
	case *ast.BasicLit:
		s, _ := strconv.Unquote(e.Value)
		return s != ""
	case *ast.BinaryExpr:
		return g.literalStart(e.X)
	case *ast.CallExpr:
		if pkg, name := g.callee(e); pkg == "fmt" && name == "Sprintf" && len(e.Args) > 0 {
			if f, ok := g.constString(e.Args[0]); ok {
				return f != "" && f[0] != '%'
			}
		}
	}
	return false
}

// dynamicHow says how a string argument was built when that is by
// concatenation or fmt.Sprintf with non-constant parts, directly or through
// a variable of the enclosing function; "" otherwise.
func (g *goFile) dynamicHow(e ast.Expr, c goCtx) string {
	e = unparen(e)
	if id, ok := e.(*ast.Ident); ok {
		if c.fn == nil {
			return ""
		}
		if s, ok := c.fn.vars.strs[id.Name]; ok && s.dynamic {
			line, _ := g.pos(s.pos)
			return fmt.Sprintf("concatenation or fmt.Sprintf (%s, line %d)", id.Name, line)
		}
		return ""
	}
	switch e.(type) {
	case *ast.BinaryExpr, *ast.CallExpr:
		if _, dyn := g.strParts(e, 0); dyn && g.stringy(e) {
			return g.built(e)
		}
	}
	return ""
}

// goSQLMethods are the database/sql methods (and the same names in sqlx,
// pgx and friends) whose first argument, after any context, is a query.
var goSQLMethods = map[string]bool{
	"Query": true, "QueryContext": true, "QueryRow": true, "QueryRowContext": true,
	"Exec": true, "ExecContext": true, "Prepare": true, "PrepareContext": true,
	"Queryx": true, "QueryRowx": true, "Select": true, "Get": true,
}

func (g *goFile) sqlCall(n *ast.CallExpr, method string, c goCtx) {
	i := 0
	if strings.HasSuffix(method, "Context") {
		i = 1
	}
	if (method == "Select" || method == "Get") && len(n.Args) > 2 {
		i = 1 // sqlx: Select(dest, query, args...)
	}
	if len(n.Args) <= i {
		return
	}
	q := unparen(n.Args[i])
	if id, ok := q.(*ast.Ident); ok {
		if c.fn == nil {
			return
		}
		s, ok := c.fn.vars.strs[id.Name]
		if !ok || !s.dynamic || !sqlLike(s.text) {
			return
		}
		line, _ := g.pos(s.pos)
		g.add(n.Pos(), "go-sql-injection", SeverityError,
			fmt.Sprintf("SQL in %s, built by concatenation or fmt.Sprintf at line %d, is passed to %s; use placeholders (? or $1) and pass the values as arguments", id.Name, line, method))
		return
	}
	text, dyn := g.strParts(q, 0)
	if !dyn || !sqlLike(text) {
		return
	}
	g.add(n.Pos(), "go-sql-injection", SeverityError,
		fmt.Sprintf("SQL built by %s is passed to %s; use placeholders (? or $1) and pass the values as arguments", g.built(q), method))
}

// selector reports each use of a weak hash package.
func (g *goFile) selector(n *ast.SelectorExpr) {
	x, ok := n.X.(*ast.Ident)
	if !ok || n.Sel == nil {
		return
	}
	p, ok := g.imports[x.Name]
	if !ok {
		return
	}
	switch {
	case p == "crypto/md5" || p == "crypto/sha1":
		g.hashUses[p] = true
		g.add(n.Pos(), "go-weak-hash", SeverityWarning, weakHashMessage(path.Base(p)+"."+n.Sel.Name))
	case p == "crypto" && (n.Sel.Name == "MD5" || n.Sel.Name == "SHA1"):
		g.add(n.Pos(), "go-weak-hash", SeverityWarning, weakHashMessage("crypto."+n.Sel.Name))
	}
}

// weakHashImports reports a weak hash imported but not used by name (a
// blank import registering it, say), since uses are reported one by one.
func (g *goFile) weakHashImports() {
	for _, is := range g.file.Imports {
		if is == nil || is.Path == nil {
			continue
		}
		p, _ := strconv.Unquote(is.Path.Value)
		if (p == "crypto/md5" || p == "crypto/sha1") && !g.hashUses[p] {
			g.add(is.Pos(), "go-weak-hash", SeverityWarning, weakHashMessage(p))
		}
	}
}

// randWords make a name suggest that its value must be unpredictable.
var randWords = map[string]bool{
	"token": true, "secret": true, "password": true, "passwd": true, "nonce": true,
	"salt": true, "key": true, "apikey": true, "session": true, "otp": true,
	"csrf": true, "iv": true, "credential": true, "auth": true,
}

func unpredictable(name string) bool {
	for _, w := range nameWords(name) {
		if randWords[w] {
			return true
		}
	}
	return false
}

// mathRand notes math/rand feeding something that must be unpredictable:
// a function or variable named like a token, key or password.
func (g *goFile) mathRand(n *ast.CallExpr, c goCtx) {
	for _, name := range c.lhs {
		if unpredictable(name) {
			g.add(n.Pos(), "go-math-rand", SeverityInfo, fmt.Sprintf("math/rand is predictable, and %s looks like it must not be; use crypto/rand", name))
			return
		}
	}
	if c.fn != nil && unpredictable(c.fn.declName) {
		g.add(n.Pos(), "go-math-rand", SeverityInfo, fmt.Sprintf("math/rand is predictable, and %s looks like it makes something that must not be; use crypto/rand", c.fn.declName))
	}
}
