//go:build race

package main

// raceEnabled makes the binary under test carry the race detector too when
// the tests run with -race.
const raceEnabled = true
