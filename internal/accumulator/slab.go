package accumulator

import "unsafe"

// Batch buffers and completion lists come from slabs advised to use transparent huge
// pages. A producer that runs ahead of the network fills buffer.memory with batches, and
// the first write to each 4 KiB page is a page fault: about 2.5 µs each on the benchmark
// machine, where a fresh 32 MiB cost 20 ms of CPU, some 35 ns per record over the first
// million 100 B records. Advising huge pages (THP's "madvise" mode is the common default)
// makes that one fault per 2 MiB. Carving starts at a huge-page boundary; the untouched
// slack before it costs address space, not memory.
//
// The first slabStart bytes of a kind are ordinary allocations, so a producer that never
// holds much keeps a footprint in proportion to its batches (a huge page is 2 MiB of
// memory at its first touch).

const (
	hugePage  = 2 << 20
	slabMax   = 8 << 20 // bytes carved per slab, at most
	slabStart = hugePage
)

// slab hands out slices of T from one allocation. The zero value is ready; the caller
// serialises calls.
type slab[T any] struct {
	mem  []T // the carvable part of the current slab, from its first huge-page boundary
	off  int
	made int64 // bytes handed out so far
}

// take returns an empty slice of capacity n. limit is the most bytes the caller will ever
// hold of this kind: a slab is never larger than what is left of it.
func (s *slab[T]) take(n int, limit int64) []T {
	size := int64(n) * int64(unsafe.Sizeof(*new(T)))
	defer func() { s.made += size }()
	if s.off+n > len(s.mem) {
		bytes := min(slabMax, limit-s.made) / hugePage * hugePage
		if !adviseHugeSupported || s.made < slabStart || bytes < hugePage || size > bytes {
			return make([]T, 0, n)
		}
		s.mem, s.off = hugeSlab[T](bytes), 0
	}
	b := s.mem[s.off : s.off : s.off+n] // capacity capped: growing it cannot reach a neighbour
	s.off += n
	return b
}

// hugeSlab allocates bytes (whole huge pages) of T starting at a huge-page boundary and
// advises huge pages for them.
func hugeSlab[T any](bytes int64) []T {
	elem := int64(unsafe.Sizeof(*new(T)))
	raw := make([]T, (bytes+hugePage)/elem+1)
	base := unsafe.Pointer(unsafe.SliceData(raw))
	skip := (hugePage - int64(uintptr(base)%hugePage)) % hugePage // bytes before the boundary
	first := int((skip + elem - 1) / elem)                        // first element at or after it
	mem := raw[first : first+int(bytes/elem)]
	adviseHuge(unsafe.Slice((*byte)(unsafe.Add(base, skip)), bytes))
	return mem
}
