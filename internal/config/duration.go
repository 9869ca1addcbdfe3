package config

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written in a config file as a Go duration
// string ("30s", "5m", "1h30m"). A bare number is rejected rather than read
// as nanoseconds, because "interval: 30" almost always means 30 seconds.
type Duration time.Duration

// String formats d like time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML implements yaml.Unmarshaler. Its errors are
// *yaml.TypeError, which the yaml package collects and goes on decoding
// after; any other error would abandon the rest of the document, leaving
// later keys (a rule's levels, say) half-read and misreported.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return typeError("want a duration such as 30s or 5m")
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return typeError(fmt.Sprintf("invalid duration %q (want a duration such as 30s or 5m)", n.Value))
	}
	*d = Duration(v)
	return nil
}

func typeError(msg string) error { return &yaml.TypeError{Errors: []string{msg}} }

// MarshalYAML implements yaml.Marshaler so that a File written back out can
// be read again.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }
