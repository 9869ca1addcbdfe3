// Package metric holds the Reading: one measured number, or the reason it
// could not be measured. Every figure the monitor, its host collectors and
// its readers pass around is one, so that a value never stands in for one
// that was not measured.
package metric

import (
	"encoding/json"
	"fmt"
	"math"
)

// A Reading is one measured number, or the reason it could not be measured.
//
// The zero Reading is unavailable with no reason; use [Measured] and
// [Unavailable] to build one. A Reading never stands in for a value it does
// not have: an unreadable gauge is unavailable, not 0.
type Reading struct {
	Value  float64 // meaningful only when OK
	OK     bool    // the value was measured
	Reason string  // why the value is missing, when !OK
	// Idle marks a value missing because there was nothing to measure (no
	// calls in the window, only one sample so far), as opposed to a fault
	// such as a failing gauge. Alert rules stay quiet on idle values and
	// raise an informational alert on faulty ones.
	Idle bool
}

// Measured returns a valid Reading of v. NaN and ±Inf are not measurements
// and become unavailable.
func Measured(v float64) Reading {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Reading{Reason: fmt.Sprintf("not a finite number (%v)", v)}
	}
	return Reading{Value: v, OK: true}
}

// Unavailable returns a Reading that explains why there is no value.
func Unavailable(format string, args ...any) Reading {
	return Reading{Reason: fmt.Sprintf(format, args...)}
}

// NoData returns an idle unavailable Reading: nothing happened that could
// be measured.
func NoData(format string, args ...any) Reading {
	return Reading{Reason: fmt.Sprintf(format, args...), Idle: true}
}

// Ptr returns the value's address when it was measured, else nil, which
// encodes as JSON null.
func (r Reading) Ptr() *float64 {
	if !r.OK {
		return nil
	}
	v := r.Value
	return &v
}

// MarshalJSON encodes a measured Reading as its number and an unavailable
// one as {"unavailable": reason}, so a consumer can never mistake a missing
// value for a zero.
func (r Reading) MarshalJSON() ([]byte, error) {
	if r.OK {
		return json.Marshal(r.Value)
	}
	return json.Marshal(struct {
		Unavailable string `json:"unavailable"`
	}{r.Reason})
}

// UnmarshalJSON reads what MarshalJSON writes; null reads as unavailable.
func (r *Reading) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case float64:
		*r = Measured(x)
	case nil:
		*r = Unavailable("null")
	case map[string]any:
		why, _ := x["unavailable"].(string)
		*r = Unavailable("%s", why)
	default:
		return fmt.Errorf("reading: want a number or {\"unavailable\": reason}, got %s", b)
	}
	return nil
}

// String renders the value with two decimals, or "n/a (reason)".
func (r Reading) String() string {
	if r.OK {
		return fmt.Sprintf("%.2f", r.Value)
	}
	return "n/a (" + r.Reason + ")"
}

// Round rounds v to the given number of decimal places, for figures shown
// to people: the JSON report and the log.
func Round(v float64, places int) float64 {
	p := math.Pow10(places)
	return math.Round(v*p) / p
}
