//go:build !linux

package testenv

import "os/exec"

// runAs leaves cmd as it is: running as another user is Linux's here.
func runAs(cmd *exec.Cmd, asRoot bool) {}
