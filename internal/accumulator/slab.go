package accumulator

import "sync"

// Batch buffers come from slabs advised to use transparent huge pages. A producer that
// runs ahead of the network fills buffer.memory with batches, and the first write to each
// 4 KiB page is a page fault: about 2.5 µs each on the benchmark machine, where a fresh
// 32 MiB cost 20 ms of CPU and a million 100 B records took 15-18k faults, some 40 ns per
// record. Advising huge pages (THP's "madvise" mode is the common default) makes that one
// fault per huge page in the slab's aligned middle.
//
// The first slabStart bytes of buffers are ordinary allocations, so a producer that never
// holds much keeps a footprint in proportion to its batches (a huge page is 2 MiB of
// memory at its first touch).
//
// The trade-off: the advice belongs to the address range, not to the slab. Once a closed
// producer's slabs are collected, the Go heap reuses those ranges (at most buffer.memory
// of them), and khugepaged may back them with huge pages again, so a process can keep up
// to the producer's peak buffer memory resident after Close. GODEBUG=disablethp=1 turns
// the advice off (see hugePage in slab_linux.go).

const (
	slabMax   = 8 << 20 // bytes per slab, at most
	slabStart = 2 << 20
)

// slab hands out buffers from shared allocations: the buffer pool's classes, of several
// sizes (a slab's tail too short for the size asked is left unused). The zero value is
// ready.
type slab struct {
	mu   sync.Mutex
	mem  []byte // the current slab's unused part
	made int64  // bytes of buffers handed out so far
}

// newBuf returns an empty buffer of capacity size. limit is buffer.memory: a slab holds
// no more than what is left of it, in whole buffers of this size. (Buffers the pool drops
// are made again, so made can pass limit; later buffers are then ordinary allocations.)
func (s *slab) newBuf(size int, limit int64) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.mem) < size {
		n := min(max(slabMax, int64(size)), limit-s.made) / int64(size) * int64(size)
		hp := hugePage()
		if hp == 0 || s.made < slabStart || n < 2*hp {
			s.made += int64(size)
			return make([]byte, 0, size)
		}
		// A fresh allocation of this size comes untouched from the OS and costs only
		// address space until written; the advice must come before the first write.
		s.mem = make([]byte, n)
		adviseHuge(s.mem, hp)
	}
	b := s.mem[:0:size] // capacity capped: growing it cannot reach a neighbour
	s.mem = s.mem[size:]
	s.made += int64(size)
	return b
}
