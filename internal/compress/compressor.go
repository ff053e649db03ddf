package compress

import (
	"runtime"
	"sync"
)

// Compressor compresses records sections with one codec at one level. It
// is safe for concurrent use: each call borrows an encoder from a free list
// (zstd: from the encoder's own bounded set), so batches can be compressed
// in parallel. The zero value compresses with None.
type Compressor struct {
	codec Codec
	level int
	enc   encoder // nil for None
}

// encoder is one codec's implementation of Compressor.Compress.
type encoder interface {
	compress(dst, src []byte) ([]byte, error)
}

// NewCompressor returns a Compressor for codec at level, which must be one
// ValidateLevel accepts; the level is ignored for None and Snappy.
func NewCompressor(codec Codec, level int) (*Compressor, error) {
	if err := ValidateLevel(codec, level); err != nil {
		return nil, err
	}
	c := &Compressor{codec: codec, level: level}
	switch codec {
	case Gzip:
		c.enc = newGzipEncoder(level)
	case Snappy:
		c.enc = snappyEncoder{}
	case LZ4:
		c.enc = newLZ4Encoder(level)
	case Zstd:
		enc, err := newZstdEncoder(level)
		if err != nil {
			return nil, err
		}
		c.enc = enc
	}
	return c, nil
}

// Codec returns the codec c compresses with.
func (c *Compressor) Codec() Codec { return c.codec }

// Level returns the level c was built with.
func (c *Compressor) Level() int { return c.level }

// Compress appends the compressed form of src to dst and returns the
// extended slice. It reuses dst's spare capacity, so a caller that recycles
// dst makes the call allocation-free once the buffer has grown; dst and src
// must not overlap. With None it appends src unchanged. Like Java, it keeps
// the compressed form even when it is larger than src.
func (c *Compressor) Compress(dst, src []byte) ([]byte, error) {
	if c.enc == nil {
		return append(dst, src...), nil
	}
	return c.enc.compress(dst, src)
}

// freeList keeps idle encoders or decoders for reuse. Unlike sync.Pool it
// survives garbage collections: a gzip writer or an lz4 HC table is
// hundreds of KiB, and rebuilding one after every GC would touch fresh
// memory (page faults) on the hot path.
type freeList[T any] struct {
	mu    sync.Mutex
	items []*T
	max   int
	newT  func() *T
}

func newFreeList[T any](newT func() *T) *freeList[T] {
	// Enough for every P to hold one while others wait to return theirs;
	// beyond that, surplus items are left to the garbage collector.
	limit := 2 * runtime.GOMAXPROCS(0)
	return &freeList[T]{items: make([]*T, 0, limit), max: limit, newT: newT}
}

// get returns an idle item or a new one.
func (f *freeList[T]) get() *T {
	f.mu.Lock()
	if n := len(f.items); n > 0 {
		x := f.items[n-1]
		f.items[n-1] = nil
		f.items = f.items[:n-1]
		f.mu.Unlock()
		return x
	}
	f.mu.Unlock()
	return f.newT()
}

// put returns x for reuse, dropping it when the list is full.
func (f *freeList[T]) put(x *T) {
	f.mu.Lock()
	if len(f.items) < f.max {
		f.items = append(f.items, x)
	}
	f.mu.Unlock()
}

// grow returns b with room for at least n more bytes, reallocating once,
// with doubling, when its capacity is short.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	c := max(2*cap(b), len(b)+n)
	nb := make([]byte, len(b), c)
	copy(nb, b)
	return nb
}
