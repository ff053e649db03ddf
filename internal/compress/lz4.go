package compress

import (
	"encoding/binary"
	"errors"

	"github.com/pierrec/lz4/v4"
)

// LZ4 frame as Kafka writes it. Since KAFKA-3160 (Kafka 0.10, magic v1+)
// the lz4 codec is the standard LZ4 frame format v1.5.1, written by
// Lz4BlockOutputStream with:
//   - FLG 0x60: version 01, independent blocks, no block checksums, no
//     content size, no content checksum (both are TODOs in Kafka's writer);
//   - BD 0x40: 64 KiB maximum block size (BLOCKSIZE_64KB);
//   - HC: byte 1 of XXH32 of FLG and BD, the correct descriptor checksum
//     (the broken one covering the magic too is only for magic v0);
//   - then each 64 KiB of input as a little-endian block size and a block,
//     stored raw with the size's high bit set when compressing does not make
//     it smaller, and a zero end mark.
//
// We write exactly that frame around our own fast block compressor
// (lz4fast.go) or pierrec/lz4's HC one.
const (
	lz4Magic        = 0x184D2204
	lz4FLG          = 0x60
	lz4BD           = 0x40
	lz4BlockMax     = 64 << 10
	lz4Uncompressed = 0x80000000
)

// lz4Header is the frame header every frame we write starts with; its last
// byte is the descriptor checksum, (xxh32({FLG, BD}) >> 8) & 0xFF = 0x82
// (a test recomputes it).
var lz4Header = [7]byte{0x04, 0x22, 0x4D, 0x18, lz4FLG, lz4BD, 0x82}

// LZ4 level mapping. Java's Lz4BlockOutputStream uses lz4-java's
// fastCompressor (LZ4_compress_default) at the default level 9 and
// highCompressor(level), LZ4 HC, at every other level, 1 through 17 alike
// (so in Kafka levels 1-8 are slower than 9, not faster). We do the same:
//   - level 9: lz4Fast, our own fast block compressor in the manner of
//     LZ4_compress_default. It outruns pierrec's Compressor by about 1.3x
//     on 64 KiB blocks of JSON records and 1.5x on 16 KiB records sections,
//     its output within about 1% of the size (BenchmarkLZ4BlockFast).
//     pierrec's CompressorCCompat, byte for byte LZ4_compress_default, is
//     slower still (BenchmarkLZ4Block). Any valid block decodes the same in
//     Java.
//   - other levels: pierrec's CompressorHC with a match search depth of
//     2^(level-1). That is the attempt count of lz4-java's Java HC port for
//     every level, and LZ4 HC's own search depth for levels 3-9 (4..256);
//     for 10-12 the C library switches to its optimal parser, which pierrec
//     lacks, so deeper searches (512..65536) stand in for it, about 4% larger
//     than Java's output at those levels.
func lz4Depth(level int) lz4.CompressionLevel {
	return lz4.CompressionLevel(1) << (level - 1)
}

// blockCompressor is pierrec's Compressor or CompressorHC, or lz4Fast: one
// block in, one LZ4 block out. None may be shared between goroutines.
type blockCompressor interface {
	CompressBlock(src, dst []byte) (int, error)
}

type lz4Block struct{ c blockCompressor }

type lz4Encoder struct {
	free *freeList[lz4Block]
}

func newLZ4Encoder(level int) *lz4Encoder {
	newBlock := func() *lz4Block { return &lz4Block{c: new(lz4Fast)} }
	if level != LZ4DefaultLevel {
		depth := lz4Depth(level)
		newBlock = func() *lz4Block { return &lz4Block{c: &lz4.CompressorHC{Level: depth}} }
	}
	return &lz4Encoder{free: newFreeList(newBlock)}
}

