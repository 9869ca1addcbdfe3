package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written in a config file as a Go duration
// string ("30s", "5m", "1h30m"), to which days and weeks may be added
// ("30d", "1w", "1d12h"), as Prometheus writes the spans SLOs are given
// over. A bare number is rejected rather than read as nanoseconds, because
// "interval: 30" almost always means 30 seconds.
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
	v, err := parseDuration(n.Value)
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

// parseDuration is time.ParseDuration with whole days (d, 24h) and weeks
// (w, 7d) too: "30d", "1w", "1d12h".
func parseDuration(s string) (time.Duration, error) {
	var days, weeks int64
	var rest strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && (s[j] == '.' || s[j] >= '0' && s[j] <= '9') {
			j++
		}
		k := j
		for k < len(s) && s[k] != '.' && (s[k] < '0' || s[k] > '9') {
			k++
		}
		switch unit := s[j:k]; unit {
		case "d", "w":
			n, err := strconv.ParseInt(s[i:j], 10, 32)
			if err != nil {
				return 0, fmt.Errorf("days and weeks must be whole, got %q", s[i:k])
			}
			if unit == "d" {
				days += n
			} else {
				weeks += n
			}
		default:
			rest.WriteString(s[i:k])
		}
		i = k
	}
	hours := days*24 + weeks*7*24
	if hours > int64(1<<63-1)/int64(time.Hour) {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	d := time.Duration(hours) * time.Hour
	if rest.Len() == 0 {
		if d == 0 && s != "0d" && s != "0w" {
			return time.ParseDuration(s) // "" or "0": its error, or its zero
		}
		return d, nil
	}
	r, err := time.ParseDuration(rest.String())
	if err != nil {
		return 0, err
	}
	return d + r, nil
}
