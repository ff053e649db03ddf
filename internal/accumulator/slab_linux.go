package accumulator

import (
	"os"
	"strings"
	"syscall"
	"unsafe"
)

// adviseHugeSupported is off when the program asked Go not to use huge pages
// (GODEBUG=disablethp=1, for memory-tight deployments): the producer follows that choice.
var adviseHugeSupported = !strings.Contains(","+os.Getenv("GODEBUG")+",", ",disablethp=1,")

// alignSkip returns how many bytes of b precede its first huge-page boundary.
func alignSkip(b []byte) int {
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return int((hugePage - p%hugePage) % hugePage)
}

// adviseHuge asks for transparent huge pages on b, which is huge-page aligned. It is
// advice: where THP is off or the kernel lacks it, ordinary pages remain.
func adviseHuge(b []byte) { _ = syscall.Madvise(b, syscall.MADV_HUGEPAGE) }
