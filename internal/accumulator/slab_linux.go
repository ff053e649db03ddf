package accumulator

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

// hugePageSize is the kernel's transparent huge page size (2 MiB on x86-64; larger on
// some arm64 kernels), 0 when THP is absent.
var hugePageSize = func() int64 {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size")
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n <= 0 || n > slabMax/2 {
		return 0 // a slab could not hold two: not worth advising
	}
	return n
}()

var disableTHP = sync.OnceValue(func() bool { return godebugDisablesTHP(os.Getenv("GODEBUG")) })

// hugePagesAdvised reports whether slabs get huge-page advice: the kernel has THP and the
// program did not ask Go's runtime to keep off them with GODEBUG=disablethp=1. (A
// //go:debug directive or a go.mod godebug line is not visible here.)
func hugePagesAdvised() bool { return hugePageSize > 0 && !disableTHP() }

// godebugDisablesTHP reads GODEBUG as the runtime does: comma-separated, the last
// setting of a key wins.
func godebugDisablesTHP(godebug string) bool {
	off := false
	for _, kv := range strings.Split(godebug, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(kv), "disablethp="); ok {
			off = v == "1"
		}
	}
	return off
}

// adviseHuge asks for transparent huge pages on the whole huge pages inside b. It is
// advice: where THP is off ("never") ordinary pages remain.
func adviseHuge(b []byte) {
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo := (p + uintptr(hugePageSize) - 1) &^ (uintptr(hugePageSize) - 1)
	hi := (p + uintptr(len(b))) &^ (uintptr(hugePageSize) - 1)
	if hi <= lo {
		return
	}
	_ = syscall.Madvise(b[lo-p:hi-p], syscall.MADV_HUGEPAGE)
}
