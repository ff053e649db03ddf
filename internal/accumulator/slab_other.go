//go:build !linux

package accumulator

const adviseHugeSupported = false

func adviseHuge([]byte) {}
