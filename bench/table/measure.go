package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
)

// A measure is one figure of the table: the median of its runs, with the
// range when there was more than one run, since on shared machines the
// spread says as much as the median.
type measure struct {
	median, lo, hi float64
	runs           int
	unit           string
}

// measureOf summarises the values of runs. It is an error to have none, or
// one that is not a finite number: a figure is measured or it is missing.
func measureOf(values []float64, unit string) (measure, error) {
	if len(values) == 0 {
		return measure{}, fmt.Errorf("no values in %s", unit)
	}
	for _, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return measure{}, fmt.Errorf("%v is not a figure in %s", v, unit)
		}
	}
	s := slices.Sorted(slices.Values(values))
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return measure{median: med, lo: s[0], hi: s[len(s)-1], runs: len(s), unit: unit}, nil
}

// scaled converts m to another unit, as ns/op to µs: figures read best
// with a few digits before the point.
func (m measure) scaled(factor float64, unit string) measure {
	m.median *= factor
	m.lo *= factor
	m.hi *= factor
	m.unit = unit
	return m
}

func (m measure) String() string {
	s := num(m.median) + " " + m.unit
	if m.runs > 1 {
		s += fmt.Sprintf(" (%s – %s, %d runs)", num(m.lo), num(m.hi), m.runs)
	}
	return s
}

// num prints v with about three significant digits, without an exponent.
func num(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case a == 0:
		return "0"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
