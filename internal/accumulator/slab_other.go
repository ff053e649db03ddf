//go:build !linux

package accumulator

const adviseHugeSupported = false

func alignSkip([]byte) int { return 0 }

func adviseHuge([]byte) {}
