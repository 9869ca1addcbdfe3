package codeanalysis

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestJSFunctionMetrics(t *testing.T) {
	code := src(
		"import fs from 'node:fs';",            // 1
		"import { a } from \"./a.js\";",        // 2
		"const b = require('b');",              // 3
		"import 'side-effect';",                // 4
		"",                                     // 5
		"function five(a, b, xs) {",            // 6
		"  // if for while in a comment",       // 7
		"  if (a > 0 && b > 0) { return 1; }",  // 8
		"  for (const x of xs) {",              // 9
		"    if (x > 2) return `if ${x} for`;", // 10
		"  }",                                  // 11
		"  return a ?? 0;",                     // 12
		"}",                                    // 13
		"class Shape extends Base {",           // 14
		"  constructor(w, h) { super(); this.w = w; }", // 15
		"  area() {",                               // 16
		"    switch (this.kind) {",                 // 17
		"      case 'sq': return this.w * this.w;", // 18
		"      case 'tri': return this.w / 2;",     // 19
		"      default: return 0;",                 // 20
		"    }",                                    // 21
		"  }",                                      // 22
		"  onClick = (e) => this.w > 1 ? 1 : 2;",   // 23
		"}",                                        // 24
		"const handler = async (req, res) => {",    // 25
		"  try {",                                  // 26
		"    await run(x => x * 2);",               // 27
		"  } catch (err) {",                        // 28
		"    res.status(500);",                     // 29
		"  }",                                      // 30
		"};",                                       // 31
		"const re = /[/]if(for)/g;",                // 32
		"export default function () { return 1 }", // 33
	)
	res := analyzeOne(t, "m.js", code, TypeComplexity)
	want := []Function{
		{File: "m.js", Name: "five", Line: 6, Cyclomatic: 6, Lines: 8, MaxNesting: 2, Params: 3},
		{File: "m.js", Name: "Shape.constructor", Line: 15, Cyclomatic: 1, Lines: 1, MaxNesting: 0, Params: 2},
		{File: "m.js", Name: "Shape.area", Line: 16, Cyclomatic: 3, Lines: 7, MaxNesting: 1, Params: 0},
		{File: "m.js", Name: "Shape.onClick", Line: 23, Cyclomatic: 2, Lines: 1, MaxNesting: 0, Params: 1},
		{File: "m.js", Name: "handler", Line: 25, Cyclomatic: 2, Lines: 7, MaxNesting: 1, Params: 2},
		{File: "m.js", Name: "<anonymous>", Line: 27, Cyclomatic: 1, Lines: 1, MaxNesting: 0, Params: 1},
		{File: "m.js", Name: "<anonymous>", Line: 33, Cyclomatic: 1, Lines: 1, MaxNesting: 0, Params: 0},
	}
	if diff := cmp.Diff(want, res.Functions); diff != "" {
		t.Errorf("functions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"./a.js", "b", "node:fs", "side-effect"}, res.Files[0].Imports); diff != "" {
		t.Errorf("imports (-want +got):\n%s", diff)
	}
}

func TestTypeScriptFunctions(t *testing.T) {
	code := src(
		"interface Repo { find(id: string): Promise<User>; }", // 1: a signature, no body
		"export class Store<T> implements Repo {",             // 2
		"  private cache?: Map<string, T>;",                   // 3
		"  async find(id: string, opts?: Opts): Promise<T> {", // 4
		"    return this.cache?.get(id) ?? load(id);",         // 5
		"  }", // 6
		"}",   // 7
		"const pick = <T,>(xs: T[], n: number): T[] => xs.slice(0, n);", // 8
		"function typed(this: Window, a: number): void {}",              // 9
		"class View {", // 10
		"  handle = (e: Event, n?: number): void => {", // 11
		"    if (e) { n ?? 1; }",                       // 12
		"  };",                                         // 13
		"  static of = (x): Foo.Bar => x;",             // 14
		"}",                                            // 15
	)
	res := analyzeOne(t, "m.ts", code, TypeComplexity)
	want := []Function{
		{File: "m.ts", Name: "Store.find", Line: 4, Cyclomatic: 2, Lines: 3, MaxNesting: 0, Params: 2},
		{File: "m.ts", Name: "pick", Line: 8, Cyclomatic: 1, Lines: 1, MaxNesting: 0, Params: 2},
		{File: "m.ts", Name: "typed", Line: 9, Cyclomatic: 1, Lines: 1, MaxNesting: 0, Params: 1},
		{File: "m.ts", Name: "View.handle", Line: 11, Cyclomatic: 3, Lines: 3, MaxNesting: 1, Params: 2},
		{File: "m.ts", Name: "View.of", Line: 14, Cyclomatic: 1, Lines: 1, MaxNesting: 0, Params: 1},
	}
	if diff := cmp.Diff(want, res.Functions); diff != "" {
		t.Errorf("functions (-want +got):\n%s", diff)
	}
	if res.Languages["typescript"] != 1 {
		t.Errorf("languages = %v", res.Languages)
	}
}

func TestJSRules(t *testing.T) {
	cases := []ruleCase{
		{"cyclomatic", "a.js", TypeComplexity, "js-cyclomatic", src(
			"function f(x) {",
			"  return x && x || x && x || x && x || x ?? x ? 1 : x && x || x;",
			"}",
			"const g = (x) => x && x;",
		), []int{1}},
		{"deep nesting", "a.js", TypePatterns, "js-deep-nesting", src(
			"function f(x) {",
			"  for (;;) {",
			"    while (x) {",
			"      try {",
			"        if (x) {",
			"          if (x) x();", // 6
			"        }",
			"      } catch (e) { throw e; }",
			"    }",
			"  }",
			"}",
			"function g(x) { if (x) { if (x) { if (x) { if (x) {} } } } }",
		), []int{6}},
		{"too many params", "a.ts", TypePatterns, "js-too-many-params", src(
			"function f(a, b, c, d, e, f) {}", // 1
			"const g = (a: number, b?: string, c = 1, d, e) => 0;",
			"class K { m(a, b, c, d, e, { f, g }) {} }", // 3
		), []int{1, 3}},
		{"empty catch", "a.js", TypePatterns, "js-empty-catch", src(
			"try { a(); } catch (e) {}", // 1
			"try { a(); } catch {",      // 2
			"}",
			"try { a(); } catch {",
			"  // storage may be disabled: nothing to do",
			"}",
			"try { a(); } catch (e) { log(e); }",
		), []int{1, 2}},
		{"todo", "a.js", TypePatterns, "todo-comment", src(
			"/* HACK: around a bug */",
			"const s = '// TODO not a comment';",
			"x(); // FIXME",
		), []int{1, 3}},
		{"shell injection", "a.js", TypeSecurity, "js-shell-injection", src(
			"const { exec, execSync } = require('child_process');",
			"function f(dir) {",
			"  exec('ls ' + dir);",         // 3
			"  execSync(`rm -rf ${dir}`);", // 4
			"  exec('ls -la');",
			"  const cmd = 'cat ' + dir;",
			"  exec(cmd, cb);", // 7
			"  /x/.exec(dir);",
			"}",
		), []int{3, 4, 7}},
		{"exec without child_process", "a.js", TypeSecurity, "js-shell-injection", src(
			"const m = re.exec('a' + b);",
		), []int{}},
		{"sql injection", "a.ts", TypeSecurity, "js-sql-injection", src(
			"async function f(db, id: string) {",
			"  await db.query(\"SELECT * FROM users WHERE id = '\" + id + \"'\");", // 2
			"  await db.execute(`DELETE FROM t WHERE id = ${id}`);",                // 3
			"  await db.query(sql`SELECT * FROM t WHERE id = ${id}`);",
			"  await db.query('SELECT * FROM t WHERE id = $1', [id]);",
			"  const q = `UPDATE t SET a = 1 WHERE id = ${id}`;",
			"  await prisma.$queryRawUnsafe(q);", // 7
			"  app.get(`/select/${id}/from`);",
			"}",
		), []int{2, 3, 7}},
		{"weak hash", "a.js", TypeSecurity, "js-weak-hash", src(
			"crypto.createHash('md5').update(x);", // 1
			"createHash(\"SHA1\");",               // 2
			"crypto.createHash('sha256');",
		), []int{1, 2}},
		{"eval", "a.js", TypeSecurity, "js-eval", src(
			"eval(code);",                    // 1
			"new Function('a', 'return a');", // 2
			"setTimeout('tick()', 10);",      // 3
			"setTimeout(tick, 10);",
			"vm.eval(x);",
		), []int{1, 2, 3}},
		{"string concat in loop", "a.js", TypePerformance, "js-string-concat-in-loop", src(
			"let s = '';",
			"let n = 0;",
			"for (const x of xs) {",
			"  s += x;", // 4
			"  n += 1;",
			"}",
			"while (n--) html += `<li>${n}</li>`;", // 7
			"s += 'done';",
		), []int{4, 7}},
		{"nested loops", "a.js", TypePerformance, "js-nested-loop-same-collection", src(
			"for (const a of items) {",
			"  for (const b of items) {}", // 2
			"  for (const c of other) {}",
			"}",
			"for (let i = 0; i < rows.length; i++) {",
			"  for (let j = 0; j < rows.length; j++) {}", // 6
			"}",
			"items.forEach(a => items.forEach(b => a + b));", // 8
		), []int{2, 6, 8}},
		{"sync fs", "a.js", TypePerformance, "js-sync-fs", src(
			"const data = fs.readFileSync(p);", // 1
			"if (existsSync(p)) {}",            // 2
			"await fs.promises.readFile(p);",
		), []int{1, 2}},
		{"await in loop", "a.js", TypePerformance, "js-await-in-loop", src(
			"async function f(urls) {",
			"  for (const u of urls) {",
			"    await fetch(u);", // 3
			"  }",
			"  for await (const chunk of stream) { await handle(chunk); }",
			"  await Promise.all(urls.map(async u => { await fetch(u); }));",
			"}",
		), []int{3}},
		{"hardcoded secret", "a.ts", TypeSecurity, "secret-hardcoded", src(
			"const config = {",
			"  password: 'hunter2-Xq9!vB7#kLm0',", // 2
			"  passwordLabel: 'Kx9-Password-Lbl',",
			"  \"client_secret\": \"Zm9vYmFyYmF6MTIz\",", // 4
			"};",
			"const token: string = \"aB3dE5fG7hJ9kL1m\";",          // 6
			"headers['Authorization'] = 'Bearer abcDEF123456xyz';", // 7
			"const apiKey = process.env.API_KEY;",
			"const secret = 'changeme';",
		), []int{2, 4, 6, 7}},
	}
	runRuleCases(t, cases)
}
