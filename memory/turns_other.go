//go:build !unix

package memory

import "os"

// openWriteTurns returns no turns: without flock, SQLite's lock alone
// orders the writers.
func openWriteTurns(string) (*writeTurns, error) { return nil, nil }

func tryLock(*os.File, bool) bool { return true }
func unlock(*os.File)             {}
