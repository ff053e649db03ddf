package sink

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy/xerial"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// verifier checks whole batches; one per connection, so its decoders and scratch
// buffers are reused without locks.
type verifier struct {
	scratch []byte
	gz      *gzip.Reader
	lz      *lz4.Reader
	zs      *zstd.Decoder
	src     bytes.Reader
	buf     bytes.Buffer
}

func newVerifier() *verifier {
	zs, _ := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(512<<20))
	return &verifier{zs: zs, lz: lz4.NewReader(nil)}
}

// verify checks one batch (header already read into h): the CRC32C over attributes to
// the end, the codec, and every record's framing; the record count and offset deltas
// must match the header. It returns the records and their value bytes.
func (v *verifier) verify(batch []byte, h batchHeader) (int, int64, error) {
	if got := crc32.Checksum(batch[21:], castagnoli); got != h.crc {
		return 0, 0, fmt.Errorf("batch crc32c %08x, header says %08x", got, h.crc)
	}
	data := batch[batchHeaderSize:]
	var err error
	switch h.codec {
	case 0:
	case 1:
		data, err = v.gunzip(data)
	case 2:
		data, err = xerial.DecodeInto(v.scratch[:0], data)
		if err == nil {
			v.scratch = data
		}
	case 3:
		v.src.Reset(data)
		v.lz.Reset(&v.src)
		data, err = v.drain(v.lz)
	case 4:
		data, err = v.zs.DecodeAll(data, v.scratch[:0])
		if err == nil {
			v.scratch = data
		}
	default:
		err = fmt.Errorf("unknown codec %d", h.codec)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("decompressing %s batch: %w", codecNames[h.codec], err)
	}
	n, valueBytes, err := parseRecords(data, h.count)
	if err != nil {
		return 0, 0, err
	}
	if n > 0 && int32(n-1) != h.lastOffsetDelta {
		return 0, 0, fmt.Errorf("%d records but last offset delta %d", n, h.lastOffsetDelta)
	}
	return n, valueBytes, nil
}

func (v *verifier) gunzip(data []byte) ([]byte, error) {
	v.src.Reset(data)
	if v.gz == nil {
		gz, err := gzip.NewReader(&v.src)
		if err != nil {
			return nil, err
		}
		v.gz = gz
	} else if err := v.gz.Reset(&v.src); err != nil {
		return nil, err
	}
	return v.drain(v.gz)
}

func (v *verifier) drain(r io.Reader) ([]byte, error) {
	v.buf.Reset()
	if _, err := v.buf.ReadFrom(r); err != nil {
		return nil, err
	}
	return v.buf.Bytes(), nil
}

var errShort = errors.New("record overruns its batch")

// parseRecords walks want records of RecordBatch v2 (KIP-98): length, attributes,
// timestamp delta, offset delta, key, value, headers, each varint-framed. Every record's
// length must equal what its fields take, offset deltas must count up from 0, and no
// byte may be left over.
func parseRecords(b []byte, want int32) (int, int64, error) {
	var valueBytes int64
	off := 0
	for i := range want {
		length, next, ok := varint(b, off)
		if !ok || length < 0 || next+int(length) > len(b) {
			return 0, 0, fmt.Errorf("record %d of %d: %w", i, want, errShort)
		}
		off = next
		rec := b[off : off+int(length)]
		off += int(length)
		p := 1 // attributes
		if len(rec) < 1 {
			return 0, 0, fmt.Errorf("record %d: empty", i)
		}
		if _, p, ok = varint(rec, p); !ok { // timestamp delta
			return 0, 0, fmt.Errorf("record %d: timestamp delta: %w", i, errShort)
		}
		var od int64
		if od, p, ok = varint(rec, p); !ok || od != int64(i) {
			return 0, 0, fmt.Errorf("record %d: offset delta %d", i, od)
		}
		if p, ok = skipBytes(rec, p); !ok { // key
			return 0, 0, fmt.Errorf("record %d: key: %w", i, errShort)
		}
		var vlen int64
		if vlen, p, ok = varint(rec, p); !ok || vlen < -1 || p+int(max(vlen, 0)) > len(rec) {
			return 0, 0, fmt.Errorf("record %d: value: %w", i, errShort)
		}
		if vlen > 0 {
			valueBytes += vlen
			p += int(vlen)
		}
		var nh int64
		if nh, p, ok = varint(rec, p); !ok || nh < 0 {
			return 0, 0, fmt.Errorf("record %d: header count: %w", i, errShort)
		}
		for range nh {
			if p, ok = skipBytes(rec, p); !ok {
				return 0, 0, fmt.Errorf("record %d: header key: %w", i, errShort)
			}
			if p, ok = skipBytes(rec, p); !ok {
				return 0, 0, fmt.Errorf("record %d: header value: %w", i, errShort)
			}
		}
		if p != len(rec) {
			return 0, 0, fmt.Errorf("record %d: length %d but fields take %d", i, len(rec), p)
		}
	}
	if off != len(b) {
		return 0, 0, fmt.Errorf("%d bytes after the %d records the header counts", len(b)-off, want)
	}
	return int(want), valueBytes, nil
}

// varint reads a zigzag varint at p. Most fields of small records fit one byte, so
// that case skips binary.Varint, which was half of the verifier's time.
func varint(b []byte, p int) (int64, int, bool) {
	if p >= len(b) {
		return 0, p, false
	}
	if c := b[p]; c < 0x80 {
		return int64(c>>1) ^ -int64(c&1), p + 1, true
	}
	v, w := binary.Varint(b[p:])
	if w <= 0 {
		return 0, p, false
	}
	return v, p + w, true
}

// skipBytes skips a varint-length-prefixed byte string (-1 is null).
func skipBytes(b []byte, p int) (int, bool) {
	n, p, ok := varint(b, p)
	if !ok || n < -1 || p+int(max(n, 0)) > len(b) {
		return p, false
	}
	return p + int(max(n, 0)), true
}
