package codeanalysis

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestWideWorkingDirectoryAllowsNothing starts analysers without roots in
// working directories a launcher may pick: the filesystem root, the home
// directory and above it allow nothing, saying so and naming the flag;
// a project directory, even under home, is allowed as before; roots given
// explicitly are always honoured.
func TestWideWorkingDirectoryAllowsNothing(t *testing.T) {
	base := writeTree(t, map[string]string{"home/ann/project/main.go": "package main\n"})
	home := filepath.Join(base, "home", "ann")
	project := filepath.Join(home, "project")
	link := filepath.Join(t.TempDir(), "home-link")
	mustLink(t, home, link)
	root := string(filepath.Separator)
	noHome := func() (string, error) { return "", errors.New("$HOME is not defined") }
	tests := []struct {
		name  string
		wd    string
		home  func() (string, error)
		roots []string
		want  string // in the refusal; "" means allowed
	}{
		{name: "filesystem root", wd: root, want: "the working directory " + root + " is the filesystem root"},
		{name: "filesystem root, no home", wd: root, home: noHome, want: "is the filesystem root"},
		{name: "home", wd: home, want: "is your home directory"},
		{name: "home through a link", wd: link, want: "is your home directory"},
		{name: "above home", wd: filepath.Join(base, "home"), want: "is above your home directory"},
		{name: "project under home", wd: project},
		{name: "home unknown", wd: home, home: noHome},
		{name: "home given explicitly", wd: root, roots: []string{home}},
		{name: "filesystem root given explicitly", wd: home, roots: []string{root}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Roots: tt.roots, getwd: func() (string, error) { return tt.wd, nil }, userHome: tt.home}
			if opts.userHome == nil {
				opts.userHome = func() (string, error) { return home, nil }
			}
			a, err := New(opts)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			// The project's file, by absolute path: allowed under every
			// root that contains it, refused when nothing is allowed.
			_, err = a.Analyze(context.Background(), Request{Path: filepath.Join(project, "main.go"), Type: "complexity"})
			if tt.want == "" {
				if err != nil || a.Refusal() != nil {
					t.Errorf("Analyze: %v (refusal %v), want it allowed", err, a.Refusal())
				}
				if len(a.Roots()) == 0 {
					t.Error("no roots, want some")
				}
				return
			}
			if !errors.Is(err, ErrNoRoots) || !errors.Is(a.Refusal(), ErrNoRoots) {
				t.Fatalf("Analyze: %v (refusal %v), want ErrNoRoots", err, a.Refusal())
			}
			for _, part := range []string{tt.want, "--allow-root"} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q lacks %q", err, part)
				}
			}
			if got := a.Roots(); len(got) != 0 {
				t.Errorf("roots %q, want none", got)
			}
		})
	}
}
