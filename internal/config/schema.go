package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// checkSchema walks the parsed document alongside the Go type of v and
// reports, for every key, whether it exists and whether its value decodes.
// The yaml package alone reports an unknown nested key as "field max_sample
// not found in type config.Retention" and a bad value by line only; walking
// ourselves lets every error carry the dotted key the user wrote. It records
// the line of each key in lines, for the errors validation finds later.
func checkSchema(root *yaml.Node, v any, lines map[string]int) []*FieldError {
	n := root
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		n = n.Content[0]
	}
	var errs []*FieldError
	walk(n, reflect.TypeOf(v), "", lines, &errs)
	return errs
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

func walk(n *yaml.Node, t reflect.Type, key string, lines map[string]int, errs *[]*FieldError) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.ShortTag() == "!!null" {
		return // an empty value leaves the field at its zero value
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	custom := reflect.PointerTo(t).Implements(unmarshalerType)
	switch {
	case !custom && t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := yamlFields(t)
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.ShortTag() == "!!merge" {
				walkMerge(val, t, key, lines, errs)
				continue
			}
			path := joinKey(key, k.Value)
			if prev, dup := seen[k.Value]; dup {
				*errs = append(*errs, &FieldError{Line: k.Line, Key: path,
					Err: fmt.Errorf("duplicate key (first set on line %d)", prev)})
				continue
			}
			seen[k.Value] = k.Line
			ft, ok := fields[k.Value]
			if !ok {
				*errs = append(*errs, &FieldError{Line: k.Line, Key: path, Err: ErrUnknownKey})
				continue
			}
			lines[path] = k.Line
			walk(val, ft, path, lines, errs)
		}
	case !custom && t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			path := fmt.Sprintf("%s[%d]", key, i)
			lines[path] = item.Line
			walk(item, t.Elem(), path, lines, errs)
		}
	case !custom && t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			path := joinKey(key, k.Value)
			// The yaml package rejects a repeated map key only when the
			// whole document is decoded, with a line but no key.
			if prev, dup := seen[k.Value]; dup {
				*errs = append(*errs, &FieldError{Line: k.Line, Key: path,
					Err: fmt.Errorf("duplicate key (first set on line %d)", prev)})
				continue
			}
			seen[k.Value] = k.Line
			lines[path] = k.Line
			walk(val, t.Elem(), path, lines, errs)
		}
	default:
		// A leaf, or a node whose shape does not fit the field: decode it
		// alone so that a failure is reported against this key.
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			*errs = append(*errs, &FieldError{Line: n.Line, Key: key, Err: plainYAMLError(err)})
		}
	}
}

// walkMerge checks the mapping(s) pulled in by a YAML merge key ("<<: *base")
// as if their keys were written in place.
func walkMerge(n *yaml.Node, t reflect.Type, key string, lines map[string]int, errs *[]*FieldError) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.SequenceNode {
		for _, item := range n.Content {
			walk(item, t, key, lines, errs)
		}
		return
	}
	walk(n, t, key, lines, errs)
}

// yamlFields maps the keys a struct accepts to their field types, following
// the yaml package's rules: the tag's name, else the lower-cased field name;
// "-" skips the field; ",inline" lifts an embedded struct's keys.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if inlineOpt(opts) {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range yamlFields(ft) {
					fields[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
	return fields
}

func inlineOpt(opts string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == "inline" {
			return true
		}
	}
	return false
}

func joinKey(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// plainYAMLError drops the "yaml: unmarshal errors:\n  line N:" framing from
// a type error, since FieldError already says where the value is.
func plainYAMLError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		if rest, ok := strings.CutPrefix(m, "line "); ok {
			if _, after, found := strings.Cut(rest, ": "); found {
				m = after
			}
		}
		msgs[i] = m
	}
	return errors.New(strings.Join(msgs, "; "))
}
