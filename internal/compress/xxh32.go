package compress

import (
	"encoding/binary"
	"math/bits"
)

// XXH32 primes, from the xxHash specification.
const (
	xxhPrime1 uint32 = 2654435761
	xxhPrime2 uint32 = 2246822519
	xxhPrime3 uint32 = 3266489917
	xxhPrime4 uint32 = 668265263
	xxhPrime5 uint32 = 374761393
)

// xxh32 is XXH32 of b with seed 0, the hash the LZ4 frame format uses for
// its descriptor, block and content checksums. Only the LZ4 decoder's
// checks and the constant header of our own frames need it, so the
// one-shot form is enough (pierrec/lz4 keeps its copy internal).
func xxh32(b []byte) uint32 {
	n := len(b)
	var h uint32
	if n >= 16 {
		// The seed is 0; the sums wrap, as the specification intends.
		v1, v2, v3, v4 := xxhPrime1, xxhPrime2, uint32(0), uint32(0)
		v1 += xxhPrime2
		v4 -= xxhPrime1
		for len(b) >= 16 {
			v1 = xxhRound(v1, binary.LittleEndian.Uint32(b[0:]))
			v2 = xxhRound(v2, binary.LittleEndian.Uint32(b[4:]))
			v3 = xxhRound(v3, binary.LittleEndian.Uint32(b[8:]))
			v4 = xxhRound(v4, binary.LittleEndian.Uint32(b[12:]))
			b = b[16:]
		}
		h = bits.RotateLeft32(v1, 1) + bits.RotateLeft32(v2, 7) + bits.RotateLeft32(v3, 12) + bits.RotateLeft32(v4, 18)
	} else {
		h = xxhPrime5
	}
	h += uint32(n)
	for ; len(b) >= 4; b = b[4:] {
		h += binary.LittleEndian.Uint32(b) * xxhPrime3
		h = bits.RotateLeft32(h, 17) * xxhPrime4
	}
	for _, c := range b {
		h += uint32(c) * xxhPrime5
		h = bits.RotateLeft32(h, 11) * xxhPrime1
	}
	h ^= h >> 15
	h *= xxhPrime2
	h ^= h >> 13
	h *= xxhPrime3
	h ^= h >> 16
	return h
}

func xxhRound(acc, in uint32) uint32 {
	return bits.RotateLeft32(acc+in*xxhPrime2, 13) * xxhPrime1
}
