package spool

import "errors"

// ScanResult says what Scan found in a segment's bytes.
type ScanResult struct {
	// End is the offset after the last good frame: bytes past it are a torn or corrupt
	// tail, never delivered.
	End int
	// Records counts the good frames.
	Records int
	// Corrupt counts the damaged regions skipped between good frames (a corrupt frame in
	// the middle); each skipped region's frames are lost.
	Corrupt int
	// CorruptBytes is the size of those regions.
	CorruptBytes int
	// FirstSeq and LastSeq are the sequence numbers of the first and last good frames
	// (valid when Records > 0).
	FirstSeq, LastSeq uint64
	// Skips lists the damaged regions as [start, next good frame) offsets.
	Skips [][2]int
}

// ErrBadMagic means a segment file does not start with Magic.
var ErrBadMagic = errors.New("spool: not a segment file (bad magic)")

// Scan walks a whole segment (Magic included) and calls fn, if not nil, for every good
// frame in order, with its offset. A frame that fails its checksum, or whose sequence
// number does not increase, starts a damaged region: Scan looks for the next offset
// where a good frame with a larger sequence number starts and resumes there (the
// region is counted in Corrupt); when none follows, the damage is the segment's tail
// and is dropped like a torn last frame (End stops before it). Scan never returns a
// frame whose checksum fails. fn's record aliases data and is valid during the call.
func Scan(data []byte, fn func(off int, r *Record)) (ScanResult, error) {
	if len(data) < len(Magic) || string(data[:len(Magic)]) != Magic {
		return ScanResult{}, ErrBadMagic
	}
	res := ScanResult{End: len(Magic)}
	var r Record
	off := len(Magic)
	for off < len(data) {
		n, err := DecodeFrame(data[off:], &r)
		if err == nil && (res.Records == 0 || r.Seq > res.LastSeq) {
			if fn != nil {
				fn(off, &r)
			}
			if res.Records == 0 {
				res.FirstSeq = r.Seq
			}
			res.Records++
			res.LastSeq = r.Seq
			off += n
			res.End = off
			continue
		}
		next, ok := resync(data, off+1, res)
		if !ok {
			break // a torn or corrupt tail
		}
		res.Corrupt++
		res.CorruptBytes += next - off
		res.Skips = append(res.Skips, [2]int{off, next})
		off = next
	}
	return res, nil
}

// resync finds the first offset from 'from' on where a good frame with a sequence
// number above the last good one starts. A false match needs a CRC32C collision on
// top of a well-formed body and a plausible length.
func resync(data []byte, from int, res ScanResult) (int, bool) {
	var r Record
	for off := from; off+frameHeader <= len(data); off++ {
		if _, err := DecodeFrame(data[off:], &r); err == nil && (res.Records == 0 || r.Seq > res.LastSeq) {
			return off, true
		}
	}
	return 0, false
}
