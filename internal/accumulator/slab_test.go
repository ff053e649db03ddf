package accumulator

import (
	"bytes"
	"testing"
	"unsafe"
)

func addr(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

// checkDisjoint fills every buffer to its capacity with its own byte and checks that none
// moved and none overwrote another.
func checkDisjoint(t *testing.T, size int, bufs [][]byte) {
	t.Helper()
	at := make([]uintptr, len(bufs))
	for i, b := range bufs {
		if len(b) != 0 || cap(b) != size {
			t.Fatalf("buffer %d: len %d cap %d, want 0 and %d", i, len(b), cap(b), size)
		}
		at[i] = addr(b)
		bufs[i] = append(b, bytes.Repeat([]byte{byte(i)}, size)...)
	}
	for _, b := range bufs {
		_ = append(b, 0xEE) // past its capacity: must move, not write into the next buffer
	}
	for i, b := range bufs {
		if addr(b) != at[i] {
			t.Fatalf("buffer %d moved when filled to its capacity", i)
		}
		if n := bytes.Count(b, []byte{byte(i)}); n != size {
			t.Fatalf("buffer %d: %d of %d bytes still its own", i, n, size)
		}
	}
}

func TestSlabBuffersAreDisjoint(t *testing.T) {
	for _, c := range []struct {
		size  int
		limit int64
		n     int
	}{
		{1000000, 40 * 1000000, 40}, // the bench's batch.size: does not divide a slab
		{16 << 10, 32 << 20, 2048},  // Java's defaults
		{3000000, 7000000, 2},       // batch.size above a huge page, little buffer.memory
		{3000000, 40000000, 13},
		{10 << 20, 40 << 20, 4}, // batch.size above a slab
	} {
		var s slab
		var bufs [][]byte
		for range c.n {
			bufs = append(bufs, s.newBuf(c.size, c.limit))
		}
		checkDisjoint(t, c.size, bufs)
		if s.made != int64(c.n*c.size) {
			t.Fatalf("size %d: made = %d, want %d", c.size, s.made, c.n*c.size)
		}
	}
}

// TestSlabCarvesOnlyAfterStartAndWithinLimit: the first slabStart bytes are ordinary
// allocations; later buffers are consecutive in slabs of whole buffers that never exceed
// what is left of the limit.
func TestSlabCarvesOnlyAfterStartAndWithinLimit(t *testing.T) {
	if hugePage() == 0 {
		t.Skip("huge-page advice is off (no THP, or GODEBUG=disablethp=1): every buffer is an ordinary allocation")
	}
	const size = 1 << 20
	const limit = 7<<20 + 1 // 2 MiB plain, then one slab of the 5 MiB left
	var s slab
	var bufs [][]byte
	for range 7 {
		bufs = append(bufs, s.newBuf(size, limit))
	}
	for i := 3; i < 7; i++ {
		if addr(bufs[i]) != addr(bufs[i-1])+size {
			t.Errorf("buffer %d not carved right after buffer %d", i, i-1)
		}
	}
	if len(s.mem) != 0 {
		t.Errorf("%d bytes left in the slab, want it sized to the 5 whole buffers left under the limit", len(s.mem))
	}
	if got := s.newBuf(size, limit); s.made != 8<<20 || cap(got) != size {
		t.Errorf("a buffer past the limit: made %d, cap %d", s.made, cap(got))
	}
}
