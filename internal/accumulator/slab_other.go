//go:build !linux

package accumulator

// hugePage is 0: huge-page advice is Linux's madvise(MADV_HUGEPAGE).
func hugePage() int64 { return 0 }

func adviseHuge([]byte, int64) {}
