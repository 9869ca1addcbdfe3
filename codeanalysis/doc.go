// Package codeanalysis is the engine of the code_analysis tool: it analyses
// a file or a directory tree for complexity, code patterns, security
// problems or performance pitfalls, and returns a JSON-friendly [Result].
//
// # Languages
//
// Go is parsed with go/parser. Each function, method and closure gets its
// cyclomatic complexity (1 + if, for, range, non-default case and select
// clauses, && and ||), its length in lines, its deepest nesting of control
// blocks and its parameter count; each file its imports. Findings are exact
// within what syntax can tell: there is no type checking, so an "ignored
// error" is a call whose last result is assigned to _, not a value whose
// type is error.
//
// Python, JavaScript and TypeScript are analysed lexically: a scanner
// separates code from strings and comments, functions are found by their
// keywords (def; function, arrow functions and methods), their extent by
// indentation (Python) or brace matching (JavaScript), and complexity is the
// count of decision keywords and operators inside. These results are
// approximate, and the Result says so (Approximate and Notes).
//
// A decision point is counted in the innermost function that contains it:
// a Go closure is measured as a function of its own, named as the runtime
// names it (Outer.func1), and so is a nested def or a JavaScript callback.
//
// A Go file with syntax errors is not refused: its errors are reported as
// go-parse-error findings (with every analysis type), and the rest of its
// results come from the tree the parser recovered, marked approximate.
//
// The rules, their ids and their thresholds are listed by [Rules].
//
// # Safety
//
// An [Analyzer] only reads under its roots. A requested path is checked as
// written and again with its symbolic links resolved; files are then opened
// through [os.Root], so a link swapped in afterwards cannot lead out either.
// During a directory walk, links leading out of the roots and links to
// directories are skipped with a note. Files larger than
// Options.MaxFileBytes and binary files are refused when requested and
// skipped during walks; walks are bounded in files, depth and entries, and
// stop when their context is cancelled. Results are bounded too: at most
// Options.MaxFindings findings (the most severe kept) and
// Options.MaxFunctions functions. Snippets have secrets masked.
//
// Errors wrap [ErrOutsideRoots], [ErrNotFound], [ErrTooLarge], [ErrBinary]
// or [ErrBadRequest], with messages meant to be shown to the caller.
package codeanalysis
