package accumulator

import "syscall"

const adviseHugeSupported = true

// adviseHuge asks for transparent huge pages on b, which is huge-page aligned. It is
// advice: where THP is off or the kernel lacks it, ordinary pages remain.
func adviseHuge(b []byte) { _ = syscall.Madvise(b, syscall.MADV_HUGEPAGE) }
