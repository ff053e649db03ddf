package compress

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/pierrec/lz4/v4"
)

// benchBatches are 64 distinct 16 KiB records sections, cycled through so
// that no codec sees the same batch twice in a row.
func benchBatches() [][]byte {
	rng := rand.New(rand.NewPCG(5, 6))
	out := make([][]byte, 64)
	for i := range out {
		out[i] = recordsSection(rng, 16<<10)[:16<<10]
	}
	return out
}

var benchCases = []struct {
	codec Codec
	level int
}{
	{None, 0},
	{Gzip, 1},
	{Gzip, GzipDefaultLevel},
	{Snappy, 0},
	{LZ4, LZ4DefaultLevel},
	{LZ4, 1},
	{Zstd, 1},
	{Zstd, ZstdDefaultLevel},
}

func BenchmarkCompress(b *testing.B) {
	batches := benchBatches()
	for _, bc := range benchCases {
		comp := mustCompressor(b, bc.codec, bc.level)
		b.Run(fmt.Sprintf("%v/%d", bc.codec, bc.level), func(b *testing.B) {
			var dst []byte
			var total int
			b.SetBytes(16 << 10)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				var err error
				dst, err = comp.Compress(dst[:0], batches[i%len(batches)])
				if err != nil {
					b.Fatal(err)
				}
				total += len(dst)
			}
			b.ReportMetric(float64(total)/float64(b.N)/(16<<10), "ratio")
		})
	}
}

// BenchmarkCompressParallel compresses on every P at once through one
// shared Compressor, as the sender does with sealed batches.
func BenchmarkCompressParallel(b *testing.B) {
	batches := benchBatches()
	for _, bc := range benchCases[1:] {
		comp := mustCompressor(b, bc.codec, bc.level)
		b.Run(fmt.Sprintf("%v/%d", bc.codec, bc.level), func(b *testing.B) {
			b.SetBytes(16 << 10)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				var dst []byte
				for i := 0; pb.Next(); i++ {
					dst, _ = comp.Compress(dst[:0], batches[i%len(batches)])
				}
			})
		})
	}
}

func BenchmarkDecompress(b *testing.B) {
	batches := benchBatches()
	d := NewDecompressor(0)
	for _, bc := range benchCases {
		comp := mustCompressor(b, bc.codec, bc.level)
		packed := make([][]byte, len(batches))
		for i, batch := range batches {
			packed[i], _ = comp.Compress(nil, batch)
		}
		b.Run(fmt.Sprintf("%v/%d", bc.codec, bc.level), func(b *testing.B) {
			var dst []byte
			b.SetBytes(16 << 10)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				var err error
				dst, err = d.Decompress(dst[:0], packed[i%len(packed)], bc.codec)
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLZ4Block compares pierrec's two fast block compressors on the
// same batches; BenchmarkLZ4BlockFast compares the faster with lz4Fast.
func BenchmarkLZ4Block(b *testing.B) {
	batches := benchBatches()
	dst := make([]byte, lz4.CompressBlockBound(16<<10))
	run := func(b *testing.B, f func(src, dst []byte) (int, error)) {
		var total int
		b.SetBytes(16 << 10)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			n, _ := f(batches[i%len(batches)], dst)
			total += n
		}
		b.ReportMetric(float64(total)/float64(b.N)/(16<<10), "ratio")
	}
	b.Run("Compressor", func(b *testing.B) { var c lz4.Compressor; run(b, c.CompressBlock) })
	b.Run("CCompat", func(b *testing.B) { var c lz4.CompressorCCompat; run(b, c.CompressBlock) })
}
