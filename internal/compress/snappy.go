package compress

import (
	"bytes"
	"encoding/binary"
	"errors"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/snappy"
)

// Snappy output format. Java's producer writes xerial framing
// (SnappyFactory wraps an org.xerial.snappy.SnappyOutputStream: a 16-byte
// header, then 32 KiB chunks, each a big-endian length and a raw snappy
// block). Every reader also accepts a single raw snappy block:
// SnappyInputStream.readHeader falls back to Snappy.uncompress of the whole
// input when the header is absent ("probably compressed by
// Snappy.compress(byte[])"), and brokers and Java consumers read through
// it; librdkafka and franz-go decode both forms and both produce raw
// blocks. A raw block is one encoder call with no chunk resets, so it is
// the fastest and smallest choice; that is what Compress writes.
type snappyEncoder struct{}

func (snappyEncoder) compress(dst, src []byte) ([]byte, error) {
	n := s2.MaxEncodedLen(len(src))
	if n < 0 {
		return dst, errors.New("kprod: snappy compression: input too large for one snappy block")
	}
	dst = grow(dst, n)
	at := len(dst)
	// EncodeSnappy writes into its dst when it has MaxEncodedLen bytes, so
	// the block lands in place in our spare capacity.
	out := s2.EncodeSnappy(dst[at:at+n], src)
	return dst[:at+len(out)], nil
}

// xerialMagic opens a snappy-java (xerial) stream: SnappyCodec.MAGIC_HEADER.
// A version and a minimum compatible version, both big-endian int32, follow.
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

const xerialHeaderLen = 16

// decompressSnappy appends the content of src to dst. Like Java's
// SnappyInputStream, input that starts with the xerial header is read as
// xerial chunks and anything else as one raw block. Blocks are decoded
// strictly (standard snappy, not s2's extensions), as the JNI snappy
// library behind brokers and Java consumers would.
func decompressSnappy(dst, src []byte, limit int) ([]byte, error) {
	if len(src) < xerialHeaderLen || !bytes.Equal(src[:len(xerialMagic)], xerialMagic) {
		return appendSnappyBlock(dst, src, limit)
	}
	// SnappyInputStream rejects streams written by an older format
	// version than it understands (MINIMUM_COMPATIBLE_VERSION is 1).
	if int32(binary.BigEndian.Uint32(src[8:12])) < 1 {
		return dst, corrupt(Snappy, errors.New("xerial stream version below 1"))
	}
	start := len(dst)
	for rest := src[xerialHeaderLen:]; len(rest) > 0; {
		if len(rest) < 4 {
			return dst[:start], corrupt(Snappy, errors.New("truncated xerial chunk length"))
		}
		size := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(size) > uint64(len(rest)) {
			return dst[:start], corrupt(Snappy, errors.New("truncated xerial chunk"))
		}
		var err error
		if dst, err = appendSnappyBlock(dst, rest[:size], limit-(len(dst)-start)); err != nil {
			return dst[:start], err
		}
		rest = rest[size:]
	}
	return dst, nil
}

// appendSnappyBlock decodes one raw snappy block onto dst, checking the
// length the block declares against limit before allocating for it.
func appendSnappyBlock(dst, block []byte, limit int) ([]byte, error) {
	n, err := snappy.DecodedLen(block)
	if err != nil {
		return dst, corrupt(Snappy, err)
	}
	if n > limit {
		return dst, ErrTooLarge
	}
	dst = grow(dst, n)
	at := len(dst)
	if _, err := snappy.DecodeStrict(dst[at:at+n], block); err != nil {
		return dst, corrupt(Snappy, err)
	}
	return dst[:at+n], nil
}
