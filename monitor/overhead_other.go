//go:build !linux

package monitor

import (
	"errors"
	"time"
)

func threadCPU() (time.Duration, error) {
	return 0, errors.New("per-thread CPU time is measured on Linux only")
}
