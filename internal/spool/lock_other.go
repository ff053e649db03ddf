//go:build !unix

package spool

import (
	"errors"
	"os"
)

// lockDir is not implemented where flock is missing: a spool without a lock that the
// kernel releases at process death could be opened by two producers.
func lockDir(string) (*os.File, error) {
	return nil, errors.New("spool: spool.dir needs flock, which this platform lacks")
}