func (e *lz4Encoder) compress(dst, src []byte) ([]byte, error) {
	blocks := (len(src) + lz4BlockMax - 1) / lz4BlockMax
	// Room for the header, the end mark and every block at its worst, so
	// that the loop below never reallocates.
	dst = grow(dst, len(lz4Header)+4+blocks*4+lz4.CompressBlockBound(min(len(src), lz4BlockMax))*blocks)
	dst = append(dst, lz4Header[:]...)
	b := e.free.get()
	for len(src) > 0 {
		n := min(len(src), lz4BlockMax)
		at := len(dst)
		bound := lz4.CompressBlockBound(n)
		out := dst[at+4 : at+4+bound]
		m, err := b.c.CompressBlock(src[:n], out)
		if err != nil || m <= 0 || m >= n {
			// Store the block raw, as Java does when compressing does
			// not shrink it; a compressor error leaves the same choice.
			binary.LittleEndian.PutUint32(dst[at:at+4], uint32(n)|lz4Uncompressed)
			copy(dst[at+4:at+4+n], src[:n])
			m = n
		} else {
			binary.LittleEndian.PutUint32(dst[at:at+4], uint32(m))
		}
		dst = dst[:at+4+m]
		src = src[n:]
	}
	e.free.put(b)
	return append(dst, 0, 0, 0, 0), nil
}

// decompressLZ4 appends the content of the LZ4 frame in src to dst,
// accepting what Kafka's Lz4BlockInputStream accepts: version 1,
// independent blocks, block sizes 64 KiB to 4 MiB, optional content size
// (skipped), block checksums and content checksum (verified), and a
// correct descriptor checksum. Bytes after the end mark are ignored, as
// Java ignores them.
func decompressLZ4(dst, src []byte, limit int) ([]byte, error) {
	start := len(dst)
	fail := func(msg string) ([]byte, error) { return dst[:start], corrupt(LZ4, errors.New(msg)) }
	if len(src) < 7 {
		return fail("truncated frame header")
	}
	if binary.LittleEndian.Uint32(src) != lz4Magic {
		return fail("not an LZ4 frame")
	}
	flg, bd := src[4], src[5]
	switch {
	case flg>>6 != 1:
		return fail("unsupported frame version")
	case flg&0x03 != 0:
		return fail("reserved FLG bits set")
	case flg&0x20 == 0:
		return fail("dependent blocks are unsupported")
	case bd&0x8F != 0:
		return fail("reserved BD bits set")
	case bd>>4&7 < 4:
		return fail("invalid block maximum size")
	}
	maxBlock := 1 << (2*int(bd>>4&7) + 8)
	blockSum, contentSum := flg&0x10 != 0, flg&0x04 != 0
	hc := 6
	if flg&0x08 != 0 {
		hc += 8 // content size: Java skips it, and so do we
	}
	if len(src) < hc+1 {
		return fail("truncated frame header")
	}
	if byte(xxh32(src[4:hc])>>8) != src[hc] {
		return fail("frame descriptor checksum mismatch")
	}
	p := src[hc+1:]
	for {
		if len(p) < 4 {
			return fail("truncated frame")
		}
		size := binary.LittleEndian.Uint32(p)
		p = p[4:]
		if size == 0 {
			if contentSum {
				if len(p) < 4 {
					return fail("truncated content checksum")
				}
				if xxh32(dst[start:]) != binary.LittleEndian.Uint32(p) {
					return fail("content checksum mismatch")
				}
			}
			return dst, nil
		}
		raw := size&lz4Uncompressed != 0
		n := int(size &^ lz4Uncompressed)
		if n > maxBlock {
			return fail("block larger than the frame's maximum")
		}
		need := n
		if blockSum {
			need += 4
		}
		if len(p) < need {
			return fail("truncated block")
		}
		block := p[:n]
		if blockSum && xxh32(block) != binary.LittleEndian.Uint32(p[n:]) {
			return fail("block checksum mismatch")
		}
		p = p[need:]
		if raw {
			if len(dst)-start+n > limit {
				return dst[:start], ErrTooLarge
			}
			dst = append(dst, block...)
			continue
		}
		// A block decodes to at most maxBlock bytes, so this growth is
		// bounded by the limit plus one block.
		dst = grow(dst, maxBlock)
		at := len(dst)
		m, err := lz4.UncompressBlock(block, dst[at:at+maxBlock])
		if err != nil {
			return dst[:start], corrupt(LZ4, err)
		}
		if at-start+m > limit {
			return dst[:start], ErrTooLarge
		}
		dst = dst[:at+m]
	}
}
