package spool

import (
	"context"
	"errors"
	"io"
	"os"
)

// reader is Next's position: a segment, its read handle and a buffer of its bytes.
type reader struct {
	seg  *segment
	f    *os.File
	off  int64  // offset of the next frame
	buf  []byte // bytes [base, base+len(buf)) of the file
	base int64
	rec  Record
}

const readChunk = 256 << 10

func (r *reader) close() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
}

// Next returns the next spooled record in spool order and the done Append was given
// for it (nil for records recovered from an earlier spool), waiting until one is
// appended or ctx ends. The record aliases the reader's buffer and is valid until the
// next call. Damage found while reading (the file changed under the spool) skips the
// rest of that segment; the lost records' dones go to TakeWaiting.
func (s *Spool) Next(ctx context.Context) (*Record, any, error) {
	rd := &s.rd
	for {
		s.mu.Lock()
		if rd.seg == nil || rd.seg.removed || (rd.off >= rd.seg.size && rd.seg.sealed) {
			nxt := s.segAfter(rd.seg)
			if nxt == nil {
				s.mu.Unlock()
				if err := s.waitAvail(ctx); err != nil {
					return nil, nil, err
				}
				continue
			}
			rd.close()
			rd.seg, rd.off, rd.buf, rd.base = nxt, int64(len(Magic)), rd.buf[:0], 0
		}
		seg := rd.seg
		if to, ok := seg.skips[rd.off]; ok {
			rd.off = to
		}
		size := seg.size
		s.mu.Unlock()
		if rd.off >= size {
			if err := s.waitAvail(ctx); err != nil {
				return nil, nil, err
			}
			continue
		}
		if rd.f == nil {
			f, err := os.Open(seg.path)
			if err != nil {
				return nil, nil, err
			}
			rd.f = f
		}
		n, err := rd.decode(size)
		if err != nil {
			if !errors.Is(err, errCorrupt) {
				return nil, nil, err
			}
			s.mu.Lock()
			s.readCorrupt++
			rd.off = size // the rest of this segment up to its committed size is lost
			s.mu.Unlock()
			continue
		}
		rd.off += int64(n)
		s.mu.Lock()
		if seg.f == nil && seg.bit(rd.rec.Seq) {
			// Recovered, below the saved acknowledged position: delivered before.
			s.handedLocked(rd.rec.Seq)
			s.mu.Unlock()
			continue
		}
		var done any
		for len(s.waiting) > 0 && s.waiting[0].seq <= rd.rec.Seq {
			w := s.waiting[0]
			s.waiting[0] = waiter{}
			s.waiting = s.waiting[1:]
			if w.seq == rd.rec.Seq {
				done = w.done
			} else if w.done != nil {
				s.lost = append(s.lost, w.done)
			}
		}
		if len(s.waiting) == 0 {
			s.waiting = nil // let the backing array go
		}
		s.mu.Unlock()
		return &rd.rec, done, nil
	}
}

// segAfter is the first live segment after seg (the oldest when seg is nil). s.mu held.
func (s *Spool) segAfter(seg *segment) *segment {
	for _, x := range s.segs {
		if seg == nil || x.first > seg.first {
			return x
		}
	}
	return nil
}

func (s *Spool) waitAvail(ctx context.Context) error {
	select {
	case <-s.avail:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// decode decodes the frame at rd.off, reading the file as needed up to size.
func (r *reader) decode(size int64) (int, error) {
	need := frameHeader
	for {
		start := r.off - r.base
		if r.off >= r.base && start+int64(need) <= int64(len(r.buf)) {
			n, err := DecodeFrame(r.buf[start:], &r.rec)
			if err != errShort {
				return n, err
			}
		}
		if start >= 0 && start+frameHeader <= int64(len(r.buf)) {
			l := int(uint32(r.buf[start])<<24 | uint32(r.buf[start+1])<<16 | uint32(r.buf[start+2])<<8 | uint32(r.buf[start+3]))
			if l > MaxFrame {
				return 0, errCorrupt
			}
			need = frameHeader + l
		}
		if r.off+int64(need) > size {
			return 0, errCorrupt // committed bytes end inside the frame: not ours
		}
		want := min(max(int64(need), readChunk), size-r.off)
		if int64(cap(r.buf)) < want {
			r.buf = make([]byte, want)
		}
		r.buf = r.buf[:want]
		got, err := r.f.ReadAt(r.buf, r.off)
		r.buf, r.base = r.buf[:got], r.off
		if int64(got) < want {
			if err != nil && !errors.Is(err, io.EOF) {
				return 0, err
			}
			return 0, errCorrupt // the file is shorter than what was written: cut under us
		}
	}
}
