//go:build !race

package codeanalysis

const raceEnabled = false
