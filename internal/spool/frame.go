// Package spool is the durable local spool behind spool.dir (kprod's own, issue 15):
// append-only segment files of checksummed frames, one record per frame, written
// before Send returns and removed once the broker acknowledged every record of a
// segment. It sits before partitioning: a frame holds the record as the caller gave
// it (topic, optional explicit partition, key, value, headers, timestamp), so a
// record spooled while the cluster is unreachable is partitioned at delivery time.
//
// Segment file: an 8-byte magic, then frames. A frame is
//
//	length  uint32 big-endian: bytes of body
//	crc     uint32 big-endian: CRC32C (Castagnoli, as Kafka's RecordBatch) of length and body
//	body    seq uint64, timestamp int64 (ms), partition int32 (-1: the partitioner chooses),
//	        topic (uvarint length + bytes), key and value (zigzag varint length, -1 null,
//	        + bytes), header count (uvarint), each header key (uvarint length + bytes)
//	        and value (varint length, -1 null, + bytes)
//
// The CRC covers the length so that a corrupt length is caught before it is trusted.
// Sequence numbers increase by one per record across segments; a segment's name is
// its first record's sequence number.
package spool

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// Magic starts every segment file; the last byte is the format version.
const Magic = "KPRODSP\x01"

// frameHeader is the length and CRC before each frame's body.
const frameHeader = 8

// MaxFrame bounds a frame's body: a length above it is corrupt, never an allocation.
const MaxFrame = 1 << 30

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Header is a record header; a nil Value is a null value.
type Header struct {
	Key   string
	Value []byte
}

// Record is one spooled record. Decoded records alias the buffer they were decoded
// from, except Topic and header keys, which are strings.
type Record struct {
	Seq       uint64
	Timestamp int64 // milliseconds since the epoch
	Partition int32 // -1: the partitioner chooses
	Topic     string
	Key       []byte // nil: null
	Value     []byte // nil: null
	Headers   []Header
}

// errShort means the bytes end inside a frame; errCorrupt that a frame's checksum
// or body is wrong.
var (
	errShort   = errors.New("spool: frame cut short")
	errCorrupt = errors.New("spool: corrupt frame")
)

// FrameSize is the number of bytes AppendFrame writes for r.
func FrameSize(r *Record) int {
	n := frameHeader + 8 + 8 + 4 + uvarintLen(uint64(len(r.Topic))) + len(r.Topic) +
		bytesLen(r.Key) + bytesLen(r.Value) + uvarintLen(uint64(len(r.Headers)))
	for _, h := range r.Headers {
		n += uvarintLen(uint64(len(h.Key))) + len(h.Key) + bytesLen(h.Value)
	}
	return n
}

// AppendFrame appends r's frame to b.
func AppendFrame(b []byte, r *Record) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)
	b = binary.BigEndian.AppendUint64(b, r.Seq)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Timestamp))
	b = binary.BigEndian.AppendUint32(b, uint32(r.Partition))
	b = binary.AppendUvarint(b, uint64(len(r.Topic)))
	b = append(b, r.Topic...)
	b = appendBytes(b, r.Key)
	b = appendBytes(b, r.Value)
	b = binary.AppendUvarint(b, uint64(len(r.Headers)))
	for _, h := range r.Headers {
		b = binary.AppendUvarint(b, uint64(len(h.Key)))
		b = append(b, h.Key...)
		b = appendBytes(b, h.Value)
	}
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start-frameHeader))
	crc := crc32.Update(0, castagnoli, b[start:start+4])
	crc = crc32.Update(crc, castagnoli, b[start+frameHeader:])
	binary.BigEndian.PutUint32(b[start+4:], crc)
	return b
}

// DecodeFrame decodes the frame at the start of b into r and returns its size. It
// returns errShort when b ends inside the frame and errCorrupt when the checksum or
// the body is wrong; r is then unspecified. r's byte slices alias b; r.Headers is
// reused.
func DecodeFrame(b []byte, r *Record) (int, error) {
	if len(b) < frameHeader {
		return 0, errShort
	}
	n := binary.BigEndian.Uint32(b)
	if n > MaxFrame || n < 8+8+4+1+1+1+1 {
		return 0, errCorrupt
	}
	end := frameHeader + int(n)
	if len(b) < end {
		return 0, errShort
	}
	crc := crc32.Update(0, castagnoli, b[:4])
	crc = crc32.Update(crc, castagnoli, b[frameHeader:end])
	if crc != binary.BigEndian.Uint32(b[4:]) {
		return 0, errCorrupt
	}
	if !decodeBody(b[frameHeader:end], r) {
		return 0, errCorrupt
	}
	return end, nil
}

// decodeBody decodes a checksummed body; false if it is malformed (a writer bug or a
// CRC collision: never trusted).
func decodeBody(b []byte, r *Record) bool {
	d := decoder{b: b}
	r.Seq = d.u64()
	r.Timestamp = int64(d.u64())
	r.Partition = int32(d.u32())
	if t := d.raw(d.uvarint()); string(t) != r.Topic { // most records repeat the last topic: no copy
		r.Topic = string(t)
	}
	r.Key = d.bytes()
	r.Value = d.bytes()
	nh := d.uvarint()
	if nh > uint64(len(d.b)) { // each header takes at least two bytes
		return false
	}
	r.Headers = r.Headers[:0]
	for i := uint64(0); i < nh && !d.bad; i++ {
		k := string(d.raw(d.uvarint()))
		r.Headers = append(r.Headers, Header{Key: k, Value: d.bytes()})
	}
	return !d.bad && len(d.b) == 0 && r.Partition >= -1 && r.Topic != ""
}

type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) u64() uint64 {
	if len(d.b) < 8 {
		d.bad = true
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) u32() uint32 {
	if len(d.b) < 4 {
		d.bad = true
		return 0
	}
	v := binary.BigEndian.Uint32(d.b)
	d.b = d.b[4:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) raw(n uint64) []byte {
	if d.bad || n > uint64(len(d.b)) {
		d.bad = true
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

// bytes reads a nullable byte string; an empty one is non-nil.
func (d *decoder) bytes() []byte {
	v, n := binary.Varint(d.b)
	if n <= 0 || v < -1 {
		d.bad = true
		return nil
	}
	d.b = d.b[n:]
	if v == -1 {
		return nil
	}
	out := d.raw(uint64(v))
	if out == nil && !d.bad {
		out = []byte{}
	}
	return out
}

func appendBytes(b, v []byte) []byte {
	if v == nil {
		return binary.AppendVarint(b, -1)
	}
	b = binary.AppendVarint(b, int64(len(v)))
	return append(b, v...)
}

func bytesLen(v []byte) int {
	if v == nil {
		return 1
	}
	return varintLen(int64(len(v))) + len(v)
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func varintLen(v int64) int { return uvarintLen(uint64(v<<1) ^ uint64(v>>63)) }
