package accumulator

// Batch buffers come from slabs advised to use transparent huge pages. A producer that
// runs ahead of the network fills buffer.memory with batches, and the first write to each
// 4 KiB page is a page fault: about 2.5 µs each on the benchmark machine, where a fresh
// 32 MiB cost 20 ms of CPU, some 35 ns per record over the first million 100 B records.
// Advising huge pages (THP's "madvise" mode is the common default) makes that one fault
// per 2 MiB. Carving starts at a huge-page boundary; the untouched slack before it costs
// address space, not memory.
//
// The first slabStart bytes of buffers are ordinary allocations, so a producer that never
// holds much keeps a footprint in proportion to its batches (a huge page is 2 MiB of
// memory at its first touch).

const (
	hugePage  = 2 << 20
	slabMax   = 8 << 20 // bytes carved per slab, at most
	slabStart = hugePage
)

// slab hands out equal buffers from one allocation. The zero value is ready; the caller
// serialises calls.
type slab struct {
	mem  []byte // the carvable, huge-page aligned part of the current slab
	off  int
	made int64 // bytes of buffers handed out so far
}

// newBuf returns an empty buffer of capacity size. limit is the most bytes of buffers the
// caller will ever hold (buffer.memory): a slab is never larger than what is left of it.
func (s *slab) newBuf(size int, limit int64) []byte {
	defer func() { s.made += int64(size) }()
	if s.off+size > len(s.mem) {
		n := min(slabMax, limit-s.made)
		if !adviseHugeSupported || s.made < slabStart || n < hugePage || int64(size) > n {
			return make([]byte, 0, size)
		}
		n = n / hugePage * hugePage
		raw := make([]byte, int(n)+hugePage)
		skip := alignSkip(raw)
		s.mem, s.off = raw[skip:skip+int(n)], 0
		adviseHuge(s.mem)
	}
	b := s.mem[s.off : s.off : s.off+size] // capacity capped: growing it cannot reach a neighbour
	s.off += size
	return b
}
