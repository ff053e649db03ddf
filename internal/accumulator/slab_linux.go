package accumulator

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

// hugePage returns the size of the huge pages slabs are advised to use: the kernel's
// transparent huge page size (2 MiB on x86-64, larger on some arm64 kernels), or 0 when
// the kernel has no THP, the size is too large for a slab to hold two, or the program
// asked Go's runtime to keep off huge pages with GODEBUG=disablethp=1 (a //go:debug
// directive or a go.mod godebug line is not visible here). Read once, at the first slab.
var hugePage = sync.OnceValue(func() int64 {
	if godebugDisablesTHP(os.Getenv("GODEBUG")) {
		return 0
	}
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size")
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n <= 0 || n > slabMax/2 {
		return 0
	}
	return n
})

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

// adviseHuge asks for transparent huge pages on the whole pages of size hp inside b. It
// is advice: where THP is off ("never") ordinary pages remain.
func adviseHuge(b []byte, hp int64) {
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo := (p + uintptr(hp) - 1) &^ (uintptr(hp) - 1)
	hi := (p + uintptr(len(b))) &^ (uintptr(hp) - 1)
	if hi <= lo {
		return
	}
	_ = syscall.Madvise(b[lo-p:hi-p], syscall.MADV_HUGEPAGE)
}
