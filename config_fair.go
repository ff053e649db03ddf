package kprod

import (
	"strconv"

	"github.com/kprod-io/kprod/internal/config"
)

// checkPartitionMax resolves buffer.memory.partition.max, kprod's own (issue 15): 0 is no
// bound, Java's behaviour. A bound must let a partition's lone batch grow to batch.size,
// or a partition would send batches smaller than Java's; and above buffer.memory it could
// never bind. Properties found invalid on their own (invalid) take no part.
func checkPartitionMax(c *Config, s *config.Settings, invalid map[string]bool, errs []error) []error {
	n := c.BufferMemoryPartitionMax
	if n <= 0 || invalid["buffer.memory.partition.max"] {
		return errs // 0, or negative and reported by checkNumbers
	}
	reason := ""
	switch {
	case n < int64(s.BatchSize) && !invalid["batch.size"]:
		reason = "must be at least batch.size (" + strconv.Itoa(s.BatchSize) + ") so that a partition's batch can fill, or 0 for no bound"
	case n > s.BufferMemory && !invalid["buffer.memory"]:
		reason = "must be at most buffer.memory (" + strconv.FormatInt(s.BufferMemory, 10) + "), or 0 for no bound"
	default:
		s.BufferMemoryPartitionMax = n
		return errs
	}
	return append(errs, &ConfigError{Property: "buffer.memory.partition.max", Value: strconv.FormatInt(n, 10), Reason: reason})
}
