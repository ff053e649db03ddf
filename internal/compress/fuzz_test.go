package compress

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

const fuzzLimit = 1 << 20

// fuzzDecompress feeds arbitrary input to one codec's decoder: it must
// never panic, never exceed the limit, and leave dst's length alone on
// error.
func fuzzDecompress(f *testing.F, codec Codec) {
	rng := rand.New(rand.NewPCG(12, 13))
	for _, level := range []int{DefaultLevel(codec), 1} {
		comp := mustCompressor(f, codec, level)
		for _, src := range [][]byte{nil, []byte("a"), recordsSection(rng, 2<<10), make([]byte, 70<<10)} {
			packed, _ := comp.Compress(nil, src)
			f.Add(packed)
		}
	}
	d := NewDecompressor(fuzzLimit)
	f.Fuzz(func(t *testing.T, src []byte) {
		out, err := d.Decompress([]byte("dst"), src, codec)
		if err != nil {
			if string(out) != "dst" {
				t.Fatalf("dst changed on error: %q...", out[:min(len(out), 8)])
			}
			return
		}
		if len(out)-3 > fuzzLimit || string(out[:3]) != "dst" {
			t.Fatalf("%d bytes over a %d limit, or dst lost", len(out)-3, fuzzLimit)
		}
	})
}

func FuzzDecompressGzip(f *testing.F)   { fuzzDecompress(f, Gzip) }
func FuzzDecompressSnappy(f *testing.F) { fuzzDecompress(f, Snappy) }
func FuzzDecompressLZ4(f *testing.F)    { fuzzDecompress(f, LZ4) }
func FuzzDecompressZstd(f *testing.F)   { fuzzDecompress(f, Zstd) }

// FuzzRoundTrip compresses arbitrary input with every codec and checks it
// decodes back unchanged.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Add([]byte(`{"a":1,"a":1,"a":1}`), uint8(3))
	comps := make([]*Compressor, 0, 8)
	for _, lc := range levelCases {
		comps = append(comps, mustCompressor(f, lc.codec, lc.levels[0]), mustCompressor(f, lc.codec, DefaultLevel(lc.codec)))
	}
	d := NewDecompressor(fuzzLimit)
	f.Fuzz(func(t *testing.T, src []byte, pick uint8) {
		comp := comps[int(pick)%len(comps)]
		packed, err := comp.Compress(nil, src)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.Decompress(nil, packed, comp.Codec())
		if err != nil || !bytes.Equal(got, src) {
			t.Fatalf("%v/%d: %v", comp.Codec(), comp.Level(), err)
		}
	})
}
