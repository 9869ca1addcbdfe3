//go:build race

package codeanalysis

// raceEnabled is set when the tests run with -race, whose instrumentation
// distorts timings.
const raceEnabled = true
