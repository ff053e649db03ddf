package compress

import (
	"errors"
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// DefaultMaxDecompressedSize bounds what Decompress appends for one input:
// 128 MiB, far above any batch a broker accepts by default
// (message.max.bytes is 1 MiB) yet small enough that hostile input cannot
// exhaust memory.
const DefaultMaxDecompressedSize = 128 << 20

// ErrTooLarge is returned when input would decompress to more than the
// Decompressor's limit.
var ErrTooLarge = errors.New("kprod: decompressed data exceeds the size limit")

// ErrCorrupt is wrapped by every error about input that is not valid data
// of the codec named.
var ErrCorrupt = errors.New("kprod: corrupt compressed data")

func corrupt(c Codec, err error) error {
	return fmt.Errorf("%w (%s): %w", ErrCorrupt, c, err)
}

// Decompressor decompresses records sections for tests, benchmark sinks
// and verification, accepting what Java's readers accept. It is safe for
// concurrent use. The zero value is ready to use, with
// DefaultMaxDecompressedSize as its limit.
type Decompressor struct {
	max int // set before first use, read-only after

	initOnce sync.Once
	gzip     *freeList[gzipReader] // set by init

	zstdOnce sync.Once
	zstd     *zstd.Decoder
	zstdErr  error
}

// NewDecompressor returns a Decompressor that appends at most maxSize bytes
// per call; maxSize <= 0 means DefaultMaxDecompressedSize.
func NewDecompressor(maxSize int) *Decompressor {
	return &Decompressor{max: maxSize}
}

func (d *Decompressor) init() {
	d.initOnce.Do(func() {
		if d.max <= 0 {
			d.max = DefaultMaxDecompressedSize
		}
		d.gzip = newFreeList(func() *gzipReader { return new(gzipReader) })
	})
}

// MaxSize returns the most bytes d appends for one input.
func (d *Decompressor) MaxSize() int {
	d.init()
	return d.max
}

// Decompress appends the decompressed content of src, compressed with
// codec, to dst and returns the extended slice. On error it returns dst
// unchanged in length with an error wrapping ErrCorrupt, or ErrTooLarge
// when the content would exceed the limit. With None it appends src.
func (d *Decompressor) Decompress(dst, src []byte, codec Codec) ([]byte, error) {
	d.init()
	switch codec {
	case None:
		if len(src) > d.max {
			return dst, ErrTooLarge
		}
		return append(dst, src...), nil
	case Gzip:
		return d.decompressGzip(dst, src)
	case Snappy:
		return decompressSnappy(dst, src, d.max)
	case LZ4:
		return decompressLZ4(dst, src, d.max)
	case Zstd:
		return d.decompressZstd(dst, src)
	}
	return dst, fmt.Errorf("kprod: unknown compression codec %d", int8(codec))
}

// zstdDecoder builds the zstd decoder on first use: it holds buffers that
// callers decoding other codecs should not pay for.
func (d *Decompressor) zstdDecoder() (*zstd.Decoder, error) {
	d.zstdOnce.Do(func() { d.zstd, d.zstdErr = newZstdDecoder(d.max) })
	return d.zstd, d.zstdErr
}

var defaultDecompressor = sync.OnceValue(func() *Decompressor { return NewDecompressor(0) })

// Decompress appends the decompressed content of src to dst with a shared
// Decompressor limited to DefaultMaxDecompressedSize.
func Decompress(dst, src []byte, codec Codec) ([]byte, error) {
	return defaultDecompressor().Decompress(dst, src, codec)
}
