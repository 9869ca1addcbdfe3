package loadgen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// Vars are what one call's arguments may depend on.
type Vars struct {
	// N counts the calls of the phase from 1, across workers.
	N int64
	// Worker is the caller's index, from 0.
	Worker int
	// Rand is the worker's own source, so workers never contend for one.
	Rand *rand.Rand
}

// Call is one tool call to make.
type Call struct {
	Tool string
	Args map[string]any
}

// A Workload decides each call. Next is called from every worker at once
// and must be safe for that.
type Workload interface {
	Name() string
	Next(v Vars) Call
}

// words are what {{word}} and the built-in workloads draw from: common
// enough that searches find stored sentences.
var words = [...]string{
	"alpha", "bridge", "cache", "delta", "engine", "forest", "garden", "harbor",
	"island", "jungle", "kernel", "ladder", "memory", "network", "ocean", "planet",
	"queue", "river", "signal", "tunnel", "update", "valley", "window", "yellow",
	"zephyr", "anchor", "battery", "circuit", "desert", "ember", "falcon", "glacier",
	"horizon", "insight", "journey", "lantern", "meadow", "nebula", "orbit", "pixel",
}

func randomWords(r *rand.Rand, k int) string {
	var b strings.Builder
	for i := range k {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[r.IntN(len(words))])
	}
	return b.String()
}

// ToolWorkload calls one tool with arguments rendered from a template.
type ToolWorkload struct {
	tool string
	args map[string]any
}

// NewToolWorkload parses argsJSON, a JSON object (empty means {}), whose
// string values may hold {{n}}, {{worker}}, {{word}} and {{words:K}}.
// Any other {{…}} is an error, so that a typo does not silently go out as
// text.
func NewToolWorkload(tool, argsJSON string) (*ToolWorkload, error) {
	if tool == "" {
		return nil, errors.New("empty tool name")
	}
	args := map[string]any{}
	if strings.TrimSpace(argsJSON) != "" {
		dec := json.NewDecoder(bytes.NewReader([]byte(argsJSON)))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("arguments: %w", err)
		}
		if dec.More() {
			return nil, errors.New("arguments: more than one JSON value")
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("arguments: want a JSON object, got %s", argsJSON)
		}
		args = m
	}
	compiled, err := compileValue(args)
	if err != nil {
		return nil, fmt.Errorf("arguments: %w", err)
	}
	return &ToolWorkload{tool: tool, args: compiled.(map[string]any)}, nil
}

func (w *ToolWorkload) Name() string { return "tool " + w.tool }

func (w *ToolWorkload) Next(v Vars) Call {
	return Call{Tool: w.tool, Args: render(w.args, v).(map[string]any)}
}

// compileValue replaces the strings holding placeholders with templates;
// values without any are kept and shared by every call.
func compileValue(v any) (any, error) {
	switch v := v.(type) {
	case string:
		t, err := parseTemplate(v)
		if err != nil {
			return nil, err
		}
		if t == nil {
			return v, nil
		}
		return t, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			c, err := compileValue(e)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			c, err := compileValue(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	return v, nil
}

// render copies the containers, since the SDK may still be encoding one
// call's arguments while another worker renders the next.
func render(v any, vars Vars) any {
	switch v := v.(type) {
	case *template:
		return v.render(vars)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = render(e, vars)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = render(e, vars)
		}
		return out
	}
	return v
}

type partKind int

const (
	literal partKind = iota
	counter
	worker
	wordList
)

type part struct {
	kind partKind
	text string // literal
	k    int    // wordList
}

type template struct{ parts []part }

// parseTemplate returns nil for a string without placeholders.
func parseTemplate(s string) (*template, error) {
	if !strings.Contains(s, "{{") {
		return nil, nil
	}
	t := &template{}
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("unclosed placeholder in %q", s)
		}
		if i > 0 {
			t.parts = append(t.parts, part{kind: literal, text: s[:i]})
		}
		p, err := parsePlaceholder(strings.TrimSpace(s[i+2 : i+j]))
		if err != nil {
			return nil, err
		}
		t.parts = append(t.parts, p)
		s = s[i+j+2:]
	}
	if s != "" {
		t.parts = append(t.parts, part{kind: literal, text: s})
	}
	return t, nil
}

// maxWords bounds {{words:K}}: a larger K is more likely a mistake than a
// wish for megabytes of arguments.
const maxWords = 10000

func parsePlaceholder(name string) (part, error) {
	switch name {
	case "n":
		return part{kind: counter}, nil
	case "worker":
		return part{kind: worker}, nil
	case "word":
		return part{kind: wordList, k: 1}, nil
	}
	if ks, ok := strings.CutPrefix(name, "words:"); ok {
		k, err := strconv.Atoi(ks)
		if err != nil || k < 1 || k > maxWords {
			return part{}, fmt.Errorf("{{%s}}: want words:K with K from 1 to %d", name, maxWords)
		}
		return part{kind: wordList, k: k}, nil
	}
	return part{}, fmt.Errorf("unknown placeholder {{%s}}: want n, worker, word or words:K", name)
}

func (t *template) render(v Vars) string {
	var b strings.Builder
	for _, p := range t.parts {
		switch p.kind {
		case literal:
			b.WriteString(p.text)
		case counter:
			b.WriteString(strconv.FormatInt(v.N, 10))
		case worker:
			b.WriteString(strconv.Itoa(v.Worker))
		case wordList:
			b.WriteString(randomWords(v.Rand, p.k))
		}
	}
	return b.String()
}

// memoryTool is pbatunnel's own memory tool, which the built-in workloads
// exercise.
const memoryTool = "enhanced_memory"

type builtin struct {
	name string
	next func(Vars) Call
}

func (b builtin) Name() string     { return b.name }
func (b builtin) Next(v Vars) Call { return b.next(v) }

func memoryStore(v Vars) Call {
	return Call{Tool: memoryTool, Args: map[string]any{
		"operation": "store",
		"content":   randomWords(v.Rand, 8+v.Rand.IntN(8)),
		"tags":      []string{"bench"},
	}}
}

func memorySearch(v Vars) Call {
	return Call{Tool: memoryTool, Args: map[string]any{"operation": "search", "query": randomWords(v.Rand, 2)}}
}

func memoryRetrieve(Vars) Call {
	return Call{Tool: memoryTool, Args: map[string]any{"operation": "retrieve", "limit": 10}}
}

var builtins = map[string]func(Vars) Call{
	"memory-store":  memoryStore,
	"memory-search": memorySearch,
	"memory-mixed": func(v Vars) Call {
		switch x := v.Rand.IntN(100); {
		case x < 70:
			return memorySearch(v)
		case x < 90:
			return memoryStore(v)
		default:
			return memoryRetrieve(v)
		}
	},
}

// Builtins lists the names Builtin accepts.
func Builtins() []string {
	names := make([]string, 0, len(builtins)+1)
	for n := range builtins {
		names = append(names, n)
	}
	names = append(names, "graph")
	slices.Sort(names)
	return names
}

// Builtin returns the named built-in workload; "graph" is
// GraphWorkload(DefaultGraphEntities).
func Builtin(name string) (Workload, error) {
	if name == "graph" {
		return GraphWorkload(DefaultGraphEntities)
	}
	next, ok := builtins[name]
	if !ok {
		return nil, fmt.Errorf("unknown workload %q: want one of %s", name, strings.Join(Builtins(), ", "))
	}
	return builtin{name: name, next: next}, nil
}
