package compress

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

// Gzip level mapping. Java hands compression.gzip.level to
// java.util.zip.Deflater (zlib); klauspost's deflate takes the same 1..9
// scale with the same meaning (1 fastest, 9 smallest) but its own, faster
// match finders, so levels 1..9 pass through unchanged. Java's -1 is
// zlib's default, level 6, the point zlib chose between speed and size;
// it maps to klauspost's DefaultCompression (its level 5), the point
// klauspost chose for the same trade-off, which is several times faster
// than zlib 6 at a similar ratio.
func gzipLibLevel(level int) int {
	if level == GzipDefaultLevel {
		return gzip.DefaultCompression
	}
	return level
}

// gzipEncoder compresses into gzip members like Java's GzipOutputStream:
// one member per batch, multistream readers accept concatenations.
type gzipEncoder struct {
	free *freeList[gzipWriter]
}

// gzipWriter is a pooled gzip.Writer with the appending sink it writes to,
// kept together so that Reset does not allocate.
type gzipWriter struct {
	w   *gzip.Writer
	out appendWriter
}

// appendWriter is an io.Writer that appends to a byte slice.
type appendWriter struct{ b []byte }

func (a *appendWriter) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

func newGzipEncoder(level int) *gzipEncoder {
	lib := gzipLibLevel(level)
	return &gzipEncoder{free: newFreeList(func() *gzipWriter {
		// The level was validated, so NewWriterLevel cannot fail.
		w, _ := gzip.NewWriterLevel(nil, lib)
		return &gzipWriter{w: w}
	})}
}

func (e *gzipEncoder) compress(dst, src []byte) ([]byte, error) {
	gw := e.free.get()
	gw.out.b = dst
	gw.w.Reset(&gw.out)
	_, err := gw.w.Write(src)
	if err == nil {
		err = gw.w.Close()
	}
	dst = gw.out.b
	gw.out.b = nil // do not keep the caller's buffer alive in the list
	e.free.put(gw)
	if err != nil {
		return dst, fmt.Errorf("kprod: gzip compression: %w", err)
	}
	return dst, nil
}

// gzipReader is a pooled gzip.Reader with the bytes.Reader it reads from.
type gzipReader struct {
	r   gzip.Reader
	src bytes.Reader
}

// decompressGzip appends the content of every gzip member in src to dst,
// as java.util.zip.GZIPInputStream reads concatenated members.
func (d *Decompressor) decompressGzip(dst, src []byte) ([]byte, error) {
	gr := d.gzip.get()
	defer d.gzip.put(gr)
	gr.src.Reset(src)
	if err := gr.r.Reset(&gr.src); err != nil {
		return dst, corrupt(Gzip, err)
	}
	return readLimited(dst, &gr.r, d.max, Gzip)
}

// readLimited appends everything r yields to dst, failing with
// ErrTooLarge once more than limit bytes have been appended.
func readLimited(dst []byte, r io.Reader, limit int, c Codec) ([]byte, error) {
	start := len(dst)
	for {
		if len(dst) == cap(dst) {
			// Grow by what we have so far (at least 4 KiB), but never
			// past one byte over the limit.
			produced := len(dst) - start
			dst = grow(dst, min(max(produced, 4<<10), limit+1-produced))
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if len(dst)-start > limit {
			return dst[:start], ErrTooLarge
		}
		if errors.Is(err, io.EOF) {
			return dst, nil
		}
		if err != nil {
			return dst[:start], corrupt(c, err)
		}
	}
}
