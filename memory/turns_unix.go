//go:build unix

package memory

import (
	"fmt"
	"os"
	"syscall"
)

// openWriteTurns opens, creating them when missing, the lock files of the
// database at path.
func openWriteTurns(path string) (*writeTurns, error) {
	writer, err := os.OpenFile(path+"-writer", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening the writer lock: %w", err)
	}
	waiting, err := os.OpenFile(path+"-waiting", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("opening the waiting lock: %w", err)
	}
	return &writeTurns{writer: writer, waiting: waiting}, nil
}

// tryLock takes f's lock, exclusive or shared, without waiting. Only
// another holder makes it fail: a lock that cannot be taken at all (the
// store closing under a writer, say) must not hold a writer back, and
// SQLite's own lock still orders the writes.
func tryLock(f *os.File, exclusive bool) bool {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err != syscall.EINTR {
			return err != syscall.EWOULDBLOCK
		}
	}
}

func unlock(f *os.File) { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
