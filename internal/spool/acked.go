package spool

import (
	"encoding/binary"
	"hash/crc32"
	"math/bits"
	"os"
	"path/filepath"
	"time"
)

// The acknowledged position: segments are deleted whole, so without more a crash makes
// the next producer send again every acknowledged record of the segments it finds. The
// file ACKED holds the lowest sequence number not yet acknowledged (every record below it
// was), written at most every ackedEvery and at Close; recovery skips the records below
// it. It is written to a temporary file renamed over the old one and checksummed, and
// never fsynced: a stale or lost position only means more records sent again, never a
// record skipped, because the position never passes an unacknowledged record.

const (
	ackedFile  = "ACKED"
	ackedEvery = 100 * time.Millisecond
)

// setBit marks seq acknowledged in seg's bitmap; false if it was already.
func (seg *segment) setBit(seq uint64) bool {
	if seq < seg.first {
		return false
	}
	i := seq - seg.first
	for uint64(len(seg.bits))*64 <= i {
		seg.bits = append(seg.bits, 0)
	}
	w, b := i/64, uint64(1)<<(i%64)
	if seg.bits[w]&b != 0 {
		return false
	}
	seg.bits[w] |= b
	return true
}

func (seg *segment) bit(seq uint64) bool {
	if seq < seg.first {
		return true
	}
	i := seq - seg.first
	return i/64 < uint64(len(seg.bits)) && seg.bits[i/64]&(1<<(i%64)) != 0
}

// lowUnacked returns the lowest seq of seg not acknowledged, or false if there is none
// among its first n seqs.
func (seg *segment) lowUnacked(n uint64) (uint64, bool) {
	for w, word := range seg.bits {
		if word != ^uint64(0) {
			i := uint64(w)*64 + uint64(bits.TrailingZeros64(^word))
			if i < n {
				return seg.first + i, true
			}
			return 0, false
		}
	}
	if i := uint64(len(seg.bits)) * 64; i < n {
		return seg.first + i, true
	}
	return 0, false
}

// watermark is the lowest seq not acknowledged: every record below it was. s.mu held.
func (s *Spool) watermark() uint64 {
	for _, seg := range s.segs {
		if seq, ok := seg.lowUnacked(seg.limit - min(seg.first, seg.limit)); ok {
			return seq
		}
	}
	return s.nextSeq
}

// maybePersistAcked writes the acknowledged position if ackedEvery passed since the
// last write. s.mu held (the write is a few microseconds, every ackedEvery at most).
func (s *Spool) maybePersistAcked() {
	if now := time.Now(); now.Sub(s.ackedAt) >= ackedEvery {
		s.ackedAt = now
		s.persistAcked()
	}
}

// persistAcked writes the acknowledged position; errors are ignored (a stale position
// costs duplicates only). s.mu held.
func (s *Spool) persistAcked() {
	w := s.watermark()
	if w == s.ackedSaved {
		return
	}
	var b [12]byte
	binary.BigEndian.PutUint64(b[:], w)
	binary.BigEndian.PutUint32(b[8:], crc32.Checksum(b[:8], castagnoli))
	tmp := filepath.Join(s.o.Dir, ackedFile+".tmp")
	if err := os.WriteFile(tmp, b[:], 0o644); err != nil {
		return
	}
	if os.Rename(tmp, filepath.Join(s.o.Dir, ackedFile)) == nil {
		s.ackedSaved = w
	}
}

// readAcked returns the saved acknowledged position, 0 when none is valid.
func readAcked(dir string) uint64 {
	b, err := os.ReadFile(filepath.Join(dir, ackedFile))
	if err != nil || len(b) != 12 || crc32.Checksum(b[:8], castagnoli) != binary.BigEndian.Uint32(b[8:]) {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}
