package compress

import (
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
)

// lz4Fast is a greedy LZ4 block compressor in the manner of
// LZ4_compress_default: a hash table holding the last position seen for
// each hash, one candidate per position probed, the first match taken and
// extended, and ever longer steps through data that does not match.
// It differs where that measured faster on JSON records at about the
// same ratio (BenchmarkLZ4BlockFast): it hashes 6 bytes into 64Ki entries,
// not 4 or 5 into 4-8Ki; it probes two of every three positions, both from
// one 8-byte load; and it records no positions inside matches.
//
// Block format: https://github.com/lz4/lz4/blob/dev/doc/lz4_Block_format.md
// A sequence is a token (literal length << 4 | match length - 4, each 15
// meaning "more in bytes of 255 and a final byte < 255"), the literals, a
// 2-byte little-endian offset (1..65535) and the match length bytes. The
// last sequence is literals only: the last 5 bytes are always literals and
// the last match starts at least 12 bytes before the end.
//
// The table holds positions as base+index. Each call moves base past the
// previous block plus a whole window, so entries left from earlier blocks
// fail the same offset check that bounds the window, and the table need
// not be cleared per block. Not safe for concurrent use.
type lz4Fast struct {
	base  uint32
	table [1 << lz4FastHashLog]uint32
}

const (
	lz4MinMatch     = 4
	lz4MFLimit      = 12 // a match starts at least 12 bytes before the end
	lz4LastLiterals = 5  // and ends at least 5 bytes before it
	lz4MaxOffset    = 65535
	lz4FastHashLog  = 16
	// lz4SkipLog: the search steps a byte further for every
	// 1<<lz4SkipLog bytes since the last match, so that incompressible
	// data is crossed quickly.
	lz4SkipLog = 6
	// lz4FastMaxInput keeps base+index and its increments within uint32.
	lz4FastMaxInput = 1 << 30
)

var errLZ4FastTooLarge = errors.New("lz4: block too large")

// lz4FastHash hashes the low 6 bytes of u. Hashing more than the 4 bytes a
// match needs keeps a table entry from being taken over by short repeats
// (on ~1 KiB JSON records, 8% smaller output than hashing 5). The
// multiplier is zstd's 6-byte hash prime.
func lz4FastHash(u uint64) uint32 {
	return uint32((u << 16) * 227718039650203 >> (64 - lz4FastHashLog))
}

// b[i:i+8] rather than b[i:] spares the pointer masking of a slice that
// may be empty; CompressBlock sets cap = len so the checks stay exact.
func lz4Load64(b []byte, i int) uint64 { return binary.LittleEndian.Uint64(b[i : i+8]) }
func lz4Load32(b []byte, i int) uint32 { return binary.LittleEndian.Uint32(b[i : i+4]) }

// CompressBlock writes src as one LZ4 block to dst and returns its length,
// or 0 when it does not fit in dst (the caller then stores src raw). It
// may scribble on dst past the returned length, never past len(dst).
func (c *lz4Fast) CompressBlock(src, dst []byte) (int, error) {
	n := len(src)
	// Bounds checks on reslicing test capacities: make them the lengths.
	src, dst = src[:n:n], dst[:len(dst):len(dst)]
	if n > lz4FastMaxInput {
		return 0, errLZ4FastTooLarge
	}
	if c.base == 0 || uint64(c.base)+uint64(n)+lz4MaxOffset+1 > math.MaxUint32 {
		// On first use, or rarely (every 2^32 bytes of windows) when base
		// would overflow: start from a zeroed table and a base a window
		// up, so that zeroed entries are out of range too and the output
		// depends on src alone.
		if c.base != 0 {
			c.table = [1 << lz4FastHashLog]uint32{}
		}
		c.base = lz4MaxOffset + 1
	}
	base := c.base
	c.base = base + uint32(n) + lz4MaxOffset + 1

	di, anchor := 0, 0
	if n > lz4MFLimit { // shorter blocks are all literals
		di, anchor = c.sequences(src, dst, base)
		if di < 0 {
			return 0, nil
		}
	}
	lit := n - anchor
	if di+1+lit+lz4ExtraLen(lit) > len(dst) {
		return 0, nil
	}
	if lit >= 15 {
		dst[di] = 15 << 4
		di = lz4PutLen(dst, di+1, lit-15)
	} else {
		dst[di] = byte(lit << 4)
		di++
	}
	di += copy(dst[di:], src[anchor:])
	return di, nil
}

