//go:build !linux

package accumulator

var adviseHugeSupported = false

func alignSkip([]byte) int { return 0 }

func adviseHuge([]byte) {}
