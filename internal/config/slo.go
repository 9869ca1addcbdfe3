package config

import (
	"errors"
	"fmt"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/alert/promrules"
)

// SLO is the config file's slo section: service level objectives for tool
// calls, which "pbatunnel alerts export" writes as burn-rate alerts for
// Prometheus. Its zero value means both objectives at their defaults
// (promrules.DefaultSLO). docs/ALERTS.md explains them.
type SLO struct {
	// Window is the period the objectives hold over ("30d").
	Window     *Duration     `yaml:"window"`
	ErrorRatio ErrorRatioSLO `yaml:"error_ratio"`
	Latency    LatencySLO    `yaml:"latency"`
}

// ErrorRatioSLO is the objective for the share of tool calls that succeed.
type ErrorRatioSLO struct {
	Objective *float64 `yaml:"objective"` // such as 0.99
	Disabled  bool     `yaml:"disabled"`
}

// LatencySLO is the objective for the share of tool calls that take at
// most Threshold.
type LatencySLO struct {
	Objective *float64  `yaml:"objective"`
	Threshold *Duration `yaml:"threshold"` // a bucket bound of the duration histogram
	Disabled  bool      `yaml:"disabled"`
}

// Objectives returns the section as package promrules takes it, with the
// defaults for what it leaves out. The section must be valid (Load and
// File.Validate check it).
func (s *SLO) Objectives() *promrules.SLO {
	o := &promrules.SLO{}
	if s.Window != nil {
		o.Window = time.Duration(*s.Window)
	}
	if !s.ErrorRatio.Disabled {
		o.ErrorRatio = &promrules.ErrorRatio{}
		if v := s.ErrorRatio.Objective; v != nil {
			o.ErrorRatio.Objective = *v
		}
	}
	if l := s.Latency; !l.Disabled {
		o.Latency = &promrules.Latency{}
		if v := l.Objective; v != nil {
			o.Latency.Objective = *v
		}
		if v := l.Threshold; v != nil {
			o.Latency.Threshold = time.Duration(*v)
		}
	}
	return o
}

// validate reports every problem in the section, with keys under "slo.".
func (s *SLO) validate() []*FieldError {
	var errs []*FieldError
	add := func(key string, err error) {
		errs = append(errs, &FieldError{Key: "slo." + key, Err: err})
	}
	// An explicit zero would read as "the default" below.
	if s.Window != nil && *s.Window <= 0 {
		add("window", fmt.Errorf("must be positive, got %s", s.Window))
	}
	zeroObjective := errors.New("want a share of tool calls between 0 and 1 such as 0.99, got 0")
	if v := s.ErrorRatio.Objective; v != nil && *v == 0 {
		add("error_ratio.objective", zeroObjective)
	}
	if v := s.Latency.Objective; v != nil && *v == 0 {
		add("latency.objective", zeroObjective)
	}
	if v := s.Latency.Threshold; v != nil && *v <= 0 {
		add("latency.threshold", fmt.Errorf("must be positive, got %s", v))
	}
	if s.ErrorRatio.Disabled && s.ErrorRatio.Objective != nil {
		add("error_ratio.disabled", errors.New("a disabled objective has no objective; remove objective, or disabled"))
	}
	if l := s.Latency; l.Disabled && (l.Objective != nil || l.Threshold != nil) {
		add("latency.disabled", errors.New("a disabled objective has no objective or threshold; remove them, or disabled"))
	}
	if len(errs) > 0 {
		return errs
	}
	err := s.Objectives().Validate()
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		return nil
	}
	for _, e := range joined.Unwrap() {
		var se *promrules.SLOError
		if errors.As(e, &se) {
			add(se.Field, errors.New(se.Msg))
		} else {
			add("", e)
		}
	}
	return errs
}
