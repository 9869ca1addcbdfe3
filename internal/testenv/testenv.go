// Package testenv lets tests depend on external programs without silently
// passing when one is missing.
package testenv

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// TestCommand is the command that installs everything the tests need and
// runs them. Skip messages point to it.
const TestCommand = "bash scripts/test.sh"

// Require returns the path of program as found on PATH. When it is missing
// the test is skipped with a message that is hard to overlook, because a
// skipped test looks like a passing one in a summary; under CI (CI=true),
// where the test setup is expected to have installed it, the test fails
// instead.
func Require(t testing.TB, program string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err == nil {
		return path
	}
	if InCI() {
		t.Fatalf("%s not found on PATH, and CI=true forbids skipping: %s should have installed it (%v)",
			program, TestCommand, err)
	} else {
		t.Skipf("SKIPPING: %s not found on PATH; run %s to install it", program, TestCommand)
	}
	// Reached only with a testing.TB whose Skipf and Fatalf return.
	return ""
}

// InCI reports whether the CI environment variable is set to a true value.
func InCI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}
