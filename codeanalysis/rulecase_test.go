package codeanalysis

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A ruleCase analyses one file and expects one rule's findings on exactly
// the given lines.
type ruleCase struct {
	name string
	file string // its extension decides the language
	typ  string
	rule string
	code string
	want []int
}

func runRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := analyzeOne(t, c.file, c.code, c.typ)
			got := lines(only(res, c.rule))
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("%s lines (-want +got):\n%s\nall findings:%s", c.rule, diff, dump(res.Findings))
			}
			for _, f := range only(res, c.rule) {
				if f.File != c.file || f.Message == "" || f.Snippet == "" {
					t.Errorf("incomplete finding %+v", f)
				}
				if rt := ruleType(f.Rule); rt != c.typ && rt != typeAny {
					t.Errorf("finding of rule %s (type %s) in a %s analysis", f.Rule, rt, c.typ)
				}
			}
		})
	}
}
