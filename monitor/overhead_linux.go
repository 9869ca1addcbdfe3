package monitor

import (
	"fmt"
	"syscall"
	"time"
)

// rusageThread is RUSAGE_THREAD from <sys/resource.h>; the syscall package
// does not name it.
const rusageThread = 1

// threadCPU returns the CPU time (user+system) used so far by the calling OS
// thread. The sampler locks itself to its thread while it works, so the
// difference across a sample is exactly what sampling cost.
func threadCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
