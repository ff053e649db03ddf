package compress

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// payloads are many distinct JSON-like record values of about 100 bytes,
// so that compression sees realistic, not flattering, repetition.
var payloads = sync.OnceValue(func() [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	events := []string{"click", "view", "purchase", "signup", "logout", "search", "share"}
	out := make([][]byte, 1<<16)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"id":%d,"user":"u%06d","event":"%s","ts":%d,"amount":%d.%02d,"session":"%016x","ok":%t}`,
			rng.Int64N(1<<40), rng.IntN(1000000), events[rng.IntN(len(events))],
			1700000000000+rng.Int64N(1<<32), rng.IntN(10000), rng.IntN(100), rng.Uint64(), rng.IntN(2) == 0)
	}
	return out
})

// recordsSection builds a RecordBatch v2 records section of about size
// bytes: varint-framed records with random values drawn from payloads.
func recordsSection(rng *rand.Rand, size int) []byte {
	p := payloads()
	var b []byte
	for i := 0; len(b) < size; i++ {
		v := p[rng.IntN(len(p))]
		var rec []byte
		rec = append(rec, 0)                                  // attributes
		rec = binary.AppendVarint(rec, int64(rng.IntN(5000))) // timestamp delta
		rec = binary.AppendVarint(rec, int64(i))              // offset delta
		rec = binary.AppendVarint(rec, -1)                    // null key
		rec = binary.AppendVarint(rec, int64(len(v)))
		rec = append(rec, v...)
		rec = binary.AppendVarint(rec, 0) // no headers
		b = binary.AppendVarint(b, int64(len(rec)))
		b = append(b, rec...)
	}
	return b
}

// inputs returns named inputs covering the edges: empty, tiny, one LZ4
// block exactly and one byte over, several blocks, and incompressible.
func inputs(t testing.TB) map[string][]byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 100<<10)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	big := recordsSection(rng, 300<<10)
	return map[string][]byte{
		"empty":     {},
		"one":       {'x'},
		"small":     []byte(`{"hello":"world"}`),
		"zeros":     make([]byte, 200<<10),
		"batch16k":  recordsSection(rng, 16<<10),
		"block64k":  big[:64<<10],
		"block64k1": big[:64<<10+1],
		"multi300k": big,
		"random":    random,
	}
}

// levelCases lists every codec with the edges of its level range.
var levelCases = []struct {
	codec  Codec
	levels []int
}{
	{None, []int{0}},
	{Gzip, []int{GzipDefaultLevel, GzipMinLevel, 5, 6, GzipMaxLevel}},
	{Snappy, []int{0}},
	{LZ4, []int{LZ4MinLevel, 2, 8, LZ4DefaultLevel, 10, 12, LZ4MaxLevel}},
	{Zstd, []int{ZstdMinLevel, -1, 0, 1, ZstdDefaultLevel, 6, 10, ZstdMaxLevel}},
}

func mustCompressor(t testing.TB, c Codec, level int) *Compressor {
	t.Helper()
	comp, err := NewCompressor(c, level)
	if err != nil {
		t.Fatalf("NewCompressor(%v, %d): %v", c, level, err)
	}
	return comp
}