// sequences writes the block's sequences up to its last literals to dst
// and returns their length, or -1 if dst is too short, and where the last
// literals start. It is apart from CompressBlock, and reads its limits from
// len(src) rather than variables, so that fewer values are live across the
// search loop; inlined, the compiler reloaded seven of them from the stack
// on every iteration.
func (c *lz4Fast) sequences(src, dst []byte, base uint32) (di, anchor int) {
	t := &c.table
	s := 0
	for {
		// Probe s and s+1 from one load, then step on by 3 or more: a match
		// starting at the skipped position is mostly found one byte in
		// and extended back.
		var cand int
		for {
			// A match starts at most 12 bytes before the end.
			if s+1 > len(src)-lz4MFLimit {
				return di, anchor
			}
			u := lz4Load64(src, s)
			cur := base + uint32(s)
			h0, h1 := lz4FastHash(u), lz4FastHash(u>>8)
			v0 := t[h0]
			t[h0] = cur
			v1 := t[h1]
			t[h1] = cur + 1
			// cur-v in 1..65535: a position of this block, in range.
			if cur-v0-1 < lz4MaxOffset && lz4Load32(src, int(v0-base)) == uint32(u) {
				cand = int(v0 - base)
				break
			}
			if cur-v1 < lz4MaxOffset && lz4Load32(src, int(v1-base)) == uint32(u>>8) {
				cand = int(v1 - base)
				s++
				break
			}
			s += 3 + (s-anchor)>>lz4SkipLog
		}
		// Extend backwards over pending literals, then forwards.
		for s > anchor && cand > 0 && src[s-1] == src[cand-1] {
			s--
			cand--
		}
		// ml counts the match bytes past the first 4, as the token does.
		// Most matches end within 8 of those.
		var ml int
		if x := lz4Load64(src, s+lz4MinMatch) ^ lz4Load64(src, cand+lz4MinMatch); x != 0 {
			ml = bits.TrailingZeros64(x) >> 3
		} else {
			ml = 8 + lz4MatchLen(src, cand+lz4MinMatch+8, s+lz4MinMatch+8, len(src)-lz4LastLiterals)
		}
		// The last 5 bytes are literals.
		ml = min(ml, len(src)-lz4LastLiterals-s-lz4MinMatch)
		lit := s - anchor
		if lit < 15 && ml < 15+255 && di+20 <= len(dst) && anchor+16 <= len(src) {
			// Common case: few literals, copied 16 bytes at a time
			// (spare bytes are overwritten or left past the end).
			d := dst[di : di+20]
			binary.LittleEndian.PutUint64(d[1:9], lz4Load64(src, anchor))
			binary.LittleEndian.PutUint64(d[9:17], lz4Load64(src, anchor+8))
			// Branch-free: offset, then a match length byte that is
			// harmless when the match is short.
			binary.LittleEndian.PutUint32(d[lit+1:], uint32(s-cand)|uint32(ml-15)<<16)
			d[0] = byte(lit<<4 | min(ml, 15))
			di += lit + 3
			if ml >= 15 {
				di++
			}
		} else {
			w := lz4PutSeq(dst[di:], src[anchor:s], s-cand, ml)
			if w < 0 {
				return -1, 0
			}
			di += w
		}
		s += ml + lz4MinMatch
		anchor = s
		// Unlike LZ4, record no position inside the match: on JSON
		// records that gains 0.1% in size for 4% more time.
	}
}

// lz4MatchLen returns how many bytes at a equal those at b, a < b, not
// reading at or past limit from b.
func lz4MatchLen(src []byte, a, b, limit int) int {
	n := 0
	for b+n+8 <= limit {
		if x := lz4Load64(src, a+n) ^ lz4Load64(src, b+n); x != 0 {
			return n + bits.TrailingZeros64(x)>>3
		}
		n += 8
	}
	for b+n < limit && src[a+n] == src[b+n] {
		n++
	}
	return n
}

// lz4PutSeq writes one sequence, lits then a match of ml+4 bytes at off,
// to the start of dst and returns its length, or -1 if dst is too short.
// Out of line, it keeps the search loop's registers free.
//
//go:noinline
func lz4PutSeq(dst, lits []byte, off, ml int) int {
	lit := len(lits)
	n := 3 + lit + lz4ExtraLen(lit) + lz4ExtraLen(ml)
	if n > len(dst) {
		return -1
	}
	di := 1
	tok := byte(lit << 4)
	if lit >= 15 {
		tok = 15 << 4
		di = lz4PutLen(dst, di, lit-15)
	}
	di += copy(dst[di:], lits)
	dst[di] = byte(off)
	dst[di+1] = byte(off >> 8)
	di += 2
	if ml >= 15 {
		tok |= 15
		di = lz4PutLen(dst, di, ml-15)
	} else {
		tok |= byte(ml)
	}
	dst[0] = tok
	return n
}

// lz4ExtraLen is how many bytes past the token length l takes.
func lz4ExtraLen(l int) int {
	if l < 15 {
		return 0
	}
	return (l-15)/255 + 1
}

// lz4PutLen writes the extra length bytes for l (the part past 15).
func lz4PutLen(dst []byte, di, l int) int {
	for ; l >= 255; l -= 255 {
		dst[di] = 255
		di++
	}
	dst[di] = byte(l)
	return di + 1
}
