//go:build !linux

package accumulator

const hugePageSize = 0

func hugePagesAdvised() bool { return false }

func adviseHuge([]byte) {}
