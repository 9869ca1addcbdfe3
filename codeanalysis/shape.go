package codeanalysis

import "fmt"

// shapeFindings reports a function that is too complex, too long, too deeply
// nested or takes too many parameters.
func shapeFindings(r *fileReport, prefix string, f Function, nestLine int) {
	if f.Cyclomatic > cyclomaticWarning {
		sev := SeverityWarning
		if f.Cyclomatic > cyclomaticError {
			sev = SeverityError
		}
		r.add(f.Line, 0, prefix+"-cyclomatic", sev, fmt.Sprintf("%s has cyclomatic complexity %d (above %d); split it into smaller functions", f.Name, f.Cyclomatic, cyclomaticWarning))
	}
	if f.Lines > longFunction {
		r.add(f.Line, 0, prefix+"-long-function", SeverityWarning, fmt.Sprintf("%s is %d lines long (above %d)", f.Name, f.Lines, longFunction))
	}
	if f.MaxNesting > deepNesting {
		if nestLine == 0 {
			nestLine = f.Line
		}
		r.add(nestLine, 0, prefix+"-deep-nesting", SeverityWarning, fmt.Sprintf("%s nests control blocks %d deep (above %d); return early or extract functions", f.Name, f.MaxNesting, deepNesting))
	}
	if f.Params > manyParams {
		r.add(f.Line, 0, prefix+"-too-many-params", SeverityWarning, fmt.Sprintf("%s takes %d parameters (above %d); group them in a struct or object", f.Name, f.Params, manyParams))
	}
}
