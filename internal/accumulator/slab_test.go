package accumulator

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"
)

func addr(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b[:1]))) }

// TestSlabBuffersAreDisjoint fills every buffer to its capacity with its own byte and checks
// that no buffer overwrote another and that none can grow into its neighbour.
func TestSlabBuffersAreDisjoint(t *testing.T) {
	const size = 1000000 // the bench's batch.size: does not divide a huge page
	var s slab
	var bufs [][]byte
	for i := range 40 {
		b := s.newBuf(size, 40*size)
		if len(b) != 0 || cap(b) != size {
			t.Fatalf("buffer %d: len %d cap %d, want 0 and %d", i, len(b), cap(b), size)
		}
		bufs = append(bufs, append(b, bytes.Repeat([]byte{byte(i)}, size)...))
	}
	for i, b := range bufs {
		if &b[0] != &bufs[i][0] || cap(b) != size {
			t.Fatalf("buffer %d moved when filled to its capacity", i)
		}
		if n := bytes.Count(b, []byte{byte(i)}); n != size {
			t.Fatalf("buffer %d: %d of %d bytes still its own", i, n, size)
		}
	}
	if s.made != 40*size {
		t.Fatalf("made = %d, want %d", s.made, 40*size)
	}
}

// TestSlabCarvesOnlyAfterStartAndWithinLimit: the first slabStart bytes are ordinary
// allocations; later buffers are consecutive in huge-page aligned slabs that never exceed
// what is left of the limit.
func TestSlabCarvesOnlyAfterStartAndWithinLimit(t *testing.T) {
	if !adviseHugeSupported {
		t.Skip("huge-page advice is off (platform, or GODEBUG=disablethp=1): every buffer is an ordinary allocation")
	}
	const size = 1 << 20
	const limit = 7 << 20 // the first 2 MiB plain, then one 4 MiB slab, then 1 MiB plain
	var s slab
	var bufs [][]byte
	for range 7 {
		bufs = append(bufs, s.newBuf(size, limit))
	}
	if addr(bufs[2][:1])%hugePage != 0 {
		t.Errorf("first carved buffer at %#x, not on a huge-page boundary", addr(bufs[2][:1]))
	}
	for i := 3; i < 6; i++ {
		if addr(bufs[i][:1]) != addr(bufs[i-1][:1])+size {
			t.Errorf("buffer %d not carved right after buffer %d", i, i-1)
		}
	}
	if len(s.mem) != 4<<20 {
		t.Errorf("slab of %d bytes, want the 4 MiB of whole huge pages left under the limit", len(s.mem))
	}
	if addr(bufs[6][:1]) >= addr(s.mem[:1]) && addr(bufs[6][:1]) < addr(s.mem[:1])+uintptr(len(s.mem)) {
		t.Error("buffer past the slab carved from it")
	}
}

// TestSlabIsAdvisedHuge checks that the kernel recorded the advice: the slab's mapping
// carries VM_HUGEPAGE ("hg" in /proc/self/smaps). Whether huge pages then back it depends
// on the machine's free memory, so that is not asserted.
func TestSlabIsAdvisedHuge(t *testing.T) {
	if !adviseHugeSupported {
		t.Skip("huge-page advice is off (platform, or GODEBUG=disablethp=1)")
	}
	if mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil || strings.Contains(string(mode), "[never]") {
		t.Skipf("transparent huge pages are off here (%q, %v): the advice is refused", mode, err)
	}
	var s slab
	for s.made < slabStart {
		s.newBuf(1<<20, 64<<20)
	}
	b := s.newBuf(1<<20, 64<<20)
	flags, err := vmFlags(addr(b[:1]))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(" "+flags+" ", " hg ") {
		t.Fatalf("slab mapping's VmFlags %q lack hg (MADV_HUGEPAGE)", flags)
	}
}

// vmFlags returns the VmFlags line of the mapping in /proc/self/smaps that holds p.
func vmFlags(p uintptr) (string, error) {
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return "", err
	}
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && strings.Contains(f[0], "-") && !strings.Contains(f[0], ":") { // a mapping's header
			var lo, hi uintptr
			if _, err := fmt.Sscanf(f[0], "%x-%x", &lo, &hi); err != nil {
				return "", fmt.Errorf("smaps header %q: %v", line, err)
			}
			in = p >= lo && p < hi
			continue
		}
		if in && len(f) > 0 && f[0] == "VmFlags:" {
			return strings.Join(f[1:], " "), nil
		}
	}
	return "", fmt.Errorf("no mapping holds %#x", p)
}
